package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv6Lpm;
import java.util.Random;
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
 * Single-route IPv6 updates/s on a full table, BGP-churn style: each invocation withdraws a random route of the table
 * and announces it again (two updates). The whole-table rebuilds that reclaim abandoned subtrees happen inside the
 * measurement, so the score is the amortised rate.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Ipv6UpdateBenchmark {
    @Param("bench/results/routes-v6-200000.txt")
    public String routes;

    private RouteFiles.V6Routes r;
    private Ipv6Lpm lpm;
    private int[] order;
    private int next;

    @Setup
    public void setUp() {
        r = RouteFiles.v6Routes(routes);
        lpm = Ipv6Lpm.build(r.highs(), r.lows(), r.lengths(), r.values(), r.count());
        Random random = new Random(1);
        order = new int[1 << 20];
        for (int i = 0; i < order.length; i++) {
            order[i] = random.nextInt(r.count());
        }
    }

    @Benchmark
    @OperationsPerInvocation(2)
    public boolean withdrawAndAnnounce() {
        int i = order[next++ & (order.length - 1)];
        boolean removed = lpm.remove(r.highs()[i], r.lows()[i], r.lengths()[i]);
        lpm.add(r.highs()[i], r.lows()[i], r.lengths()[i], r.values()[i]);
        return removed;
    }
}
