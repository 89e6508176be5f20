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
 * Single-thread IPv4 lookups/s: each invocation looks up the next {@link #BATCH} keys of the key file (wrapping
 * around), so the score in ops/s is lookups/s and the measured code is the lookup loop itself.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Ipv4LookupBenchmark {
    /** Keys per invocation: large enough to hide the call, small enough that an invocation stays short. */
    static final int BATCH = 4096;

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
        for (int i = from; i < from + BATCH; i++) {
            sum += lpm.lookup(k[i]);
        }
        next = from + BATCH == k.length ? 0 : from + BATCH;
        return sum;
    }
}
