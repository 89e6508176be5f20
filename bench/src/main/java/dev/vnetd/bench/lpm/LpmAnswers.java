package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv4Lpm;

/**
 * What the IPv4 LPM answers for a key file, summed: {@code lpm-answers hits=N value_sum=S}, where a hit is a key
 * with a route and the sum adds the values of those routes (route i of the file has value i, as in the benchmarks).
 * {@code bench/cases/lpm.sh} compares it with {@code rte_lpm_bench}'s {@code check} on the same files, so the
 * yardstick is shown to answer the same lookups as the Poptrie it is compared with.
 */
public final class LpmAnswers {
    private LpmAnswers() {
    }

    /** {@code LpmAnswers ROUTES KEYS}. */
    public static void main(String[] args) {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: LpmAnswers ROUTES KEYS");
        }
        RouteFiles.V4Routes r = RouteFiles.v4Routes(args[0]);
        Ipv4Lpm lpm = Ipv4Lpm.build(r.prefixes(), r.lengths(), r.values(), r.count());
        long hits = 0;
        long sum = 0;
        for (int key : RouteFiles.v4Keys(args[1])) {
            int value = lpm.lookup(key);
            if (value != Ipv4Lpm.NO_ROUTE) {
                hits++;
                sum += value;
            }
        }
        System.out.printf("lpm-answers hits=%d value_sum=%d%n", hits, sum);
    }
}
