package dev.vnetd.dataplane.fuzz;

import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.PacketPath;
import dev.vnetd.dataplane.path.TestNetwork;
import dev.vnetd.dataplane.path.TxPort;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packet path of {@link TestNetwork} (GRE-in-UDP listener 0, raw GRE listener 1, GRE-in-UDP over IPv6 listener
 * 2; ARR on site-a and v6-site) with its own counters and capturing sockets, for fuzz targets. {@link #receive}
 * checks the accounting of one packet: forwarded (sent and not an ICMP error) plus counted drops is exactly one, and
 * at most one ICMP error goes out. Sent buffers are released by {@link #releaseSent}; the leak detector (paranoid,
 * {@code LeakCheckExtension}) fails the class when the path leaked one.
 */
final class PathHarness {
    /** GRE-in-UDP over IPv4 (listener 0). */
    static final int UDP_LISTENER = 0;
    /** Raw GRE with the outer IPv4 header in the buffer (listener 1). */
    static final int RAW_LISTENER = 1;

    private static final int GRE_FLAG_CHECKSUM = 0x80;
    private static final int GRE_FLAG_KEY = 0x20;
    private static final int GRE_FLAG_SEQUENCE = 0x10;
    private static final int GRE_BASE_LENGTH = 4;

    final TestNetwork net = new TestNetwork();
    final WorkerCounters counters = new WorkerCounters(net.tunnels.length);
    private final List<ByteBuf> sent = new ArrayList<>();
    private final PacketPath path;
    private long nanos = 1_000_000_000L;
    private long millis = 1_700_000_000_000L;

    PathHarness() {
        TxPort port = new TxPort() {
            @Override
            public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
                sent.add(packet);
                return true;
            }

            @Override
            public void flush() {
            }
        };
        path = new PacketPath(net.holder, counters, new TxPort[] {port, port, port}, UnpooledByteBufAllocator.DEFAULT,
                () -> nanos, net.flows, () -> millis);
    }

    /** What one received packet became. */
    record Outcome(List<ByteBuf> forwarded, int icmpErrors, DropReason dropped) {
    }

    /**
     * Hands {@code bytes} to the path as received on {@code listenerId} from {@code sender} and checks that it was
     * forwarded or dropped under exactly one counted reason, and answered by at most one ICMP error.
     */
    Outcome receive(int listenerId, InetSocketAddress sender, byte[] bytes) {
        ByteBuf buf = UnpooledByteBufAllocator.DEFAULT.buffer(bytes.length).writeBytes(bytes);
        long[] dropsBefore = drops();
        long icmpBefore = counters.icmpErrorsSent();
        int sentBefore = sent.size();
        nanos += 1_000_000_000L;
        millis += 1_000L;
        path.receive(listenerId, buf, sender);
        path.flush();
        long[] dropsAfter = drops();
        DropReason dropped = null;
        long dropCount = 0;
        for (DropReason reason : DropReason.values()) {
            long delta = dropsAfter[reason.ordinal()] - dropsBefore[reason.ordinal()];
            dropCount += delta;
            if (delta > 0) {
                dropped = reason;
            }
        }
        int icmpErrors = (int) (counters.icmpErrorsSent() - icmpBefore);
        int out = sent.size() - sentBefore;
        assertTrue(icmpErrors <= 1, "one packet in, at most one ICMP error out: " + icmpErrors);
        assertEquals(1, out - icmpErrors + dropCount,
                "forwarded (" + (out - icmpErrors) + ") plus counted drops (" + dropCount + ") is one packet");
        List<ByteBuf> forwarded = new ArrayList<>(sent.subList(sentBefore + icmpErrors, sent.size()));
        if (dropped != null) {
            forwarded.clear();
        }
        return new Outcome(forwarded, icmpErrors, dropped);
    }

    /** Receives {@code bytes} from tunnel {@code from}'s remote on its listener. */
    Outcome receiveFrom(int from, byte[] bytes) {
        Tunnel tunnel = net.tunnels[from];
        return receive(tunnel.listener().id(), tunnel.remote(), bytes);
    }

    /** A GRE header (with the tunnel's key when it has one) followed by {@code inner}. */
    byte[] greFor(int from, byte[] inner) {
        long key = net.tunnels[from].key();
        int headerLength = key < 0 ? GRE_BASE_LENGTH : GRE_BASE_LENGTH + 4;
        byte[] packet = new byte[headerLength + inner.length];
        packet[0] = (byte) (key < 0 ? 0 : GRE_FLAG_KEY);
        int protocol = inner.length > 0 && (inner[0] & 0xF0) == 0x60 ? 0x86DD : 0x0800;
        packet[2] = (byte) (protocol >>> 8);
        packet[3] = (byte) protocol;
        if (key >= 0) {
            packet[4] = (byte) (key >>> 24);
            packet[5] = (byte) (key >>> 16);
            packet[6] = (byte) (key >>> 8);
            packet[7] = (byte) key;
        }
        System.arraycopy(inner, 0, packet, headerLength, inner.length);
        return packet;
    }

    /** Index of the inner packet in a sent GRE packet. */
    static int innerOffset(ByteBuf gre) {
        int flags = gre.getUnsignedByte(gre.readerIndex());
        int length = GRE_BASE_LENGTH;
        length += (flags & GRE_FLAG_CHECKSUM) != 0 ? 4 : 0;
        length += (flags & GRE_FLAG_KEY) != 0 ? 4 : 0;
        length += (flags & GRE_FLAG_SEQUENCE) != 0 ? 4 : 0;
        return gre.readerIndex() + length;
    }

    /** Checks the IPv4 header checksum and, for an unfragmented TCP/UDP/ICMP packet, its transport checksum. */
    static void assertChecksumsValid(ByteBuf gre) {
        int ip = innerOffset(gre);
        if (gre.writerIndex() - ip < 20 || (gre.getUnsignedByte(ip) >>> 4) != 4) {
            return;
        }
        int headerLength = (gre.getUnsignedByte(ip) & 0x0F) * 4;
        int totalLength = gre.getUnsignedShort(ip + 2);
        assertEquals(0, InternetChecksum.compute(gre, ip, headerLength), "IPv4 header checksum");
        int protocol = gre.getUnsignedByte(ip + 9);
        int l4 = ip + headerLength;
        int l4Length = totalLength - headerLength;
        boolean fragment = (gre.getUnsignedShort(ip + 6) & 0x3FFF) != 0;
        if (fragment || l4Length <= 0) {
            return;
        }
        if (protocol == 1) {
            assertEquals(0, InternetChecksum.compute(gre, l4, l4Length), "ICMP checksum");
        } else if (protocol == 6 || protocol == 17 && gre.getUnsignedShort(l4 + 6) != 0) {
            long sum = InternetChecksum.sum(gre, ip + 12, 8) + protocol + l4Length + InternetChecksum.sum(gre, l4,
                    l4Length);
            assertEquals(0, InternetChecksum.finish(sum), protocol == 6 ? "TCP checksum" : "UDP checksum");
        }
    }

    /** Releases what the path sent. */
    void releaseSent() {
        sent.forEach(ByteBuf::release);
        sent.clear();
    }

    private long[] drops() {
        long[] drops = new long[DropReason.values().length];
        for (DropReason reason : DropReason.values()) {
            drops[reason.ordinal()] = counters.drops(reason);
        }
        return drops;
    }
}
