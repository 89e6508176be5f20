package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv6Lpm;
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
 * Single-thread IPv6 batch lookups/s ({@code Ipv6Lpm.lookup(long[], long[], int[], int)}): each invocation looks up
 * the next {@link #BATCH} keys of the key file (wrapping around) in calls of {@link #VECTOR} addresses, a receive
 * batch, so the score in ops/s is lookups/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Ipv6BatchLookupBenchmark {
    /** Keys per invocation, as in {@link Ipv6LookupBenchmark}. */
    static final int BATCH = 4096;
    /** Addresses per call, a worker's receive batch. */
    static final int VECTOR = 64;

    @Param("bench/results/routes-v6-200000.txt")
    public String routes;

    @Param("bench/results/keys-v6-2000000.txt")
    public String keys;

    private Ipv6Lpm lpm;
    private long[][] highs;
    private long[][] lows;
    private final int[] results = new int[VECTOR];
    private int next;

    @Setup
    public void setUp() {
        RouteFiles.V6Routes r = RouteFiles.v6Routes(routes);
        lpm = Ipv6Lpm.build(r.highs(), r.lows(), r.lengths(), r.values(), r.count());
        long[] all = RouteFiles.v6Keys(keys);
        int vectors = all.length / 2 / BATCH * BATCH / VECTOR;
        highs = new long[vectors][VECTOR];
        lows = new long[vectors][VECTOR];
        for (int v = 0; v < vectors; v++) {
            for (int i = 0; i < VECTOR; i++) {
                highs[v][i] = all[2 * (v * VECTOR + i)];
                lows[v][i] = all[2 * (v * VECTOR + i) + 1];
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int lookups() {
        int from = next;
        int sum = 0;
        int[] r = results;
        for (int v = from; v < from + BATCH / VECTOR; v++) {
            lpm.lookup(highs[v], lows[v], r, VECTOR);
            sum += r[0] + r[VECTOR - 1];
        }
        next = from + BATCH / VECTOR == highs.length ? 0 : from + BATCH / VECTOR;
        return sum;
    }
}
