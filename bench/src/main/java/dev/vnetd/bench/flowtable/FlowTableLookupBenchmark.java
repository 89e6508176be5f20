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

/**
 * A worker's flow lookup: find the flow of a parsed packet among 1 M flows and read its pinned next hop. Keys are
 * visited in random order, so nearly every lookup misses the CPU caches, as on a busy edge. One key at a time: what
 * a worker does with {@link FlowTable#lookup(int, int, int, long, long, long, long, int, int)}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class FlowTableLookupBenchmark {
    /** The filled table, shared by all benchmark threads. */
    @State(Scope.Benchmark)
    public static class Table {
        FlowKeys keys;
        FlowTable table;

        /** Fills the table once per fork. */
        @Setup(Level.Trial)
        public void fill() {
            keys = new FlowKeys();
            table = keys.fill();
        }

        /** Frees the table. */
        @TearDown(Level.Trial)
        public void free() {
            table.close();
        }
    }

    /** Each thread walks the keys from its own starting point. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;

        /** Spreads threads over the key space. */
        @Setup(Level.Trial)
        public void start() {
            next = (int) (Thread.currentThread().threadId() * 7919 % FlowKeys.FLOWS);
        }
    }

    /** One lookup and one read of the flow's egress tunnel. */
    @Benchmark
    public int lookup(Table state, Cursor cursor) {
        int i = cursor.next;
        cursor.next = i + 1 == FlowKeys.FLOWS ? 0 : i + 1;
        FlowKeys k = state.keys;
        long handle = state.table.lookup(k.vn[i], FlowTable.FAMILY_IPV4, k.proto[i], 0, k.src[i], 0, k.dst[i],
                k.sport[i], k.dport[i]);
        return handle < 0 ? -1 : state.table.egressTunnel(FlowTable.slot(handle));
    }
}
