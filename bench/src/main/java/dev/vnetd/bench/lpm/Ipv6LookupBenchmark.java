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
 * Single-thread IPv6 lookups/s: each invocation looks up the next {@link #BATCH} keys of the key file (wrapping
 * around), so the score in ops/s is lookups/s and the measured code is the lookup loop itself.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Ipv6LookupBenchmark {
    /** Keys per invocation: large enough to hide the call, small enough that an invocation stays short. */
    static final int BATCH = 4096;

    @Param("bench/results/routes-v6-200000.txt")
    public String routes;

    @Param("bench/results/keys-v6-2000000.txt")
    public String keys;

    private Ipv6Lpm lpm;
    private long[] keyArray;
    private int next;

    @Setup
    public void setUp() {
        RouteFiles.V6Routes r = RouteFiles.v6Routes(routes);
        lpm = Ipv6Lpm.build(r.highs(), r.lows(), r.lengths(), r.values(), r.count());
        long[] all = RouteFiles.v6Keys(keys);
        keyArray = java.util.Arrays.copyOf(all, all.length / (2 * BATCH) * 2 * BATCH);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int lookups() {
        long[] k = keyArray;
        int from = next;
        int sum = 0;
        for (int i = from; i < from + 2 * BATCH; i += 2) {
            sum += lpm.lookup(k[i], k[i + 1]);
        }
        next = from + 2 * BATCH == k.length ? 0 : from + 2 * BATCH;
        return sum;
    }
}
