package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;
import java.lang.management.ManagementFactory;

/**
 * Memory of the LPM tables, printed as result lines for {@code bench/run.sh lpm}:
 * <ul>
 *   <li>{@code v4 ROUTES_FILE} / {@code v6 ROUTES_FILE}: one table of the whole file, its lookup arrays and its
 *       route store, counted exactly from the array sizes;</li>
 *   <li>{@code vns ROUTES_FILE VNS PER_VN}: VNS IPv4 tables of PER_VN routes each (every VNS-th route of the file,
 *       so spread over the address space) plus one empty IPv6 table each, measured as heap growth after full
 *       collections.</li>
 * </ul>
 */
public final class LpmMemory {
    private LpmMemory() {
    }

    /** Entry point; see the class comment for the arguments. */
    public static void main(String[] args) {
        switch (args[0]) {
            case "v4" -> {
                RouteFiles.V4Routes r = RouteFiles.v4Routes(args[1]);
                Ipv4Lpm lpm = Ipv4Lpm.build(r.prefixes(), r.lengths(), r.values(), r.count());
                print("v4", r.count(), lpm.lookupBytes(), lpm.routeStoreBytes());
            }
            case "v6" -> {
                RouteFiles.V6Routes r = RouteFiles.v6Routes(args[1]);
                Ipv6Lpm lpm = Ipv6Lpm.build(r.highs(), r.lows(), r.lengths(), r.values(), r.count());
                print("v6", r.count(), lpm.lookupBytes(), lpm.routeStoreBytes());
            }
            case "vns" -> virtualNetworks(RouteFiles.v4Routes(args[1]), Integer.parseInt(args[2]),
                    Integer.parseInt(args[3]));
            default -> throw new IllegalArgumentException("usage: LpmMemory v4|v6 ROUTES | vns ROUTES VNS PER_VN");
        }
    }

    private static void print(String family, int routes, long lookupBytes, long routeStoreBytes) {
        System.out.printf("lpm-memory family=%s routes=%d lookup_bytes=%d bytes_per_route=%.2f route_store_bytes=%d"
                        + " total_bytes_per_route=%.2f%n", family, routes, lookupBytes, lookupBytes / (double) routes,
                routeStoreBytes, (lookupBytes + routeStoreBytes) / (double) routes);
    }

    private static void virtualNetworks(RouteFiles.V4Routes r, int vns, int perVn) {
        long before = usedHeap();
        Ipv4Lpm[] v4 = new Ipv4Lpm[vns];
        Ipv6Lpm[] v6 = new Ipv6Lpm[vns];
        long lookupBytes = 0;
        for (int vn = 0; vn < vns; vn++) {
            int[] prefixes = new int[perVn];
            int[] lengths = new int[perVn];
            int[] values = new int[perVn];
            for (int k = 0; k < perVn; k++) {
                int i = (int) ((vn + (long) k * vns) % r.count());
                prefixes[k] = r.prefixes()[i];
                lengths[k] = r.lengths()[i];
                values[k] = r.values()[i];
            }
            v4[vn] = Ipv4Lpm.build(prefixes, lengths, values, perVn);
            v6[vn] = new Ipv6Lpm();
            lookupBytes += v4[vn].lookupBytes() + v6[vn].lookupBytes();
        }
        long after = usedHeap();
        Ipv6Lpm emptyV6 = new Ipv6Lpm();
        Ipv4Lpm emptyV4 = new Ipv4Lpm();
        System.out.printf("lpm-memory vns=%d routes_per_vn=%d heap_bytes=%d heap_mib=%.1f bytes_per_vn=%d"
                        + " lookup_bytes_per_vn=%d empty_table_bytes=%d%n", vns, perVn, after - before,
                (after - before) / 1048576.0, (after - before) / vns, lookupBytes / vns,
                emptyV4.lookupBytes() + emptyV4.routeStoreBytes() + emptyV6.lookupBytes() + emptyV6.routeStoreBytes());
        if (v4[vns - 1].size() + v6[vns - 1].size() < 0) {
            throw new IllegalStateException("keeps the tables reachable until measured");
        }
    }

    private static long usedHeap() {
        for (int i = 0; i < 4; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
