package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FlowTableTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final long SITE = 0x0A00_0105L;
    private static final long SERVER = 0xC0A8_0A0AL;
    private static final int SITE_A = 11;
    private static final int DATA_CENTER = 30;

    private final List<FlowTable> tables = new ArrayList<>();

    @AfterEach
    void close() {
        tables.forEach(FlowTable::close);
    }

    private FlowTable table(int capacity) {
        FlowTable table = FlowTable.allocate(capacity, FlowTimeouts.DEFAULTS);
        tables.add(table);
        return table;
    }

    private static long udp(FlowTable table, int sport, long now) {
        return table.insert(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, SITE, 0, SERVER, sport, 53, SITE_A,
                DATA_CENTER, FlowTable.NO_PORT, 0, now);
    }

    private static long lookupUdp(FlowTable table, int sport) {
        return table.lookup(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, SITE, 0, SERVER, sport, 53);
    }

    @Test
    void shouldFindInsertedFlowWithItsValues() {
        FlowTable table = table(100);
        long created = udp(table, 40000, T0);
        assertTrue(FlowTable.created(created));
        long found = lookupUdp(table, 40000);
        assertEquals(FlowTable.slot(created), FlowTable.slot(found));
        assertFalse(FlowTable.created(found));
        int slot = FlowTable.slot(found);
        assertEquals(1, table.vn(slot));
        assertEquals(FlowTable.FAMILY_IPV4, table.family(slot));
        assertEquals(FlowTable.PROTO_UDP, table.proto(slot));
        assertEquals(SITE, table.srcLow(slot));
        assertEquals(0, table.srcHigh(slot));
        assertEquals(SERVER, table.dstLow(slot));
        assertEquals(0, table.dstHigh(slot));
        assertEquals(40000, table.sport(slot));
        assertEquals(53, table.dport(slot));
        assertEquals(SITE_A, table.originTunnel(slot));
        assertEquals(DATA_CENTER, table.egressTunnel(slot));
        assertEquals(FlowTable.NO_PORT, table.originalPort(slot));
        assertEquals(T0, table.createdMillis(slot));
        assertEquals(0, table.idleMillis(slot, T0));
        assertEquals(TcpState.NONE, table.tcpState(slot));
        assertFalse(table.replied(slot));
        assertTrue(table.validate(found));
        assertEquals(1, table.liveFlows());
        assertEquals(1, table.inserts());
    }

    @Test
    void shouldReturnNotFoundForAbsentFlow() {
        FlowTable table = table(100);
        udp(table, 40000, T0);
        assertEquals(FlowTable.NOT_FOUND, lookupUdp(table, 40001));
        assertEquals(FlowTable.NOT_FOUND, table.lookup(2, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, SITE, 0,
                SERVER, 40000, 53));
        assertEquals(FlowTable.NOT_FOUND, table.lookup(1, FlowTable.FAMILY_IPV6, FlowTable.PROTO_UDP, 0, SITE, 0,
                SERVER, 40000, 53));
        assertEquals(FlowTable.NOT_FOUND, table.lookup(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP, 0, SITE, 0,
                SERVER, 40000, 53));
        assertEquals(FlowTable.NOT_FOUND, table.lookup(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, SERVER, 0,
                SITE, 53, 40000));
    }

    @Test
    void shouldKeepTheFirstFlowWhenTheSameKeyIsInsertedAgain() {
        FlowTable table = table(100);
        long first = udp(table, 40000, T0);
        long second = table.insert(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, SITE, 0, SERVER, 40000, 53,
                99, 98, FlowTable.NO_PORT, 0, T0 + 5);
        assertFalse(FlowTable.created(second));
        assertEquals(FlowTable.slot(first), FlowTable.slot(second));
        assertEquals(SITE_A, table.originTunnel(FlowTable.slot(second)));
        assertEquals(1, table.liveFlows());
        assertEquals(1, table.inserts());
    }

    @Test
    void shouldKeepIpv6AddressesApart() {
        FlowTable table = table(100);
        long a = table.insert(7, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 0x2001_0db8_0000_0001L, 5,
                0x2001_0db8_0000_0002L, 9, 1000, 443, 1, 2, FlowTable.NO_PORT, TcpState.FLAG_SYN, T0);
        long b = table.insert(7, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 0x2001_0db8_0000_0003L, 5,
                0x2001_0db8_0000_0002L, 9, 1000, 443, 3, 2, FlowTable.NO_PORT, TcpState.FLAG_SYN, T0);
        assertTrue(FlowTable.created(a));
        assertTrue(FlowTable.created(b));
        int slot = FlowTable.slot(table.lookup(7, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 0x2001_0db8_0000_0003L,
                5, 0x2001_0db8_0000_0002L, 9, 1000, 443));
        assertEquals(3, table.originTunnel(slot));
        assertEquals(0x2001_0db8_0000_0003L, table.srcHigh(slot));
        assertEquals(FlowTable.FAMILY_IPV6, table.family(slot));
        assertEquals(TcpState.SYN_SENT, table.tcpState(slot));
    }

    @Test
    void shouldCountPacketsAndBytesPerDirectionAndMarkTheFirstReply() {
        FlowTable table = table(100);
        long handle = udp(table, 40000, T0);
        int slot = FlowTable.slot(handle);
        table.touch(slot, true, 100, 0, T0 + 10);
        table.touch(slot, true, 200, 0, T0 + 20);
        assertTrue(table.validate(handle));
        assertFalse(table.replied(slot));
        table.touch(slot, false, 1500, 0, T0 + 30);
        assertTrue(table.replied(slot));
        assertFalse(table.validate(handle), "the first reply changes the flow's state under its seqlock");
        assertEquals(2, table.packetsFromOrigin(slot));
        assertEquals(300, table.bytesFromOrigin(slot));
        assertEquals(1, table.packetsToOrigin(slot));
        assertEquals(1500, table.bytesToOrigin(slot));
        assertEquals(70, table.idleMillis(slot, T0 + 100));
        assertEquals(0, table.idleMillis(slot, T0), "a clock that went back counts as not idle");
    }

    @Test
    void shouldFollowTheTcpHandshakeAndCloseFromFlags() {
        FlowTable table = table(100);
        int slot = FlowTable.slot(table.insert(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP, 0, SITE, 0, SERVER,
                50000, 443, SITE_A, DATA_CENTER, FlowTable.NO_PORT, TcpState.FLAG_SYN, T0));
        assertEquals(TcpState.SYN_SENT, table.tcpState(slot));
        table.touch(slot, false, 60, TcpState.FLAG_SYN | TcpState.FLAG_ACK, T0 + 1);
        assertEquals(TcpState.SYN_RECV, table.tcpState(slot));
        table.touch(slot, true, 52, TcpState.FLAG_ACK, T0 + 2);
        assertEquals(TcpState.ESTABLISHED, table.tcpState(slot));
        table.touch(slot, false, 52, TcpState.FLAG_FIN | TcpState.FLAG_ACK, T0 + 3);
        assertEquals(TcpState.CLOSE_WAIT, table.tcpState(slot));
        table.touch(slot, true, 52, TcpState.FLAG_FIN | TcpState.FLAG_ACK, T0 + 4);
        assertEquals(TcpState.TIME_WAIT, table.tcpState(slot));
    }

    @Test
    void shouldSweepFlowsIdleLongerThanTheirProtocolTimeout() {
        FlowTable table = FlowTable.allocate(100, new FlowTimeouts(Duration.ofSeconds(100), Duration.ofSeconds(20),
                Duration.ofSeconds(30), Duration.ofSeconds(10)));
        tables.add(table);
        udp(table, 1, T0);
        table.insert(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_ICMP, 0, SITE, 0, SERVER, 77, 0, SITE_A, DATA_CENTER,
                FlowTable.NO_PORT, 0, T0);
        table.insert(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP, 0, SITE, 0, SERVER, 2, 443, SITE_A, DATA_CENTER,
                FlowTable.NO_PORT, TcpState.FLAG_ACK, T0);
        table.insert(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_TCP, 0, SITE, 0, SERVER, 3, 443, SITE_A, DATA_CENTER,
                FlowTable.NO_PORT, TcpState.FLAG_SYN, T0);

        assertEquals(0, table.sweep(T0 + 9_999));
        assertEquals(1, table.sweep(T0 + 10_000), "icmp after 10 s");
        assertEquals(1, table.sweep(T0 + 20_000), "tcp syn_sent after the transitory 20 s");
        assertEquals(1, table.sweep(T0 + 30_000), "udp after 30 s");
        assertEquals(0, table.sweep(T0 + 99_999));
        assertEquals(1, table.sweep(T0 + 100_000), "established tcp after 100 s");
        assertEquals(0, table.liveFlows());
        assertEquals(4, table.evictions(EvictionReason.EXPIRED));
    }

    @Test
    void shouldNotSweepAFlowThatSawTraffic() {
        FlowTable table = table(100);
        int slot = FlowTable.slot(udp(table, 1, T0));
        table.touch(slot, true, 10, 0, T0 + 100_000);
        assertEquals(0, table.sweep(T0 + 120_000));
        assertEquals(1, table.sweep(T0 + 220_000));
    }

    @Test
    void shouldEvictAnExpiredFlowBeforeRefusingWhenFull() {
        FlowTable table = table(1);
        udp(table, 1, T0);
        long handle = udp(table, 2, T0 + 120_000);
        assertTrue(FlowTable.created(handle));
        assertEquals(1, table.evictions(EvictionReason.EXPIRED));
        assertEquals(FlowTable.NOT_FOUND, lookupUdp(table, 1));
        assertEquals(1, table.liveFlows());
    }

    @Test
    void shouldEarlyDropTheLongestIdleUnrepliedFlowWhenFull() {
        FlowTable table = table(2);
        int replied = FlowTable.slot(udp(table, 1, T0));
        table.touch(replied, false, 10, 0, T0);
        udp(table, 2, T0 + 1);
        long handle = udp(table, 3, T0 + 2);
        assertTrue(FlowTable.created(handle));
        assertEquals(1, table.evictions(EvictionReason.EARLY_DROP));
        assertEquals(FlowTable.NOT_FOUND, lookupUdp(table, 2));
        assertTrue(lookupUdp(table, 1) >= 0, "a flow that saw a reply keeps working");
    }

    @Test
    void shouldRefuseAndCountWhenFullOfRepliedFlows() {
        FlowTable table = table(1);
        int slot = FlowTable.slot(udp(table, 1, T0));
        table.touch(slot, false, 10, 0, T0);
        assertEquals(FlowTable.TABLE_FULL, udp(table, 2, T0 + 1));
        assertEquals(1, table.tableFullRefusals());
        assertTrue(lookupUdp(table, 1) >= 0);
        assertFalse(FlowTable.created(FlowTable.TABLE_FULL));
    }

    @Test
    void shouldRemoveByHandleOnlyWhileTheHandleIsCurrent() {
        FlowTable table = table(100);
        long handle = udp(table, 1, T0);
        assertTrue(table.remove(handle));
        assertFalse(table.validate(handle));
        assertFalse(table.remove(handle));
        assertFalse(table.remove(FlowTable.NOT_FOUND));
        assertEquals(FlowTable.NOT_FOUND, lookupUdp(table, 1));
        assertEquals(1, table.evictions(EvictionReason.REMOVED));
        assertEquals(0, table.liveFlows());
        assertTrue(FlowTable.created(udp(table, 1, T0)));
    }

    @Test
    void shouldVisitEveryLiveFlowAndStopWhenAsked() {
        FlowTable table = table(100);
        for (int port = 1; port <= 10; port++) {
            udp(table, port, T0);
        }
        table.remove(lookupUdp(table, 5));
        List<Integer> ports = new ArrayList<>();
        assertEquals(9, table.forEach(handle -> ports.add(table.sport(FlowTable.slot(handle)))));
        ports.sort(null);
        assertEquals(List.of(1, 2, 3, 4, 6, 7, 8, 9, 10), ports);
        assertEquals(3, table.forEach(handle -> false) + 2);
    }

    @Test
    void shouldRecordTheOriginalPortOfATranslatedFlowAndMoveTheEgressTunnel() {
        FlowTable table = table(100);
        int slot = FlowTable.slot(table.insert(1, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, SITE, 0, SERVER,
                61000, 53, 12, DATA_CENTER, 40000, 0, T0));
        assertEquals(40000, table.originalPort(slot));
        table.egressTunnel(slot, 31);
        assertEquals(31, table.egressTunnel(slot));
    }

    @Test
    void shouldTakeAboutOneHundredTwentySixBytesPerFlow() {
        FlowTable table = table(10_000);
        assertEquals(FlowTable.length(10_000), table.lengthInBytes());
        assertTrue(table.lengthInBytes() <= 128L * 10_000, "bytes: " + table.lengthInBytes());
        assertTrue(table.slotCount() >= 12_000);
        assertTrue(FlowTable.length(FlowTable.MAX_CAPACITY) <= Integer.MAX_VALUE);
    }
}
