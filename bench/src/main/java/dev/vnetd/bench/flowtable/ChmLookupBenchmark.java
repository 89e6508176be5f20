package dev.vnetd.bench.flowtable;

import java.util.concurrent.ConcurrentHashMap;
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

import dev.vnetd.flowtable.FlowTable;

/**
 * The yardstick for {@link FlowTableLookupBenchmark}: the same 1 M flows in a {@link ConcurrentHashMap} with a record
 * key and a value object holding the same fields, the same keys in the same order. A worker builds the key from
 * the parsed packet, so each lookup constructs one record, as the on-heap design would.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class ChmLookupBenchmark {
    /** The flow key as a Java record. */
    record FlowKey(int vn, int family, int proto, long srcHigh, long srcLow, long dstHigh, long dstLow, int sport,
            int dport) {
    }

    /** The flow's value fields, as in the off-heap slot. */
    static final class Flow {
        final int originTunnel;
        final int egressTunnel;
        final long createdMillis;
        volatile int lastSeen;
        volatile long packetsFromOrigin;
        volatile long bytesFromOrigin;
        volatile long packetsToOrigin;
        volatile long bytesToOrigin;
        volatile int tcpState;

        Flow(int originTunnel, int egressTunnel, long createdMillis) {
            this.originTunnel = originTunnel;
            this.egressTunnel = egressTunnel;
            this.createdMillis = createdMillis;
        }
    }

    /** The filled map, shared by all benchmark threads. */
    @State(Scope.Benchmark)
    public static class Map {
        FlowKeys keys;
        ConcurrentHashMap<FlowKey, Flow> flows;

        /** Fills the map once per fork. */
        @Setup(Level.Trial)
        public void fill() {
            keys = new FlowKeys();
            flows = new ConcurrentHashMap<>(2 * FlowKeys.FLOWS);
            for (int i : keys.insertionOrder) {
                flows.putIfAbsent(new FlowKey(keys.vn[i], FlowTable.FAMILY_IPV4, keys.proto[i], 0, keys.src[i], 0,
                        keys.dst[i], keys.sport[i], keys.dport[i]),
                        new Flow(i & 0xFFF, i & 0xFF, FlowKeys.NOW_MILLIS));
            }
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
    public int lookup(Map state, Cursor cursor) {
        int i = cursor.next;
        cursor.next = i + 1 == FlowKeys.FLOWS ? 0 : i + 1;
        FlowKeys k = state.keys;
        Flow flow = state.flows.get(new FlowKey(k.vn[i], FlowTable.FAMILY_IPV4, k.proto[i], 0, k.src[i], 0, k.dst[i],
                k.sport[i], k.dport[i]));
        return flow == null ? -1 : flow.egressTunnel;
    }
}
