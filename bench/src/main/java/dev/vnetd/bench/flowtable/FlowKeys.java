package dev.vnetd.bench.flowtable;

import java.util.SplittableRandom;

import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;

/**
 * One million random IPv4 flows as primitive arrays (what a worker has after parsing a packet), shared by every flow
 * table benchmark so the table and ConcurrentHashMap do the same work on the same keys. Lookups walk the arrays from
 * start to end, so reading a key costs the harness next to nothing; the structures are filled in
 * {@link #insertionOrder}, a random permutation, because packets of many flows arrive interleaved with no relation
 * to when each flow began, and filling in lookup order would hand ConcurrentHashMap's allocation-ordered nodes to
 * the hardware prefetcher.
 */
final class FlowKeys {
    /** Flows in the table; the yardstick size. */
    static final int FLOWS = 1_000_000;
    /** Wall clock of the benchmark flows: a fixed instant, the table never reads a clock itself. */
    static final long NOW_MILLIS = 1_700_000_000_000L;
    static final long SEED = 4;

    final int[] vn = new int[FLOWS];
    final int[] proto = new int[FLOWS];
    final long[] src = new long[FLOWS];
    final long[] dst = new long[FLOWS];
    final int[] sport = new int[FLOWS];
    final int[] dport = new int[FLOWS];
    final int[] insertionOrder = new int[FLOWS];

    FlowKeys() {
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < FLOWS; i++) {
            vn[i] = random.nextInt(16);
            proto[i] = random.nextInt(4) == 0 ? FlowTable.PROTO_UDP : FlowTable.PROTO_TCP;
            src[i] = 0x0A00_0000L | random.nextInt(1 << 16);
            dst[i] = 0xC0A8_0000L | random.nextInt(1 << 16);
            sport[i] = 1024 + random.nextInt(64512);
            dport[i] = random.nextInt(8) == 0 ? 53 : 443;
            insertionOrder[i] = i;
        }
        for (int i = FLOWS - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = insertionOrder[i];
            insertionOrder[i] = insertionOrder[j];
            insertionOrder[j] = swap;
        }
    }

    /** A table of {@link #FLOWS} capacity holding every key, inserted in {@link #insertionOrder}. */
    FlowTable fill() {
        FlowTable table = FlowTable.allocate(FLOWS, FlowTimeouts.DEFAULTS);
        for (int i : insertionOrder) {
            insert(table, i);
        }
        return table;
    }

    /** Inserts every key in array order (the table's cost does not depend on the order). */
    void insertAll(FlowTable table) {
        for (int i = 0; i < FLOWS; i++) {
            insert(table, i);
        }
    }

    /** Inserts key {@code i}; tunnels are derived from the index. */
    void insert(FlowTable table, int i) {
        table.insert(vn[i], FlowTable.FAMILY_IPV4, proto[i], 0, src[i], 0, dst[i], sport[i], dport[i], i & 0xFFF,
                i & 0xFF, FlowTable.NO_PORT, 0, NOW_MILLIS);
    }
}
