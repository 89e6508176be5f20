package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
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
 * Single-route IPv4 updates/s on a full table, BGP-churn style: each invocation withdraws a random route of the table
 * and announces it again (two updates). The whole-table rebuilds that reclaim abandoned subtrees happen inside the
 * measurement, so the score is the amortised rate.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Ipv4UpdateBenchmark {
    @Param("bench/results/routes-v4-1000000.txt")
    public String routes;

    private RouteFiles.V4Routes r;
    private Ipv4Lpm lpm;
    private int[] order;
    private int next;

    @Setup
    public void setUp() {
        r = RouteFiles.v4Routes(routes);
        lpm = Ipv4Lpm.build(r.prefixes(), r.lengths(), r.values(), r.count());
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
        boolean removed = lpm.remove(r.prefixes()[i], r.lengths()[i]);
        lpm.add(r.prefixes()[i], r.lengths()[i], r.values()[i]);
        return removed;
    }
}
