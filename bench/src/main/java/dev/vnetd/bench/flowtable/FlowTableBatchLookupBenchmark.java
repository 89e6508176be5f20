package dev.vnetd.bench.flowtable;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import dev.vnetd.flowtable.FlowLookupBatch;
import dev.vnetd.flowtable.FlowTable;

/**
 * A worker's flow lookups for one receive batch of {@value #BATCH} packets through
 * {@link FlowTable#lookup(FlowLookupBatch)}, reading each found flow's egress tunnel; same table, keys and order as
 * {@link FlowTableLookupBenchmark}. Scores are lookups per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class FlowTableBatchLookupBenchmark {
    /**
     * Keys per batch: the dataplane's receive batch ({@code PacketPath.MAX_BATCH} and {@code SocketQueue.RX_BATCH},
     * 64), whose keys a worker looks up in one call. Until flow4 this was 32; 64 measured 1.04x of 32 (interleaved),
     * because the table's waits for memory are per batch and a larger batch overlaps more misses in each.
     */
    public static final int BATCH = 64;

    /** Each thread has its batch and walks the keys from its own starting point. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
        final FlowLookupBatch batch = new FlowLookupBatch(BATCH);

        /** Spreads threads over the key space. */
        @Setup(Level.Trial)
        public void start() {
            next = (int) (Thread.currentThread().threadId() * 7919 % FlowKeys.FLOWS);
        }
    }

    /** {@value #BATCH} lookups and reads of the flows' egress tunnels. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int lookupBatch(FlowTableLookupBenchmark.Table state, Cursor cursor) {
        FlowKeys k = state.keys;
        FlowLookupBatch batch = cursor.batch;
        batch.clear();
        int next = cursor.next;
        for (int n = 0; n < BATCH; n++) {
            int i = next;
            next = next + 1 == FlowKeys.FLOWS ? 0 : next + 1;
            batch.add(k.vn[i], FlowTable.FAMILY_IPV4, k.proto[i], 0, k.src[i], 0, k.dst[i], k.sport[i], k.dport[i]);
        }
        cursor.next = next;
        state.table.lookup(batch);
        int sum = 0;
        for (int n = 0; n < BATCH; n++) {
            long handle = batch.handle(n);
            sum += handle < 0 ? -1 : state.table.egressTunnel(FlowTable.slot(handle));
        }
        return sum;
    }
}
