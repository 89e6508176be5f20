package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.nexthop.FlowHash;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.flowtable.FlowLookupBatch;
import dev.vnetd.flowtable.FlowTable;
import io.netty.buffer.ByteBuf;

import java.util.function.LongSupplier;

/**
 * Step 5a of the path, before the FIB: Automatic Return Routing through the flow table. In a virtual network with
 * an {@code arr: true} tunnel, every packet is looked up as a flow:
 * <ul>
 *   <li>its own key matches a flow its ingress tunnel started: it goes to the flow's pinned next hop;</li>
 *   <li>its swapped key (dst, src, dport, sport) matches: it is a reply, and goes back to the tunnel that started
 *       the flow, without a FIB lookup, wherever it arrived from;</li>
 *   <li>neither: the FIB decides, and a packet that opens a flow (TCP SYN, UDP, ICMP echo request) from an
 *       {@code arr: true} tunnel is recorded with its ingress tunnel as origin ({@link #record}).</li>
 * </ul>
 *
 * <p>Port translation: when two sites send the same 5-tuple (same private source address and port, same
 * destination), the second site's flow gets a translated source port (or ICMP identifier) from 49152-65535,
 * derived from the key and the ingress tunnel so every later packet of that site finds it again without state of
 * its own. The flow is stored under the translated key with the site's port as {@code originalPort}; packets from
 * the site are rewritten on the way in, replies restored on the way back, checksums updated incrementally. Should
 * the translated key belong to yet another tunnel's flow, the packet is routed by the FIB and counted.
 */
public final class FlowLookup {
    /** A lookup hint that says nothing: {@link #decide} looks the packet's flow up itself. */
    public static final long NO_HINT = Long.MIN_VALUE;
    /** First port translated flows use: the dynamic range (RFC 6335). */
    static final int TRANSLATED_PORTS_FIRST = 49152;
    private static final int TRANSLATED_PORTS_MASK = 0x3FFF;
    private static final int NONE = -1;
    private static final int ICMP = 1;
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int ICMPV6 = 58;
    private static final int TCP_SYN = 0x02;
    private static final int TCP_ACK = 0x10;
    private static final int ICMP_ECHO_REQUEST = 8;
    private static final int ICMPV6_ECHO_REQUEST = 128;

    private final FlowTable flows;
    private final LongSupplier clockMillis;
    private long now;
    private int slot;
    private boolean fromOrigin;
    private int translatedPort;
    private DropReason refusal;
    private int family;
    private long srcHigh;
    private long srcLow;
    private long dstHigh;
    private long dstLow;
    /** Flows this lookup has inserted: a miss found before the last insert may no longer be one. */
    private long inserts;
    /** {@link #inserts} when the last batch of hints was looked up. */
    private long hintInserts;

    /**
     * A lookup over {@code flows} (shared by all workers) with wall-clock {@code clockMillis}: flow times survive a
     * restart when the table is persisted.
     */
    public FlowLookup(FlowTable flows, LongSupplier clockMillis) {
        this.flows = flows;
        this.clockMillis = clockMillis;
    }

    /**
     * The tunnel the flow table decides for {@code packet} (in {@code buf}) from {@code ingress}, or null when the
     * FIB decides. Counts the packet against its flow; rewrites a translated flow's port.
     */
    public Tunnel decide(ForwardingState state, VirtualNetwork vn, Tunnel ingress, InnerPacket packet, ByteBuf buf,
                         WorkerCounters counters) {
        return decide(state, vn, ingress, packet, buf, counters, NO_HINT, NO_HINT);
    }

