package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Seconds to bulk-build an IPv4 table from the whole route file (parsing excluded). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Ipv4BuildBenchmark {
    @Param("bench/results/routes-v4-1000000.txt")
    public String routes;

    private RouteFiles.V4Routes r;

    @Setup
    public void setUp() {
        r = RouteFiles.v4Routes(routes);
    }

    @Benchmark
    public Ipv4Lpm build() {
        return Ipv4Lpm.build(r.prefixes(), r.lengths(), r.values(), r.count());
    }
}
