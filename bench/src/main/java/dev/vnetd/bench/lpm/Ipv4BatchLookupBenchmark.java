package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Single-thread IPv4 batch lookups/s ({@code Ipv4Lpm.lookup(int[], int[], int)}): each invocation looks up the next
 * {@link #BATCH} keys of the key file (wrapping around) in calls of {@link #VECTOR} addresses, a receive batch, so
 * the score in ops/s is lookups/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Ipv4BatchLookupBenchmark {
    /** Keys per invocation, as in {@link Ipv4LookupBenchmark}. */
    static final int BATCH = 4096;
    /** Addresses per call, a worker's receive batch. */
    static final int VECTOR = 64;

    @Param("bench/results/routes-v4-1000000.txt")
    public String routes;

    @Param("bench/results/keys-v4-2000000.txt")
    public String keys;

    private Ipv4Lpm lpm;
    private int[][] vectors;
    private final int[] results = new int[VECTOR];
    private int next;

    @Setup
    public void setUp() {
        RouteFiles.V4Routes r = RouteFiles.v4Routes(routes);
        lpm = Ipv4Lpm.build(r.prefixes(), r.lengths(), r.values(), r.count());
        int[] all = RouteFiles.v4Keys(keys);
        vectors = new int[all.length / BATCH * BATCH / VECTOR][];
        for (int v = 0; v < vectors.length; v++) {
            vectors[v] = Arrays.copyOfRange(all, v * VECTOR, (v + 1) * VECTOR);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int lookups() {
        int from = next;
        int sum = 0;
        int[] r = results;
        for (int v = from; v < from + BATCH / VECTOR; v++) {
            lpm.lookup(vectors[v], r, VECTOR);
            sum += r[0] + r[VECTOR - 1];
        }
        next = from + BATCH / VECTOR == vectors.length ? 0 : from + BATCH / VECTOR;
        return sum;
    }
}