    /**
     * Decides as {@link #decide(ForwardingState, VirtualNetwork, Tunnel, InnerPacket, ByteBuf, WorkerCounters)}
     * does, with {@code hint} and {@code returnHint}: what {@link #lookupHints} found for the packet's own-direction
     * key ({@link #addHintKey}) and for its return key ({@link #addReturnKey}, looked up only when the own key
     * missed), each {@link #NO_HINT} when not looked up. A hint stands in for its lookup only while it is still the
     * answer the table would give: a found flow whose slot has not changed since ({@link FlowTable#validate}), a miss
     * while this lookup has inserted no flow since; otherwise the flow is looked up again. Either way the decision is
     * the one a lookup made now would give, except that another worker's insert after the hints were looked up is
     * seen with the next batch.
     */
    public Tunnel decide(ForwardingState state, VirtualNetwork vn, Tunnel ingress, InnerPacket packet, ByteBuf buf,
                         WorkerCounters counters, long hint, long returnHint) {
        slot = NONE;
        translatedPort = NONE;
        if (!vn.arr()) {
            return null;
        }
        now = clockMillis.getAsLong();
        boolean v6 = packet.ipv6();
        family = v6 ? FlowTable.FAMILY_IPV6 : FlowTable.FAMILY_IPV4;
        srcHigh = v6 ? packet.sourceHigh() : 0;
        srcLow = v6 ? packet.sourceLow() : packet.source4() & 0xFFFF_FFFFL;
        dstHigh = v6 ? packet.destinationHigh() : 0;
        dstLow = v6 ? packet.destinationLow() : packet.destination4() & 0xFFFF_FFFFL;
        int proto = packet.protocol();
        if (hint >= 0) {
            // a found flow: its slot's fields, then one validation that they are the hinted flow's, unchanged
            int at = FlowTable.slot(hint);
            int origin = flows.originTunnel(at);
            int egress = flows.egressTunnel(at);
            if (flows.validate(hint)) {
                return origin == ingress.id() ? pinned(state, at, egress, packet)
                        : translated(state, vn, ingress, packet, buf, counters, true);
            }
        }
        long handle = hint == FlowTable.NOT_FOUND && inserts == hintInserts ? FlowTable.NOT_FOUND
                : forward(vn, proto, packet.sourcePort(), packet.destinationPort());
        if (handle >= 0) {
            int at = FlowTable.slot(handle);
            int origin = flows.originTunnel(at);
            int egress = flows.egressTunnel(at);
            if (origin == ingress.id() && flows.validate(handle)) {
                return pinned(state, at, egress, packet);
            }
            if (origin != ingress.id()) {
                return translated(state, vn, ingress, packet, buf, counters, true);
            }
        }
        handle = returnHint >= 0 || returnHint == FlowTable.NOT_FOUND && inserts == hintInserts ? returnHint
                : returnFlow(vn, packet);
        if (handle >= 0 && handle == returnHint && !flows.validate(handle)) {
            handle = returnFlow(vn, packet); // the hinted flow changed since: look again
        }
        if (handle >= 0) {
            int at = FlowTable.slot(handle);
            int origin = flows.originTunnel(at);
            int originalPort = flows.originalPort(at);
            if (flows.validate(handle)) {
                slot = at;
                fromOrigin = false;
                flows.touch(at, false, packet.length(), packet.tcpFlags(), now);
                if (originalPort != FlowTable.NO_PORT && packet.portsRewritable()) {
                    packet.rewriteDestinationPort(buf, originalPort);
                }
                counters.arrReturn(origin);
                return state.tunnels()[origin];
            }
        }
        return ingress.arr() ? translated(state, vn, ingress, packet, buf, counters, false) : null;
    }

    /**
     * Adds the own-direction key of {@code packet} (parsed, from a tunnel of {@code vn}) to {@code batch}, the key
     * {@link #decide} looks up first; returns its index in the batch, or -1 when the batch is full.
     */
    public static int addHintKey(FlowLookupBatch batch, VirtualNetwork vn, InnerPacket packet) {
        boolean v6 = packet.ipv6();
        return batch.add(vn.id(), v6 ? FlowTable.FAMILY_IPV6 : FlowTable.FAMILY_IPV4, packet.protocol(),
                v6 ? packet.sourceHigh() : 0, v6 ? packet.sourceLow() : packet.source4() & 0xFFFF_FFFFL,
                v6 ? packet.destinationHigh() : 0, v6 ? packet.destinationLow() : packet.destination4() & 0xFFFF_FFFFL,
                packet.sourcePort(), packet.destinationPort());
    }

