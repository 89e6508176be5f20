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
 *   PoptrieSingleLoop ROUTES KEYS     then commands "lookup|view N SECONDS", one a line
 *   prints "ready" after building and warming up, then per command "lookup|view R1 ... RN" (lookups per second)
 * </pre>
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
        for (int i = 0; i < 3; i++) {
            iteration(lpm, keys, false, 1);
            iteration(lpm, keys, true, 1);
        }
        System.out.println("ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split("\\s+");
            boolean view = w[0].equals("view");
            StringBuilder out = new StringBuilder(w[0]);
            for (int i = 0; i < Integer.parseInt(w[1]); i++) {
                out.append(' ').append(Math.round(iteration(lpm, keys, view, Double.parseDouble(w[2]))));
            }
            System.out.println(out);
        }
    }

    private static double iteration(Ipv4Lpm lpm, int[] keys, boolean view, double seconds) {
        long start = System.nanoTime();
        long end;
        long done = 0;
        int sum = 0;
        do {
            for (int from = 0; from < keys.length; from += BATCH) {
                sum += view ? viewBlock(lpm, keys, from) : lookupBlock(lpm, keys, from);
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
}
