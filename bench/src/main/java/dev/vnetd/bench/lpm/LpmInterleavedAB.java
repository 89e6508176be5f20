package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/**
 * Two builds of the IPv4 LPM compared in one JVM, the way a shared, busy machine allows: each build's
 * {@code dataplane} classes (a {@code target/classes} directory or a jar) in its own class loader with its own
 * 1 M-route table, slices of {@value Driver#SLICE} lookups of one side then the other (the order swapped every
 * round), so that both sides see the same interference, and the median of the per-round ratio B / A with its
 * quartiles. JMH forks of one build minutes apart move by 2x on this machine; these ratios resolve about 5-10 %.
 *
 * <pre>
 *   java $VNETD_JVM_FLAGS -cp bench/target/benchmarks.jar dev.vnetd.bench.lpm.LpmInterleavedAB \
 *       A_CLASSES B_CLASSES MODES SECONDS [ROUTES KEYS]
 *   MODES: comma-separated, 0 = Ipv4Lpm.lookup(int) (Ipv4LookupBenchmark's loop), 1 = through a view taken every
 *          64 keys (Ipv4ViewLookupBenchmark's), 2 = batches of 64 (Ipv4BatchLookupBenchmark's)
 *   prints per mode: lpm ab mode=M rounds=N ratio=MEDIAN p25=.. p75=.. a_lookups_per_s=.. b_lookups_per_s=..
 * </pre>
 *
 * Routes and keys default to {@code bench/results}' gen-routes.py files. Both sides are checked to give the same
 * answers first. Holds JMH's lock ({@code /tmp/jmh.lock}) while measuring, so no JMH run overlaps it. Run an A/A
 * (the same classes twice) for the noise floor: the table built second has measured up to 5 % slower or faster than
 * the first (where each lands in memory), so run a close A/B in both orders.
 */
public final class LpmInterleavedAB {
    private static final int WARMUP_ROUNDS = 15;
    private static final Path JMH_LOCK = Path.of(System.getProperty("java.io.tmpdir"), "jmh.lock");
    /** Where the lookups' results go, so the compiler cannot drop the work. */
    private static volatile int sink;

    private LpmInterleavedAB() {
    }

    /** Measures and prints one line per mode; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        int[] modes = Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray();
        long nanos = (long) (Double.parseDouble(args[3]) * 1e9);
        RouteFiles.V4Routes routes = RouteFiles.v4Routes(args.length > 4 ? args[4]
                : "bench/results/routes-v4-1000000.txt");
        int[] keys = RouteFiles.v4Keys(args.length > 5 ? args[5] : "bench/results/keys-v4-2000000.txt");
        URL bench = LpmInterleavedAB.class.getProtectionDomain().getCodeSource().getLocation();
        // Agrona (the LPM's unchecked reads): inside the benchmarks jar, or its own jar when run from target/classes
        URL agrona = Class.forName("org.agrona.UnsafeApi").getProtectionDomain().getCodeSource().getLocation();
        IntUnaryOperator[] sides = new IntUnaryOperator[2];
        for (int s = 0; s < 2; s++) {
            // the side's classes first: the benchmarks jar also holds a dataplane, which must not win
            URLClassLoader loader = new URLClassLoader(new URL[] {Path.of(args[s]).toUri().toURL(), bench, agrona},
                    ClassLoader.getPlatformClassLoader());
            sides[s] = (IntUnaryOperator) loader.loadClass(Driver.class.getName())
                    .getConstructor(int[].class, int[].class, int[].class, int[].class)
                    .newInstance(routes.prefixes(), routes.lengths(), routes.values(), keys);
        }
        for (int mode : modes) {
            if (sides[0].applyAsInt(mode) != sides[1].applyAsInt(mode)) {
                throw new IllegalStateException("the two builds answer differently in mode " + mode);
            }
        }
        try (FileChannel channel = FileChannel.open(JMH_LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = channel.lock()) {
            for (int mode : modes) {
                measure(sides, mode, nanos);
            }
        }
    }

    private static void measure(IntUnaryOperator[] sides, int mode, long nanos) throws IOException {
        for (int round = 0; round < WARMUP_ROUNDS; round++) {
            sink += sides[0].applyAsInt(mode) + sides[1].applyAsInt(mode);
        }
        double[] ratios = new double[64];
        double[] total = new double[2];
        int rounds = 0;
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            long[] took = new long[2];
            for (int k = 0; k < 2; k++) {
                int s = (rounds & 1) == 0 ? k : 1 - k;
                long start = System.nanoTime();
                sink += sides[s].applyAsInt(mode);
                took[s] = System.nanoTime() - start;
            }
            total[0] += took[0];
            total[1] += took[1];
            if (rounds == ratios.length) {
                ratios = Arrays.copyOf(ratios, 2 * rounds);
            }
            ratios[rounds++] = (double) took[0] / took[1];
        }
        Arrays.sort(ratios, 0, rounds);
        double lookups = (double) Driver.SLICE * rounds;
        System.out.printf("lpm ab mode=%d rounds=%d ratio=%.3f p25=%.3f p75=%.3f a_lookups_per_s=%.0f"
                + " b_lookups_per_s=%.0f load=%s%n", mode, rounds, ratios[rounds / 2], ratios[rounds / 4],
                ratios[3 * rounds / 4], lookups / total[0] * 1e9, lookups / total[1] * 1e9,
                Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    }

    /**
     * One side: loaded by that side's class loader, so {@link Ipv4Lpm} here is that build's. {@code applyAsInt(mode)}
     * runs one slice of lookups and returns the sum of the answers.
     */
    public static final class Driver implements IntUnaryOperator {
        static final int SLICE = 1 << 19;
        private static final int VECTOR = 64;
        private final Ipv4Lpm lpm;
        private final int[] keys;
        private final int[][] vectors;
        private final int[] results = new int[VECTOR];
        private int next;

        /** Builds this side's table from the routes (values as {@code RouteFiles} gives them). */
        public Driver(int[] prefixes, int[] lengths, int[] values, int[] keys) {
            this.lpm = Ipv4Lpm.build(prefixes, lengths, values, prefixes.length);
            this.keys = Arrays.copyOf(keys, keys.length / SLICE * SLICE);
            this.vectors = new int[this.keys.length / VECTOR][];
            for (int v = 0; v < vectors.length; v++) {
                vectors[v] = Arrays.copyOfRange(keys, v * VECTOR, (v + 1) * VECTOR);
            }
        }

        @Override
        public int applyAsInt(int mode) {
            int from = next;
            next = from + SLICE == keys.length ? 0 : from + SLICE;
            return switch (mode) {
                case 0 -> single(from);
                case 1 -> viewed(from);
                default -> batched(from);
            };
        }

        private int single(int from) {
            int[] k = keys;
            int sum = 0;
            for (int i = from; i < from + SLICE; i++) {
                sum += lpm.lookup(k[i]);
            }
            return sum;
        }

        private int viewed(int from) {
            int[] k = keys;
            int sum = 0;
            for (int v = from; v < from + SLICE; v += VECTOR) {
                Ipv4Lpm.View view = lpm.view();
                for (int i = v; i < v + VECTOR; i++) {
                    sum += view.lookup(k[i]);
                }
            }
            return sum;
        }

        private int batched(int from) {
            int[] r = results;
            int sum = 0;
            for (int v = from / VECTOR; v < (from + SLICE) / VECTOR; v++) {
                lpm.lookup(vectors[v], r, VECTOR);
                sum += r[0] + r[VECTOR - 1];
            }
            return sum;
        }
    }
}
