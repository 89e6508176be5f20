package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlowTablePersistenceTest {
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private static long insert(FlowTable table, int sport, int origin) {
        return table.insert(3, FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP, 0, 0x0A00_0105L, 0, 0xC0A8_0A0AL, sport,
                443, origin, 30, FlowTable.NO_PORT, TcpState.FLAG_SYN, T0);
    }

    private static long lookup(FlowTable table, int sport) {
        return table.lookup(3, FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP, 0, 0x0A00_0105L, 0, 0xC0A8_0A0AL, sport,
                443);
    }

    @Test
    void shouldKeepFlowsAcrossCloseAndReopen() throws IOException {
        Path file = dir.resolve("flows.bin");
        try (FlowTable table = FlowTable.mapped(file, 1000, FlowTimeouts.DEFAULTS)) {
            assertFalse(table.hugePages(), "file-backed pages");
            for (int port = 1; port <= 500; port++) {
                insert(table, port, port % 7);
            }
            int slot = FlowTable.slot(lookup(table, 42));
            table.touch(slot, false, 60, TcpState.FLAG_SYN | TcpState.FLAG_ACK, T0 + 5);
            table.remove(lookup(table, 43));
        }
        assertEquals(FlowTable.length(1000), Files.size(file));
        try (FlowTable table = FlowTable.mapped(file, 1000, FlowTimeouts.DEFAULTS)) {
            assertEquals(499, table.liveFlows());
            assertEquals(FlowTable.NOT_FOUND, lookup(table, 43));
            for (int port = 1; port <= 500; port++) {
                if (port != 43) {
                    assertEquals(port % 7, table.originTunnel(FlowTable.slot(lookup(table, port))), "port " + port);
                }
            }
            int slot = FlowTable.slot(lookup(table, 42));
            assertEquals(TcpState.SYN_RECV, table.tcpState(slot));
            assertTrue(table.replied(slot));
            assertEquals(1, table.packetsToOrigin(slot));
            assertEquals(T0, table.createdMillis(slot));
            assertEquals(10, table.idleMillis(slot, T0 + 15));
            assertFalse(FlowTable.created(insert(table, 42, 1)));
            assertTrue(FlowTable.created(insert(table, 43, 1)));
        }
    }

    @Test
    void shouldRefuseAFileOfAnotherCapacityOrFormat() throws IOException {
        Path file = dir.resolve("flows.bin");
        FlowTable.mapped(file, 1000, FlowTimeouts.DEFAULTS).close();
        IOException size = assertThrows(IOException.class, () -> FlowTable.mapped(file, 2000, FlowTimeouts.DEFAULTS));
        assertTrue(size.getMessage().contains("capacity"), size.getMessage());
        try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "rw")) {
            raw.seek(FlowTable.MAGIC_OFFSET);
            raw.writeLong(0x1234);
        }
        IOException magic = assertThrows(IOException.class, () -> FlowTable.mapped(file, 1000, FlowTimeouts.DEFAULTS));
        assertTrue(magic.getMessage().contains("magic"), magic.getMessage());
    }

    @Test
    void shouldDropAFlowACrashLeftHalfWritten() throws IOException {
        Path file = dir.resolve("flows.bin");
        int slot;
        try (FlowTable table = FlowTable.mapped(file, 100, FlowTimeouts.DEFAULTS)) {
            insert(table, 1, 1);
            slot = FlowTable.slot(insert(table, 2, 2));
        }
        long buckets = (long) Math.ceil(100 * FlowTable.SLOTS_PER_FLOW / FlowTable.WAYS);
        long hotBase = (FlowTable.HEADER_LENGTH + buckets * FlowTable.BUCKET_HEADER_LENGTH + 63) & ~63L;
        try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "rw")) {
            raw.seek(hotBase + (long) slot * FlowTable.HOT_SLOT_LENGTH);
            raw.write(new byte[] {3, 0, 0, 0});
        }
        try (FlowTable table = FlowTable.mapped(file, 100, FlowTimeouts.DEFAULTS)) {
            assertEquals(1, table.liveFlows());
            assertTrue(lookup(table, 1) >= 0);
            assertEquals(FlowTable.NOT_FOUND, lookup(table, 2));
            assertTrue(FlowTable.created(insert(table, 2, 2)));
        }
    }
}