    /**
     * Looks up every key of {@code batch} at once ({@link FlowTable#lookup(FlowLookupBatch)}: the cache misses of
     * the keys overlap); each {@link FlowLookupBatch#handle} is then a hint for {@link #decide}.
     */
    public void lookupHints(FlowLookupBatch batch) {
        flows.lookup(batch);
        hintInserts = inserts;
    }

    /**
     * Brings the counters of every flow {@link #lookupHints} found in {@code batch} (the lines {@code touch} will add
     * to, apart from the slot the lookup read) into the cache ahead of {@link #decide}
     * ({@link FlowTable#prefetchCounters}); returns what it loaded where it could not prefetch, for the caller to keep.
     */
    public long prefetchCounters(FlowLookupBatch batch) {
        return flows.prefetchCounters(batch);
    }

    /**
     * Adds the return key of {@code packet} (parsed, from a tunnel of {@code vn}) to {@code batch}: its key with
     * source and destination swapped, the key of a flow it would be the reply to, which {@link #decide} looks up
     * when the own-direction key finds nothing. Returns its index in the batch, or -1 when the batch is full.
     */
    public static int addReturnKey(FlowLookupBatch batch, VirtualNetwork vn, InnerPacket packet) {
        boolean v6 = packet.ipv6();
        return batch.add(vn.id(), v6 ? FlowTable.FAMILY_IPV6 : FlowTable.FAMILY_IPV4, packet.protocol(),
                v6 ? packet.destinationHigh() : 0, v6 ? packet.destinationLow() : packet.destination4() & 0xFFFF_FFFFL,
                v6 ? packet.sourceHigh() : 0, v6 ? packet.sourceLow() : packet.source4() & 0xFFFF_FFFFL,
                returnSourcePort(packet), returnDestinationPort(packet));
    }

    /** The flow {@code packet} is a reply to: its return key looked up now. */
    private long returnFlow(VirtualNetwork vn, InnerPacket packet) {
        return flows.lookup(vn.id(), family, packet.protocol(), dstHigh, dstLow, srcHigh, srcLow,
                returnSourcePort(packet), returnDestinationPort(packet));
    }

    /**
     * The source port of a packet's return key: its destination port, except for ICMP, where an echo reply carries
     * the request's identifier where the request had it (no ports to swap).
     */
    private static int returnSourcePort(InnerPacket packet) {
        return icmp(packet.protocol()) ? packet.sourcePort() : packet.destinationPort();
    }

    /** The destination port of a packet's return key (see {@link #returnSourcePort}). */
    private static int returnDestinationPort(InnerPacket packet) {
        return icmp(packet.protocol()) ? packet.destinationPort() : packet.sourcePort();
    }

    private static boolean icmp(int proto) {
        return proto == ICMP || proto == ICMPV6;
    }

    private long forward(VirtualNetwork vn, int proto, int sport, int dport) {
        return flows.lookup(vn.id(), family, proto, srcHigh, srcLow, dstHigh, dstLow, sport, dport);
    }

    private Tunnel pinned(ForwardingState state, int at, int egress, InnerPacket packet) {
        slot = at;
        fromOrigin = true;
        flows.touch(at, true, packet.length(), packet.tcpFlags(), now);
        return state.tunnels()[egress];
    }

