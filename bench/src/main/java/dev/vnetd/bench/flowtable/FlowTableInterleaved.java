package dev.vnetd.bench.flowtable;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

import dev.vnetd.flowtable.FlowLookupBatch;
import dev.vnetd.flowtable.FlowTable;

/**
 * Lookups at 1 M flows measured the way a shared, busy machine allows: the table one key at a time, the table in
 * batches of {@link FlowTableBatchLookupBenchmark#BATCH} and {@link ConcurrentHashMap}, in turn, in slices of
 * {@value #SLICE} lookups, for a number of seconds (argument, default 60). Each contender sees the same
 * interference from other processes, so the ratios of their best (neighbours idle) and 75th-percentile slices are
 * steadier than JMH means taken minutes apart. Same keys, fill order, walk and per-lookup work as the JMH
 * benchmarks. Holds JMH's lock ({@code /tmp/jmh.lock}) while measuring, so no JMH run overlaps it. Prints
 * {@code flowtable interleaved slices=N lookups_per_s=... batch_lookups_per_s=... chm_lookups_per_s=...
 * lookup_vs_chm=... batch_vs_chm=... p75_lookup_vs_chm=... p75_batch_vs_chm=...} (best slices unless named p75).
 */
public final class FlowTableInterleaved {
    static final int SLICE = 1 << 18;
    private static final int WARMUP_ROUNDS = 5;
    private static final Path JMH_LOCK = Path.of(System.getProperty("java.io.tmpdir"), "jmh.lock");
    /** Where the lookups' results go, so the compiler cannot drop the work. */
    private static volatile int sink;

    private final FlowKeys keys;
    private final FlowTable table;
    private final ConcurrentHashMap<ChmLookupBenchmark.FlowKey, ChmLookupBenchmark.Flow> flows;
    private final FlowLookupBatch batch = new FlowLookupBatch(FlowTableBatchLookupBenchmark.BATCH);
    private int next;

    private FlowTableInterleaved() {
        ChmLookupBenchmark.Map map = new ChmLookupBenchmark.Map();
        map.fill();
        keys = map.keys;
        flows = map.flows;
        table = keys.fill();
    }

    /** Measures for {@code args[0]} seconds (default 60) and prints the result line. */
    public static void main(String[] args) throws IOException {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 60;
        FlowTableInterleaved run = new FlowTableInterleaved();
        int results = 0;
        for (int round = 0; round < WARMUP_ROUNDS; round++) {
            results += run.single() + run.batched() + run.chm();
        }
        double[][] rates = new double[3][];
        int slices = 0;
        try (FileChannel channel = FileChannel.open(JMH_LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = channel.lock()) {
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            double[][] grow = new double[3][64];
            while (System.nanoTime() < end) {
                if (slices == grow[0].length) {
                    for (int c = 0; c < 3; c++) {
                        grow[c] = Arrays.copyOf(grow[c], slices * 2);
                    }
                }
                for (int c = 0; c < 3; c++) {
                    long start = System.nanoTime();
                    results += c == 0 ? run.single() : c == 1 ? run.batched() : run.chm();
                    grow[c][slices] = SLICE / ((System.nanoTime() - start) / 1e9);
                }
                slices++;
            }
            for (int c = 0; c < 3; c++) {
                rates[c] = Arrays.copyOf(grow[c], slices);
                Arrays.sort(rates[c]);
            }
        } finally {
            run.table.close();
        }
        double[] best = {rates[0][slices - 1], rates[1][slices - 1], rates[2][slices - 1]};
        int p75 = slices * 3 / 4;
        System.out.printf("flowtable interleaved slices=%d lookups_per_s=%.0f batch_lookups_per_s=%.0f"
                + " chm_lookups_per_s=%.0f lookup_vs_chm=%.2f batch_vs_chm=%.2f p75_lookup_vs_chm=%.2f"
                + " p75_batch_vs_chm=%.2f%n", slices, best[0], best[1], best[2], best[0] / best[2], best[1] / best[2],
                rates[0][p75] / rates[2][p75], rates[1][p75] / rates[2][p75]);
        sink = results;
    }

    /** {@value #SLICE} single lookups, each reading the flow's egress tunnel, as the JMH lookup benchmark does. */
    private int single() {
        FlowKeys k = keys;
        int i = next;
        int sum = 0;
        for (int n = 0; n < SLICE; n++) {
            long handle = table.lookup(k.vn[i], FlowTable.FAMILY_IPV4, k.proto[i], 0, k.src[i], 0, k.dst[i],
                    k.sport[i], k.dport[i]);
            sum += handle < 0 ? -1 : table.egressTunnel(FlowTable.slot(handle));
            i = i + 1 == FlowKeys.FLOWS ? 0 : i + 1;
        }
        next = i;
        return sum;
    }

    /** {@value #SLICE} lookups in batches, as the JMH batch benchmark does. */
    private int batched() {
        FlowKeys k = keys;
        int i = next;
        int sum = 0;
        for (int n = 0; n < SLICE; n += batch.capacity()) {
            batch.clear();
            for (int b = 0; b < batch.capacity(); b++) {
                batch.add(k.vn[i], FlowTable.FAMILY_IPV4, k.proto[i], 0, k.src[i], 0, k.dst[i], k.sport[i],
                        k.dport[i]);
                i = i + 1 == FlowKeys.FLOWS ? 0 : i + 1;
            }
            table.lookup(batch);
            for (int b = 0; b < batch.size(); b++) {
                long handle = batch.handle(b);
                sum += handle < 0 ? -1 : table.egressTunnel(FlowTable.slot(handle));
            }
        }
        next = i;
        return sum;
    }

    /** {@value #SLICE} ConcurrentHashMap lookups with a record key built per lookup, as the JMH yardstick does. */
    private int chm() {
        FlowKeys k = keys;
        int i = next;
        int sum = 0;
        for (int n = 0; n < SLICE; n++) {
            ChmLookupBenchmark.Flow flow = flows.get(new ChmLookupBenchmark.FlowKey(k.vn[i], FlowTable.FAMILY_IPV4,
                    k.proto[i], 0, k.src[i], 0, k.dst[i], k.sport[i], k.dport[i]));
            sum += flow == null ? -1 : flow.egressTunnel;
            i = i + 1 == FlowKeys.FLOWS ? 0 : i + 1;
        }
        next = i;
        return sum;
    }
}
