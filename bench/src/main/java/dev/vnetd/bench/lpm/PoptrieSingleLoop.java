package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.Arrays;

/**
 * The loops of {@link Ipv4LookupBenchmark} and {@link Ipv4ViewLookupBenchmark} (blocks of 4096 keys; a view taken
 * every 64 keys) in one long-running JVM that takes rte_lpm_bench's commands on standard input, so that a driver can
 * alternate Java, {@code bench/native/poptrie_c_bench.c} and {@code bench/native/rte_lpm_bench.c} every few seconds
 * on a noisy shared machine (JMH forks cost a route build each). Not a replacement for the JMH figures: the same
 * code, measured by a plain timer after a warm-up of each loop.
 *
 * <pre>
 *   PoptrieSingleLoop ROUTES KEYS     then commands "lookup|view|dir24 N SECONDS", one a line
 *   prints "ready" after building and warming up, then per command "lookup|view|dir24 R1 ... RN" (lookups per
 *   second)
 * </pre>
 *
 * <p>{@code dir24} is not vnetd's: a DIR-24-8 table ({@link Dir24}, rte_lpm's layout: 2^24 first-level entries,
 * 64 MiB, about 67 bytes a route at 1 M routes) built from the same routes and looked up by the same loop, to
 * measure what the first option (a DIR-24-8 tier for large tables) would give in Java (issue 3). Its answers
 * are checked against the Poptrie's for every key before "ready".
 */
public final class PoptrieSingleLoop {
    private static final int BATCH = 4096;
    private static final int VECTOR = 64;
    private static volatile int sink;

    private PoptrieSingleLoop() {
    }

    public static void main(String[] args) throws IOException {
        RouteFiles.V4Routes r = RouteFiles.v4Routes(args[0]);
        Ipv4Lpm lpm = Ipv4Lpm.build(r.prefixes(), r.lengths(), r.values(), r.count());
        int[] all = RouteFiles.v4Keys(args[1]);
        int[] keys = Arrays.copyOf(all, all.length / BATCH * BATCH);
        Dir24 dir = new Dir24(r);
        for (int key : all) {
            if (dir.lookup(key) != lpm.lookup(key)) {
                throw new IllegalStateException(
                        "DIR-24-8 and the Poptrie differ for key " + Integer.toUnsignedString(key));
            }
        }
        for (int i = 0; i < 3; i++) {
            iteration(lpm, dir, keys, "lookup", 1);
            iteration(lpm, dir, keys, "view", 1);
            iteration(lpm, dir, keys, "dir24", 1);
        }
        System.out.println("ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split("\\s+");
            StringBuilder out = new StringBuilder(w[0]);
            for (int i = 0; i < Integer.parseInt(w[1]); i++) {
                out.append(' ').append(Math.round(iteration(lpm, dir, keys, w[0], Double.parseDouble(w[2]))));
            }
            System.out.println(out);
        }
    }

    private static double iteration(Ipv4Lpm lpm, Dir24 dir, int[] keys, String mode, double seconds) {
        long start = System.nanoTime();
        long end;
        long done = 0;
        int sum = 0;
        do {
            for (int from = 0; from < keys.length; from += BATCH) {
                sum += switch (mode) {
                    case "view" -> viewBlock(lpm, keys, from);
                    case "dir24" -> dir.block(keys, from);
                    default -> lookupBlock(lpm, keys, from);
                };
            }
            done += keys.length;
        } while ((end = System.nanoTime()) - start < seconds * 1e9);
        sink += sum;
        return done / ((end - start) / 1e9);
    }

    /** {@link Ipv4LookupBenchmark}'s invocation. */
    private static int lookupBlock(Ipv4Lpm lpm, int[] k, int from) {
        int sum = 0;
        for (int i = from; i < from + BATCH; i++) {
            sum += lpm.lookup(k[i]);
        }
        return sum;
    }

    /** {@link Ipv4ViewLookupBenchmark}'s invocation. */
    private static int viewBlock(Ipv4Lpm lpm, int[] k, int from) {
        int sum = 0;
        for (int v = from; v < from + BATCH; v += VECTOR) {
            Ipv4Lpm.View view = lpm.view();
            for (int i = v; i < v + VECTOR; i++) {
                sum += view.lookup(k[i]);
            }
        }
        return sum;
    }

    /**
     * DIR-24-8 (Gupta, Lin, McKeown, 1998; rte_lpm's layout), for the measurement only: {@code tbl24} has an entry
     * per /24, the route value + 1 (0: no route) or, with the top bit set, the index of a 256-entry {@code tbl8}
     * group for the /24s that hold longer routes. Routes are painted shortest first, so longer ones win. A lookup of
     * a /24 that needs no group reads one self-contained int: a reader racing a writer sees the old or the new
     * answer, with no acquire needed (only the group path would need one).
     */
    static final class Dir24 {
        private static final int GROUP = 0x8000_0000;
        final int[] tbl24 = new int[1 << 24];
        int[] tbl8 = new int[256 * 64];
        private int groups;

        Dir24(RouteFiles.V4Routes r) {
            Integer[] order = new Integer[r.count()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Integer.compare(r.lengths()[a], r.lengths()[b]));
            for (int i : order) {
                int length = r.lengths()[i];
                int prefix = length == 0 ? 0 : r.prefixes()[i] & (-1 << (32 - length));
                int entry = r.values()[i] + 1;
                if (length <= 24) {
                    int from = prefix >>> 8;
                    Arrays.fill(tbl24, from, from + (1 << (24 - length)), entry);
                } else {
                    int at = prefix >>> 8;
                    if (tbl24[at] >= 0) {
                        if ((groups + 1) * 256 > tbl8.length) {
                            tbl8 = Arrays.copyOf(tbl8, tbl8.length * 2);
                        }
                        Arrays.fill(tbl8, groups * 256, groups * 256 + 256, tbl24[at]);
                        tbl24[at] = GROUP | groups++;
                    }
                    int from = (tbl24[at] & ~GROUP) * 256 + (prefix & 0xFF);
                    Arrays.fill(tbl8, from, from + (1 << (32 - length)), entry);
                }
            }
        }

        int lookup(int key) {
            int e = tbl24[key >>> 8];
            if (e < 0) {
                e = tbl8[(e & ~GROUP) << 8 | key & 0xFF];
            }
            return e - 1;
        }

        /** {@link #lookupBlock}'s loop over this table. */
        int block(int[] k, int from) {
            int[] t24 = tbl24;
            int[] t8 = tbl8;
            int sum = 0;
            for (int i = from; i < from + BATCH; i++) {
                int e = t24[k[i] >>> 8];
                if (e < 0) {
                    e = t8[(e & ~GROUP) << 8 | k[i] & 0xFF];
                }
                sum += e - 1;
            }
            return sum;
        }
    }
}
