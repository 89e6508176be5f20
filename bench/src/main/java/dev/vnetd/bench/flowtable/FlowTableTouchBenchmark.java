package dev.vnetd.bench.flowtable;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;

/**
 * What a worker does to a flow for every ARR packet after finding it: {@link FlowTable#touch} (last seen, the
 * direction's packet and byte counters; no state change, so no seqlock). {@code flows} = 1 is the one-flow pipeline
 * case (one cache line, always in L1); 1024 flows, touched in turn, stay in L1/L2 too: the figure is the cost of
 * the instructions, the counters' adds above all, not of cache misses. One thread, as one worker owns a direction.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Thread)
public class FlowTableTouchBenchmark {
    private static final long NOW = 1_700_000_000_000L;

    /** Flows touched in turn. */
    @Param({"1", "1024"})
    public int flows;

    private FlowTable table;
    private int[] slots;
    private int next;

    /** Inserts the flows. */
    @Setup(Level.Trial)
    public void fill() {
        table = FlowTable.allocate(4096, FlowTimeouts.DEFAULTS);
        slots = new int[flows];
        for (int i = 0; i < flows; i++) {
            long handle = table.insert(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, 0x0A00_0000L + i, 0,
                    0xC0A8_0001L, 10_000 + i, 443, 1, 2, FlowTable.NO_PORT, 0, NOW);
            slots[i] = FlowTable.slot(handle);
        }
    }

    /** Frees the table. */
    @TearDown(Level.Trial)
    public void free() {
        table.close();
    }

    /** One packet of 108 bytes accounted to the next flow, in the direction of its key. */
    @Benchmark
    public void touch() {
        int i = next;
        next = i + 1 == flows ? 0 : i + 1;
        table.touch(slots[i], true, 108, 0, NOW);
    }
}
