package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class FlowLookupBatchTest {
    private static final long T0 = 1_700_000_000_000L;

    @Test
    void shouldFindTheSameFlowsAsSingleLookups() {
        try (FlowTable table = FlowTable.allocate(1000, FlowTimeouts.DEFAULTS)) {
            for (int port = 0; port < 500; port += 2) {
                table.insert(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, 10, 0, 20, port, 53, port, 7,
                        FlowTable.NO_PORT, 0, T0);
            }
            FlowLookupBatch batch = new FlowLookupBatch(16);
            for (int start = 0; start < 500; start += 16) {
                batch.clear();
                for (int port = start; port < start + 16; port++) {
                    assertEquals(port - start, batch.add(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, 10, 0, 20,
                            port, 53));
                }
                table.lookup(batch);
                for (int i = 0; i < batch.size(); i++) {
                    int port = start + i;
                    long handle = batch.handle(i);
                    assertEquals(table.lookup(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, 10, 0, 20, port, 53),
                            handle);
                    assertEquals(port % 2 == 0 && port < 500, handle >= 0, "port " + port);
                }
            }
        }
    }

    @Test
    void shouldFindEveryFlowOfAFullTableAndNoOther() {
        int capacity = 64;
        try (FlowTable table = FlowTable.allocate(capacity, FlowTimeouts.DEFAULTS)) {
            int[] ports = new int[capacity];
            int flows = 0;
            for (int port = 1; flows < capacity; port++) {
                if (table.insert(1, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 7, 10, 8, 20, port, 443, 1, port,
                        FlowTable.NO_PORT, TcpState.FLAG_SYN, T0) >= 0) {
                    ports[flows++] = port;
                }
            }
            assertEquals(0, table.evictions(EvictionReason.EARLY_DROP), "precondition: every flow stayed");
            FlowLookupBatch batch = new FlowLookupBatch(capacity + 1);
            for (int port : ports) {
                batch.add(1, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 7, 10, 8, 20, port, 443);
            }
            batch.add(1, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 7, 10, 8, 21, 1, 443);
            table.lookup(batch);
            for (int i = 0; i < capacity; i++) {
                long handle = table.lookup(1, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 7, 10, 8, 20, ports[i], 443);
                assertEquals(handle, batch.handle(i));
                int slot = FlowTable.slot(handle);
                assertEquals(ports[i], table.egressTunnel(slot), "port " + ports[i]);
            }
            assertEquals(FlowTable.NOT_FOUND, batch.handle(capacity));
        }
    }

    @Test
    void shouldAgreeWithSingleLookupsOnALargeFullTable() {
        // 20,000 flows in a table of 20,000: about 1 key in 25 is not in its candidate slot (another flow's tag
        // matches first), so the batch's search after the compare pass runs hundreds of times here
        int capacity = 20_000;
        SplittableRandom random = new SplittableRandom(11);
        long[][] keys = new long[2 * capacity][];
        try (FlowTable table = FlowTable.allocate(capacity, FlowTimeouts.DEFAULTS)) {
            for (int i = 0; i < keys.length; i++) {
                boolean v6 = random.nextInt(4) == 0;
                keys[i] = new long[] {random.nextInt(64), v6 ? FlowTable.FAMILY_IPV6 : FlowTable.FAMILY_IPV4,
                        random.nextBoolean() ? FlowTable.PROTO_TCP : FlowTable.PROTO_UDP,
                        v6 ? random.nextLong() : 0, v6 ? random.nextLong() : random.nextInt(),
                        v6 ? random.nextLong() : 0, v6 ? random.nextLong() : random.nextInt(),
                        random.nextInt(65536), random.nextInt(65536)};
                if (i % 2 == 0) {
                    long[] k = keys[i];
                    table.insert((int) k[0], (int) k[1], (int) k[2], k[3], k[4], k[5], k[6], (int) k[7], (int) k[8],
                            1, i, i % 4 == 0 ? 4242 : FlowTable.NO_PORT, 0, T0);
                }
            }
            FlowLookupBatch batch = new FlowLookupBatch(32);
            int found = 0;
            for (int start = 0; start < keys.length; start += batch.capacity()) {
                batch.clear();
                for (int i = start; i < Math.min(keys.length, start + batch.capacity()); i++) {
                    long[] k = keys[i];
                    batch.add((int) k[0], (int) k[1], (int) k[2], k[3], k[4], k[5], k[6], (int) k[7], (int) k[8]);
                }
                table.lookup(batch);
                for (int b = 0; b < batch.size(); b++) {
                    long[] k = keys[start + b];
                    long single = table.lookup((int) k[0], (int) k[1], (int) k[2], k[3], k[4], k[5], k[6],
                            (int) k[7], (int) k[8]);
                    assertEquals(single, batch.handle(b), "key " + (start + b));
                    if (batch.handle(b) >= 0) {
                        found++;
                        assertEquals(start + b, table.egressTunnel(FlowTable.slot(batch.handle(b))));
                    }
                }
            }
            assertEquals(table.liveFlows(), found);
            assertTrue(found > capacity * 99 / 100, "flows found: " + found);
        }
    }

    @Test
    void shouldFindATranslatedFlowAndNotAKeyThatDiffersOnlyInKind() {
        try (FlowTable table = FlowTable.allocate(100, FlowTimeouts.DEFAULTS)) {
            long handle = table.insert(3, FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP, 0, 10, 0, 20, 1234, 443, 1, 2,
                    61_000, TcpState.FLAG_SYN, T0);
            FlowLookupBatch batch = new FlowLookupBatch(4);
            batch.add(3, FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP, 0, 10, 0, 20, 1234, 443);
            batch.add(3, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, 10, 0, 20, 1234, 443);
            batch.add(3, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 0, 10, 0, 20, 1234, 443);
            batch.add(4, FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP, 0, 10, 0, 20, 1234, 443);
            table.lookup(batch);
            assertEquals(FlowTable.slot(handle), FlowTable.slot(batch.handle(0)));
            assertEquals(61_000, table.originalPort(FlowTable.slot(batch.handle(0))));
            assertEquals(FlowTable.NOT_FOUND, batch.handle(1));
            assertEquals(FlowTable.NOT_FOUND, batch.handle(2));
            assertEquals(FlowTable.NOT_FOUND, batch.handle(3));
        }
    }

    @Test
    void shouldListTheLinesOfTheFoundFlowsCountersForTheirPrefetch() {
        try (FlowTable table = FlowTable.allocate(4096, FlowTimeouts.DEFAULTS)) {
            for (int port = 0; port < 64; port += 2) {
                table.insert(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, 10, 0, 20, port, 53, 3, 7,
                        FlowTable.NO_PORT, 0, T0);
            }
            FlowLookupBatch batch = new FlowLookupBatch(64);
            for (int port = 0; port < 64; port++) {
                batch.add(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, 10, 0, 20, port, 53);
            }
            table.lookup(batch);
            table.prefetchCounters(batch, false);
            Set<Long> expected = new HashSet<>();
            int entries = 0;
            for (int i = 0; i < batch.size(); i++) {
                long handle = batch.handle(i);
                assertEquals(i % 2 == 0, handle >= 0, "key " + i);
                if (handle >= 0) {
                    // the lines of the first and the last byte of the counters touch adds to
                    long counters = table.coldAddress(FlowTable.slot(handle));
                    expected.add(counters >>> 6);
                    expected.add((counters + 31) >>> 6);
                    entries += counters >>> 6 == (counters + 31) >>> 6 ? 1 : 2;
                }
            }
            Set<Long> listed = new HashSet<>();
            for (int k = 0; k < entries; k++) {
                listed.add((table.address() >>> 6) + batch.counterLines[k]);
            }
            assertEquals(expected, listed, "the counters' lines, and only those of found flows");
            if (FlowTable.softwarePrefetch()) {
                assertEquals(0, table.prefetchCounters(batch, true));
            }
        }
    }

    @Test
    void shouldRefuseKeysBeyondItsCapacityUntilCleared() {
        FlowLookupBatch batch = new FlowLookupBatch(2);
        assertEquals(0, batch.add(1, 4, 17, 0, 1, 0, 2, 3, 4));
        assertEquals(1, batch.add(1, 4, 17, 0, 1, 0, 2, 3, 5));
        assertEquals(-1, batch.add(1, 4, 17, 0, 1, 0, 2, 3, 6));
        assertEquals(2, batch.size());
        assertEquals(2, batch.capacity());
        assertEquals(FlowTable.NOT_FOUND, batch.handle(1));
        batch.clear();
        assertEquals(0, batch.size());
        assertEquals(0, batch.add(1, 4, 17, 0, 1, 0, 2, 3, 6));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FlowLookupBatch(0)).getMessage()
                .contains("positive"));
    }
}
