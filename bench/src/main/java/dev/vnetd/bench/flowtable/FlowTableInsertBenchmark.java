package dev.vnetd.bench.flowtable;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;

/**
 * Flow creation: insert 1 M new flows into an empty table of capacity 1 M, one shot per iteration on a fresh table
 * (the score is the time for all 1 M inserts; inserts per second = 1 M / score). The last inserts run into full
 * buckets, so the early-drop path is part of the measurement.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Thread)
public class FlowTableInsertBenchmark {
    FlowKeys keys;
    FlowTable table;

    /** Builds the keys once per fork. */
    @Setup(Level.Trial)
    public void keys() {
        keys = new FlowKeys();
    }

    /** A fresh, empty table for each shot. */
    @Setup(Level.Iteration)
    public void allocate() {
        table = FlowTable.allocate(FlowKeys.FLOWS, FlowTimeouts.DEFAULTS);
    }

    /** Frees the shot's table. */
    @TearDown(Level.Iteration)
    public void free() {
        table.close();
    }

    /** Inserts every key; returns the live count so nothing is dead code. */
    @Benchmark
    public int insertAll() {
        keys.insertAll(table);
        return table.liveFlows();
    }
}