    /**
     * Finds the ingress tunnel's translated flow for this 5-tuple. {@code collided}: the untranslated key belongs
     * to another tunnel, so a new flow must be translated ({@link #record} does it).
     */
    private Tunnel translated(ForwardingState state, VirtualNetwork vn, Tunnel ingress, InnerPacket packet,
                             ByteBuf buf, WorkerCounters counters, boolean collided) {
        if (!packet.portsRewritable()) {
            if (collided) {
                counters.flowCollision();
            }
            return null;
        }
        int port = translatedPort(vn, ingress, packet);
        long handle = forward(vn, packet.protocol(), port, packet.destinationPort());
        if (handle >= 0) {
            int at = FlowTable.slot(handle);
            int origin = flows.originTunnel(at);
            int egress = flows.egressTunnel(at);
            if (origin == ingress.id() && flows.validate(handle)) {
                packet.rewriteSourcePort(buf, port);
                return pinned(state, at, egress, packet);
            }
            counters.flowCollision();
            return null;
        }
        if (collided) {
            translatedPort = port;
        }
        return null;
    }

    private int translatedPort(VirtualNetwork vn, Tunnel ingress, InnerPacket packet) {
        long h = FlowHash.fmix64(srcHigh * 31 + srcLow) ^ FlowHash.fmix64(dstHigh * 31 + dstLow);
        h = FlowHash.fmix64(h ^ ((long) vn.id() << 48) ^ ((long) packet.protocol() << 40)
                ^ ((long) packet.sourcePort() << 16) ^ packet.destinationPort() ^ ((long) ingress.id() << 24));
        return TRANSLATED_PORTS_FIRST + (int) (h & TRANSLATED_PORTS_MASK);
    }

    /** Whether the last decision came from a flow in its own direction (a pinned next hop). */
    public boolean pinned() {
        return slot >= 0 && fromOrigin;
    }

    /** Moves the last packet's flow to a new next hop (mid-flow failover). */
    public void repin(Tunnel egress) {
        flows.egressTunnel(slot, egress.id());
    }

    /**
     * Records a flow for a packet the FIB routed, when it opens one from an {@code arr: true} tunnel, translating
     * its source port when its 5-tuple is another tunnel's flow. Returns false when the flow is refused, the
     * packet then to be dropped (as conntrack does) for {@link #refusal()}: the table is full, or the ingress tunnel
     * holds its {@code max_flows} (counted per tunnel).
     */
    public boolean record(VirtualNetwork vn, Tunnel ingress, Tunnel egress, InnerPacket packet, ByteBuf buf,
                          WorkerCounters counters) {
        if (!vn.arr() || !ingress.arr() || !opensFlow(packet)) {
            return true;
        }
        int sport = translatedPort == NONE ? packet.sourcePort() : translatedPort;
        int originalPort = translatedPort == NONE ? FlowTable.NO_PORT : packet.sourcePort();
        long handle = flows.insert(vn.id(), family, packet.protocol(), srcHigh, srcLow, dstHigh, dstLow, sport,
                packet.destinationPort(), ingress.id(), egress.id(), originalPort, packet.tcpFlags(), now,
                ingress.maxFlows());
        if (handle == FlowTable.TABLE_FULL) {
            refusal = DropReason.FLOW_TABLE_FULL;
            return false;
        }
        if (handle == FlowTable.QUOTA_EXCEEDED) {
            refusal = DropReason.FLOW_QUOTA;
            counters.flowQuotaRefused(ingress.id());
            return false;
        }
        inserts++;
        flows.touch(FlowTable.slot(handle), true, packet.length(), packet.tcpFlags(), now);
        if (translatedPort != NONE) {
            packet.rewriteSourcePort(buf, translatedPort);
            counters.portTranslation();
        }
        return true;
    }

    /** Why the last {@link #record} refused its flow. */
    public DropReason refusal() {
        return refusal;
    }

    private static boolean opensFlow(InnerPacket packet) {
        return switch (packet.protocol()) {
            case TCP -> (packet.tcpFlags() & (TCP_SYN | TCP_ACK)) == TCP_SYN;
            case UDP -> true;
            case ICMP, ICMPV6 -> packet.icmpType() == ICMP_ECHO_REQUEST || packet.icmpType() == ICMPV6_ECHO_REQUEST;
            default -> false;
        };
    }
}
