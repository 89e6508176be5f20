package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.IntPredicate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlowTablePersistenceTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final int UPGRADE_CAPACITY = 1000;
    private static final int UPGRADE_FLOWS = 900;

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

    @Test
    void shouldUpgradeAFileOfFormatVersionOneKeepingEveryFlow() throws IOException {
        Path file = dir.resolve("flows.bin");
        writeVersionOneFile(file, port -> true);
        assertUpgradedWithEveryFlow(file);
    }

    @Test
    void shouldFinishAnUpgradeThatACrashCutShort() throws IOException {
        Path file = dir.resolve("flows.bin");
        writeVersionOneFile(file, port -> port % 2 == 0);
        assertUpgradedWithEveryFlow(file);
    }

    /**
     * A full table as format version 1 left it: flows placed as now, their ways tagged {@code 0x80 | 7 bits}
     * ({@link FlowTable#tagVersion1}) where {@code oldTag} says so (the others keep this version's tag, as an upgrade
     * cut short leaves them), and version 1 in the header.
     */
    private void writeVersionOneFile(Path file, IntPredicate oldTag) throws IOException {
        int[] slots = new int[UPGRADE_FLOWS + 1];
        try (FlowTable table = FlowTable.mapped(file, UPGRADE_CAPACITY, FlowTimeouts.DEFAULTS)) {
            for (int port = 1; port <= UPGRADE_FLOWS; port++) {
                slots[port] = FlowTable.slot(insert(table, port, port % 7));
            }
            assertEquals(UPGRADE_FLOWS, table.liveFlows());
        }
        int changed = 0;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer raw = channel.map(FileChannel.MapMode.READ_WRITE, 0, channel.size());
            raw.order(ByteOrder.nativeOrder());
            assertEquals(FlowTable.FORMAT_VERSION, raw.getInt(FlowTable.FORMAT_VERSION_OFFSET));
            raw.putInt(FlowTable.FORMAT_VERSION_OFFSET, 1);
            for (int port = 1; port <= UPGRADE_FLOWS; port++) {
                if (!oldTag.test(port)) {
                    continue;
                }
                long hash = FlowTable.hash(3, FlowTable.kind(FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP),
                        FlowTable.ports(port, 443), 0, 0x0A00_0105L, 0, 0xC0A8_0A0AL);
                int at = FlowTable.HEADER_LENGTH + slots[port] / FlowTable.WAYS * FlowTable.BUCKET_HEADER_LENGTH
                        + slots[port] % FlowTable.WAYS;
                assertEquals((byte) FlowTable.tag(hash), raw.get(at), "port " + port);
                raw.put(at, (byte) FlowTable.tagVersion1(hash));
                changed += FlowTable.tag(hash) != FlowTable.tagVersion1(hash) ? 1 : 0;
            }
            raw.force();
        }
        assertTrue(changed > UPGRADE_FLOWS / 4, "the old tags differ from the new for most flows: " + changed);
    }

    private static void assertUpgradedWithEveryFlow(Path file) throws IOException {
        try (FlowTable table = FlowTable.mapped(file, UPGRADE_CAPACITY, FlowTimeouts.DEFAULTS)) {
            assertEquals(1, table.openedFormatVersion(), "the open says it upgraded a version-1 file");
            assertEquals(UPGRADE_FLOWS, table.liveFlows());
            FlowLookupBatch batch = new FlowLookupBatch(UPGRADE_FLOWS);
            for (int port = 1; port <= UPGRADE_FLOWS; port++) {
                long handle = lookup(table, port);
                assertTrue(handle >= 0, "port " + port);
                assertEquals(port % 7, table.originTunnel(FlowTable.slot(handle)), "port " + port);
                batch.add(3, FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP, 0, 0x0A00_0105L, 0, 0xC0A8_0A0AL, port, 443);
            }
            table.lookup(batch);
            for (int port = 1; port <= UPGRADE_FLOWS; port++) {
                assertEquals(lookup(table, port), batch.handle(port - 1), "batch, port " + port);
                assertFalse(FlowTable.created(insert(table, port, 1)), "port " + port);
            }
            for (int origin = 0; origin < 7; origin++) {
                int expected = 0;
                for (int port = 1; port <= UPGRADE_FLOWS; port++) {
                    expected += port % 7 == origin ? 1 : 0;
                }
                assertEquals(expected, table.liveFlows(origin), "origin " + origin);
            }
            assertTrue(FlowTable.created(insert(table, UPGRADE_FLOWS + 1, 1)));
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer raw = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            assertEquals(FlowTable.FORMAT_VERSION, raw.order(ByteOrder.nativeOrder()).getInt(
                    FlowTable.FORMAT_VERSION_OFFSET));
        }
        try (FlowTable table = FlowTable.mapped(file, UPGRADE_CAPACITY, FlowTimeouts.DEFAULTS)) {
            assertEquals(FlowTable.FORMAT_VERSION, table.openedFormatVersion(), "upgraded once, not again");
        }
    }
}
