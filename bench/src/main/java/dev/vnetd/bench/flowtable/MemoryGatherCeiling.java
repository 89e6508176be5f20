package dev.vnetd.bench.flowtable;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The memory ceiling of a 1 M-flow lookup on this machine, without any table: how many random 64-byte lines of a
 * 128 MB region (the size of the table's hot slots at 1 M flows) one thread can pull per second. Four ways, measured
 * in turn in slices of {@value #SLICE} lines for a number of seconds (argument, default 20), best and median slice:
 * <ul>
 *   <li>{@code chase}: each line's address depends on the previous line's content: one miss at a time, the latency.
 *   <li>{@code gather}: independent lines, the index computed and the line loaded in one loop: as many misses in
 *       flight as the out-of-order window allows.
 *   <li>{@code batch}: batches of {@value #BATCH}: the indexes of a batch first, then a loop that only loads: the
 *       shape of {@code FlowTable.lookup(FlowLookupBatch)}'s slot pass.
 *   <li>{@code tagged}: batches of {@value #BATCH}, each line chosen by a load from a 1.2 MB array first (the
 *       table's tag words, mostly cached), then the line: the table's two loads per key without its other work.
 * </ul>
 * The region is a heap array on transparent huge pages (run with {@code -XX:+UseTransparentHugePages}), as the table
 * is. Holds JMH's lock while measuring. Prints {@code flowtable ceiling <way> best_lines_per_s=... median=...
 * ns_per_line=...} per way.
 */
public final class MemoryGatherCeiling {
    static final int SLICE = 1 << 20;
    static final int BATCH = 32;
    /** 128 MiB of longs: the hot slots of a 1 M-flow table are 1.2 M * 8 / 8 * 64 B = 123 MB. */
    private static final int LONGS = 16 << 20;
    private static final int LINES = LONGS / 8;
    /** About the table's tag words at 1 M flows: 150,000 buckets * 8 B. */
    private static final int TAG_LONGS = 150_000;
    private static final String[] WAYS = {"chase", "gather", "batch", "tagged"};
    private static final Path JMH_LOCK = Path.of(System.getProperty("java.io.tmpdir"), "jmh.lock");
    private static volatile long sink;

    private final long[] region = new long[LONGS];
    private final long[] tags = new long[TAG_LONGS];
    private final int[] lines = new int[BATCH];
    private long seed = 1;
    private int position;

    private MemoryGatherCeiling() {
        // a random cyclic permutation of lines for chase: line i's first long holds the next line's index
        int[] order = new int[LINES];
        for (int i = 0; i < LINES; i++) {
            order[i] = i;
        }
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        for (int i = LINES - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        for (int i = 0; i < LINES; i++) {
            region[order[i] * 8] = order[(i + 1) % LINES];
        }
        for (int i = 0; i < TAG_LONGS; i++) {
            tags[i] = random.nextLong();
        }
    }

    /** Measures for {@code args[0]} seconds (default 20) and prints one line per way. */
    public static void main(String[] args) throws IOException {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 20;
        MemoryGatherCeiling run = new MemoryGatherCeiling();
        long results = 0;
        for (int round = 0; round < 5; round++) {
            for (int way = 0; way < WAYS.length; way++) {
                results += run.measure(way);
            }
        }
        double[][] rates = new double[WAYS.length][4096];
        int slices = 0;
        try (FileChannel channel = FileChannel.open(JMH_LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = channel.lock()) {
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < end && slices < 4096) {
                for (int way = 0; way < WAYS.length; way++) {
                    long start = System.nanoTime();
                    results += run.measure(way);
                    rates[way][slices] = SLICE / ((System.nanoTime() - start) / 1e9);
                }
                slices++;
            }
        }
        for (int way = 0; way < WAYS.length; way++) {
            double[] sorted = Arrays.copyOf(rates[way], slices);
            Arrays.sort(sorted);
            System.out.printf("flowtable ceiling %s slices=%d best_lines_per_s=%.0f median=%.0f ns_per_line=%.1f%n",
                    WAYS[way], slices, sorted[slices - 1], sorted[slices / 2], 1e9 / sorted[slices - 1]);
        }
        sink = results;
    }

    private long measure(int way) {
        return switch (way) {
            case 0 -> chase();
            case 1 -> gather();
            case 2 -> batch();
            default -> tagged();
        };
    }

    private long chase() {
        long[] r = region;
        int line = position;
        for (int n = 0; n < SLICE; n++) {
            line = (int) r[line * 8];
        }
        position = line;
        return line;
    }

    private long gather() {
        long[] r = region;
        long s = seed;
        long sum = 0;
        for (int n = 0; n < SLICE; n++) {
            s = s * 0x9E37_79B9_7F4A_7C15L + 1;
            sum += r[(int) ((s >>> 40) * LINES >>> 24) * 8];
        }
        seed = s;
        return sum;
    }

    private long batch() {
        long[] r = region;
        int[] l = lines;
        long s = seed;
        long sum = 0;
        for (int n = 0; n < SLICE; n += BATCH) {
            for (int b = 0; b < BATCH; b++) {
                s = s * 0x9E37_79B9_7F4A_7C15L + 1;
                l[b] = (int) ((s >>> 40) * LINES >>> 24);
            }
            for (int b = 0; b < BATCH; b++) {
                sum += r[l[b] * 8];
            }
        }
        seed = s;
        return sum;
    }

    private long tagged() {
        long[] r = region;
        long[] t = tags;
        int[] l = lines;
        long s = seed;
        long sum = 0;
        for (int n = 0; n < SLICE; n += BATCH) {
            for (int b = 0; b < BATCH; b++) {
                s = s * 0x9E37_79B9_7F4A_7C15L + 1;
                long tag = t[(int) ((s >>> 40) * TAG_LONGS >>> 24)];
                l[b] = (int) (((s >>> 16 ^ tag & 7) & 0xFF_FFFF) * LINES >>> 24);
            }
            for (int b = 0; b < BATCH; b++) {
                sum += r[l[b] * 8];
            }
        }
        seed = s;
        return sum;
    }
}
