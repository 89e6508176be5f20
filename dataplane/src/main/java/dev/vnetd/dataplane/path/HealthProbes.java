package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Tunnel health probes on the path (Cloudflare WAN bidirectional tunnel health checks): the ICMP echo packets the
 * control plane has a worker send inside a tunnel, and the replies the path takes out of the traffic, shared by all
 * workers and the control plane without a lock.
 *
 * <pre>
 *   request probe:  echo request  local -&gt; target   ==tunnel==&gt;  far end answers  echo reply  target -&gt; local
 *   reply probe:    echo reply    target -&gt; local   ==tunnel==&gt;  far end routes it back unchanged
 *
 *   ICMP echo (RFC 792):
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Type (8 / 0) |     Code 0    |          Checksum             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Identifier (this daemon's)  |  Sequence (per tunnel probe)  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  "vnetd health probe" payload ...
 *
 *   replies:  [tunnel * RING + (sequence &amp; (RING - 1))] = REPLIED | sequence     (AtomicLongArray)
 *   watched:  [tunnel] = local IPv4 address the replies are addressed to, 0 = not probed  (AtomicIntegerArray)
 * </pre>
 *
 * Either way the answer is an echo reply from the target to the tunnel's own (interface) address carrying this
 * daemon's identifier. The path consumes it ({@link #consume}) before the flow table and the FIB: it is neither
 * forwarded nor opens a flow. The control plane clears a sequence's slot before the probe goes out and reads it
 * when the probe times out; a slot is reused after {@link #RING} probes of the tunnel, long after any timeout.
 * Writers and readers touch single array elements with volatile semantics, so no reply is half seen.
 */
public final class HealthProbes {
    /** Reply slots per tunnel: far more probes than can be outstanding within a probe timeout. */
    public static final int RING = 64;
    /** Bytes before a probe's IP header: room for the GRE header or the ESP header and IV, so encap is in place. */
    public static final int HEADROOM = 64;
    /** Bytes after a probe: room for ESP padding, trailer and ICV. */
    public static final int TAILROOM = 64;
    /** ICMP echo reply type. */
    public static final int ECHO_REPLY = 0;
    /** ICMP echo request type. */
    public static final int ECHO_REQUEST = 8;
    /** Payload of every probe: says what it is to whoever captures it. */
    private static final byte[] PAYLOAD = "vnetd health probe".getBytes(StandardCharsets.US_ASCII);
    private static final int ICMP_HEADER = 8;
    /** Total length of a probe's IP packet. */
    public static final int PROBE_LENGTH = Ipv4Flyweight.MIN_HEADER_LENGTH + ICMP_HEADER + PAYLOAD.length;
    private static final long REPLIED = 1L << 32;
    private static final int SEQUENCE_MASK = 0xFFFF;

    private final int identifier;
    private final AtomicIntegerArray watched;
    private final AtomicLongArray replies;

    /**
     * Probe state for tunnel ids below {@code tunnels}; {@code identifier} (16 bits) is the ICMP identifier of every
     * probe, so that echo replies to anything else are never taken for probe replies.
     */
    public HealthProbes(int tunnels, int identifier) {
        this.identifier = identifier & SEQUENCE_MASK;
        this.watched = new AtomicIntegerArray(tunnels);
        this.replies = new AtomicLongArray(tunnels * RING);
    }

    /** The ICMP identifier of this daemon's probes. */
    public int identifier() {
        return identifier;
    }

    /** Number of tunnel ids covered. */
    public int tunnels() {
        return watched.length();
    }

    /**
     * Starts taking replies addressed to {@code localAddress} (the tunnel's IPv4 interface address) out of
     * {@code tunnel}'s traffic; 0 stops it. Any thread.
     */
    public void watch(int tunnel, int localAddress) {
        watched.set(tunnel, localAddress);
    }

    /** Forgets any reply to {@code sequence} of {@code tunnel}; called before that probe is sent. Any thread. */
    public void clear(int tunnel, int sequence) {
        replies.set(slot(tunnel, sequence), 0);
    }

    /** Whether the reply to {@code sequence} of {@code tunnel} arrived since it was cleared. Any thread. */
    public boolean replied(int tunnel, int sequence) {
        return replies.get(slot(tunnel, sequence)) == (REPLIED | (sequence & SEQUENCE_MASK));
    }

    private static int slot(int tunnel, int sequence) {
        return tunnel * RING + (sequence & (RING - 1));
    }

    /**
     * Step 4b of the path: whether the inner packet {@code packet} (parsed, in {@code buf}) that arrived through
     * {@code tunnel} is the reply to one of this daemon's probes; if so it is recorded and the caller releases it.
     * No allocation: most packets leave at the first comparison (not an ICMPv4 echo reply).
     */
    boolean consume(int tunnel, InnerPacket packet, ByteBuf buf) {
        if (packet.icmpType() != ECHO_REPLY || packet.ipv6() || tunnel >= watched.length()) {
            return false;
        }
        int local = watched.get(tunnel);
        if (local == 0 || packet.destination4() != local || packet.sourcePort() != identifier) {
            return false;
        }
        int icmp = packet.offset() + (buf.getUnsignedByte(packet.offset()) & 0x0F) * 4;
        int icmpLength = packet.offset() + packet.length() - icmp;
        if (icmpLength < ICMP_HEADER || InternetChecksum.compute(buf, icmp, icmpLength) != 0) {
            return false;
        }
        int sequence = buf.getUnsignedShort(icmp + 6);
        replies.set(slot(tunnel, sequence), REPLIED | sequence);
        return true;
    }

    /**
     * Builds a probe: an echo request from {@code local} to {@code target} ({@code request}), or an echo reply from
     * {@code target} to {@code local}. Returns a new buffer whose readable bytes are the IP packet, with
     * {@link #HEADROOM} bytes before and {@link #TAILROOM} after it. Any thread (shared by the workers, it keeps no
     * flyweight of its own).
     */
    ByteBuf build(ByteBufAllocator alloc, boolean request, int local, int target, int sequence) {
        ByteBuf out = alloc.directBuffer(HEADROOM + PROBE_LENGTH + TAILROOM);
        out.setZero(0, out.capacity());
        int ip = HEADROOM;
        int icmp = ip + Ipv4Flyweight.MIN_HEADER_LENGTH;
        new Ipv4Flyweight().wrap(out, ip).versionAndHeaderLength(Ipv4Flyweight.MIN_HEADER_LENGTH)
                .totalLength(PROBE_LENGTH)
                .identification(sequence & SEQUENCE_MASK)
                .flagsAndFragmentOffset(Ipv4Flyweight.FLAG_DF)
                .ttl(64)
                .protocol(Ipv4Flyweight.PROTO_ICMP)
                .source(request ? local : target)
                .destination(request ? target : local)
                .updateChecksum();
        out.setByte(icmp, request ? ECHO_REQUEST : ECHO_REPLY);
        out.setShort(icmp + 4, identifier);
        out.setShort(icmp + 6, sequence & SEQUENCE_MASK);
        out.setBytes(icmp + ICMP_HEADER, PAYLOAD);
        out.setShort(icmp + 2, InternetChecksum.compute(out, icmp, ICMP_HEADER + PAYLOAD.length));
        out.setIndex(ip, ip + PROBE_LENGTH);
        return out;
    }
}
