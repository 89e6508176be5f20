package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
