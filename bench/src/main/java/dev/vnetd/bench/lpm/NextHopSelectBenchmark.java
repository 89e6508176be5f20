package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.nexthop.FlowHash;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Nanoseconds per next-hop selection (hash of the 5-tuple included) for a group of {@link #entries} entries at one
 * priority, with equal weights (no logarithm) or weights 1..entries (one logarithm per entry), one tunnel degraded.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class NextHopSelectBenchmark {
    @Param({"4", "16", "64"})
    public int entries;

    @Param({"true", "false"})
    public boolean equalWeights;

    private NextHopGroup group;
    private TunnelHealth health;
    private int flow;

    @Setup
    public void setUp() {
        int[] tunnels = new int[entries];
        int[] weights = new int[entries];
        for (int i = 0; i < entries; i++) {
            tunnels[i] = i;
            weights[i] = equalWeights ? 1 : 1 + i;
        }
        group = new NextHopGroup(tunnels, new int[entries], weights);
        health = new TunnelHealth(entries);
        health.state(0, TunnelHealth.DEGRADED);
    }

    @Benchmark
    public int select() {
        int f = flow++;
        return group.select(FlowHash.ipv4(0x0A00_0000 + f, 0xC0A8_0001, 6, 40_000 + (f & 0x3FFF), 443), health);
    }
}
