package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.flowtable.FlowTable;

import java.util.function.LongSupplier;

/**
 * Step 5a of the path, before the FIB: Automatic Return Routing through the flow table. In a virtual network with
 * an {@code arr: true} tunnel, every packet is looked up as a flow:
 * <ul>
 *   <li>its own key matches a flow: it travels in the flow's direction and goes to the flow's pinned next hop;</li>
 *   <li>its swapped key (dst, src, dport, sport) matches: it is a reply, and goes back to the tunnel that started
 *       the flow, without a FIB lookup, wherever it arrived from;</li>
 *   <li>neither: the FIB decides, and a packet that opens a flow (TCP SYN, UDP, ICMP echo request) from an
 *       {@code arr: true} tunnel is recorded with its ingress tunnel as origin ({@link #record}).</li>
 * </ul>
 * A packet whose own key matches a flow started by another tunnel (two sites sending the same 5-tuple) is routed
 * by the FIB and counted; translating its source port is the next step of the ARR work.
 */
public final class FlowLookup {
    private static final int TCP_SYN = 0x02;
    private static final int TCP_ACK = 0x10;
    private static final int ICMP = 1;
    private static final int ICMPV6 = 58;
    private static final int ICMP_ECHO_REQUEST = 8;
    private static final int ICMPV6_ECHO_REQUEST = 128;

    private final FlowTable flows;
    private final LongSupplier clockMillis;
    private long now;
    private int slot;
    private boolean fromOrigin;

    /**
     * A lookup over {@code flows} (shared by all workers) with wall-clock {@code clockMillis}: flow times survive a
     * restart when the table is persisted.
     */
    public FlowLookup(FlowTable flows, LongSupplier clockMillis) {
        this.flows = flows;
        this.clockMillis = clockMillis;
    }

    /**
     * The tunnel the flow table decides for {@code packet} from {@code ingress}, or null when the FIB decides.
     * Counts the packet against its flow.
     */
    public Tunnel decide(ForwardingState state, VirtualNetwork vn, Tunnel ingress, InnerPacket packet,
                         WorkerCounters counters) {
        slot = -1;
        if (!vn.arr()) {
            return null;
        }
        now = clockMillis.getAsLong();
        int family = packet.ipv6() ? FlowTable.FAMILY_IPV6 : FlowTable.FAMILY_IPV4;
        long srcHigh = packet.ipv6() ? packet.sourceHigh() : 0;
        long srcLow = packet.ipv6() ? packet.sourceLow() : packet.source4() & 0xFFFF_FFFFL;
        long dstHigh = packet.ipv6() ? packet.destinationHigh() : 0;
        long dstLow = packet.ipv6() ? packet.destinationLow() : packet.destination4() & 0xFFFF_FFFFL;
        long handle = flows.lookup(vn.id(), family, packet.protocol(), srcHigh, srcLow, dstHigh, dstLow,
                packet.sourcePort(), packet.destinationPort());
        if (handle >= 0) {
            int at = FlowTable.slot(handle);
            int origin = flows.originTunnel(at);
            int egress = flows.egressTunnel(at);
            if (flows.validate(handle) && origin == ingress.id()) {
                slot = at;
                fromOrigin = true;
                flows.touch(at, true, packet.length(), packet.tcpFlags(), now);
                return state.tunnels()[egress];
            }
            if (origin != ingress.id()) {
                counters.flowCollision();
                return null;
            }
        }
        boolean icmp = packet.protocol() == ICMP || packet.protocol() == ICMPV6;
        // an ICMP echo reply carries the request's identifier where the request had it: no ports to swap
        handle = flows.lookup(vn.id(), family, packet.protocol(), dstHigh, dstLow, srcHigh, srcLow,
                icmp ? packet.sourcePort() : packet.destinationPort(),
                icmp ? packet.destinationPort() : packet.sourcePort());
        if (handle >= 0) {
            int at = FlowTable.slot(handle);
            int origin = flows.originTunnel(at);
            if (flows.validate(handle)) {
                slot = at;
                fromOrigin = false;
                flows.touch(at, false, packet.length(), packet.tcpFlags(), now);
                counters.arrReturn(origin);
                return state.tunnels()[origin];
            }
        }
        return null;
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
     * Records a flow for a packet the FIB routed, when it opens one from an {@code arr: true} tunnel. Returns false
     * when the table is full and refuses it (the packet is then dropped, as conntrack does).
     */
    public boolean record(VirtualNetwork vn, Tunnel ingress, Tunnel egress, InnerPacket packet) {
        if (!vn.arr() || !ingress.arr() || !opensFlow(packet)) {
            return true;
        }
        int family = packet.ipv6() ? FlowTable.FAMILY_IPV6 : FlowTable.FAMILY_IPV4;
        long handle = flows.insert(vn.id(), family, packet.protocol(),
                packet.ipv6() ? packet.sourceHigh() : 0,
                packet.ipv6() ? packet.sourceLow() : packet.source4() & 0xFFFF_FFFFL,
                packet.ipv6() ? packet.destinationHigh() : 0,
                packet.ipv6() ? packet.destinationLow() : packet.destination4() & 0xFFFF_FFFFL,
                packet.sourcePort(), packet.destinationPort(), ingress.id(), egress.id(), FlowTable.NO_PORT,
                packet.tcpFlags(), now);
        return handle != FlowTable.TABLE_FULL;
    }

    private static boolean opensFlow(InnerPacket packet) {
        return switch (packet.protocol()) {
            case 6 -> (packet.tcpFlags() & (TCP_SYN | TCP_ACK)) == TCP_SYN;
            case 17 -> true;
            case ICMP, ICMPV6 -> packet.icmpType() == ICMP_ECHO_REQUEST || packet.icmpType() == ICMPV6_ECHO_REQUEST;
            default -> false;
        };
    }
}
