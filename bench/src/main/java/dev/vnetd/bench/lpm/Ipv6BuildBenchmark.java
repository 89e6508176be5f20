package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv6Lpm;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Seconds to bulk-build an IPv6 table from the whole route file (parsing excluded). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Ipv6BuildBenchmark {
    @Param("bench/results/routes-v6-200000.txt")
    public String routes;

    private RouteFiles.V6Routes r;

    @Setup
    public void setUp() {
        r = RouteFiles.v6Routes(routes);
    }

    @Benchmark
    public Ipv6Lpm build() {
        return Ipv6Lpm.build(r.highs(), r.lows(), r.lengths(), r.values(), r.count());
    }
}
