package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
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
 * Single-thread IPv4 single lookups/s through a reader's view ({@code Ipv4Lpm.view()}), taken once per
 * {@link #VECTOR} keys as a worker takes it once per receive batch: otherwise as {@link Ipv4LookupBenchmark}, whose
 * keys, invocation size and score it shares.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Ipv4ViewLookupBenchmark {
    /** Keys per invocation, as in {@link Ipv4LookupBenchmark}. */
    static final int BATCH = 4096;
    /** Lookups per view, a worker's receive batch. */
    static final int VECTOR = 64;

    @Param("bench/results/routes-v4-1000000.txt")
    public String routes;

    @Param("bench/results/keys-v4-2000000.txt")
    public String keys;

    private Ipv4Lpm lpm;
    private int[] keyArray;
    private int next;

    @Setup
    public void setUp() {
        RouteFiles.V4Routes r = RouteFiles.v4Routes(routes);
        lpm = Ipv4Lpm.build(r.prefixes(), r.lengths(), r.values(), r.count());
        int[] all = RouteFiles.v4Keys(keys);
        keyArray = java.util.Arrays.copyOf(all, all.length / BATCH * BATCH);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int lookups() {
        int[] k = keyArray;
        int from = next;
        int sum = 0;
        for (int v = from; v < from + BATCH; v += VECTOR) {
            Ipv4Lpm.View view = lpm.view();
            for (int i = v; i < v + VECTOR; i++) {
                sum += view.lookup(k[i]);
            }
        }
        next = from + BATCH == k.length ? 0 : from + BATCH;
        return sum;
    }
}
