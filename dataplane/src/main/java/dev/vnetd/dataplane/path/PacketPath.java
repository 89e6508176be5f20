package dev.vnetd.dataplane.path;

import dev.vnetd.crypto.esp.EspContext;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.Ipv6Flyweight;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.flowtable.FlowTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.function.LongSupplier;

/**
 * One worker's packet path, run to completion on the thread that received the packet:
 * 1. receive from a listener's socket  2. GRE decap, or ESP decrypt ({@link EspDecap})  3. identify the ingress
 * tunnel, hence the virtual network  4. validate the inner packet  5. flow lookup (ARR, {@link FlowLookup}), else
 * route lookup and next hop  6. TTL, MTU, ICMP errors  7. GRE encap, or ESP encrypt ({@link EspEncap})  8. queue on
 * the worker's own socket, flushed once per read batch.
 *
 * <p>No allocation (the forwarding state, flyweights and counters are all reused), no lock, no hand-off: a packet
 * is received, processed and sent by one thread. Not thread-safe: one instance per worker.
 */
public final class PacketPath {
    private final ForwardingStateHolder stateHolder;
    private final WorkerCounters counters;
    private final TxPort[] txPorts;
    private final boolean[] pending;
    private final ByteBufAllocator alloc;
    private final LongSupplier nanoClock;

    private final GreDecap decap = new GreDecap();
    private final InnerPacket packet = new InnerPacket();
    private final RouteLookup lookup = new RouteLookup();
    private final FlowLookup flowLookup;
    private final IcmpErrors icmpErrors = new IcmpErrors();
    private final GreEncap encap = new GreEncap();
    private final Ipv4Flyweight ipv4 = new Ipv4Flyweight();
    private final Ipv6Flyweight ipv6 = new Ipv6Flyweight();
    private final EspContext espContext = new EspContext();
    private final EspDecap espDecap = new EspDecap(espContext);
    private final EspEncap espEncap = new EspEncap(espContext);

    /**
     * A path for one worker.
     *
     * @param stateHolder where the control plane publishes the forwarding state
     * @param counters    this worker's counters
     * @param txPorts     this worker's socket for each listener id (null where it has none)
     * @param alloc       allocator for the rare packet that needs a new buffer (ICMP errors, missing headroom)
     * @param nanoClock   monotonic clock for the ICMP rate limit
     * @param flows       the flow table for Automatic Return Routing, shared by all workers
     * @param clockMillis wall clock for flow times
     */
    public PacketPath(ForwardingStateHolder stateHolder, WorkerCounters counters, TxPort[] txPorts,
                      ByteBufAllocator alloc, LongSupplier nanoClock, FlowTable flows, LongSupplier clockMillis) {
        this.stateHolder = stateHolder;
        this.counters = counters;
        this.txPorts = txPorts.clone();
        this.pending = new boolean[txPorts.length];
        this.alloc = alloc;
        this.nanoClock = nanoClock;
        this.flowLookup = new FlowLookup(flows, clockMillis);
    }

    /**
     * Processes one datagram received on listener {@code listenerId}: its readable bytes are the UDP payload, or
     * for raw IPv4 listeners the whole IP packet. Takes ownership of {@code buf}: it is either sent on or released.
     */
    public void receive(int listenerId, ByteBuf buf, InetSocketAddress sender) {
        ForwardingState state = stateHolder.get();
        Listener listener = state.listeners()[listenerId];
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        int greOffset = start;
        int tunnelId;
        boolean rawIpv4 = listener.type().raw() && listener.address().getAddress() instanceof Inet4Address;
        if (listener.type().esp()) {
            receiveEsp(state, listenerId, listener.type() == ListenerType.ESP_UDP, rawIpv4, buf, sender);
            return;
        }
        if (rawIpv4) {
            int outerLength = outerHeaderLength(buf, start, end);
            if (outerLength < 0) {
                drop(buf, DropReason.OUTER_TRUNCATED);
                return;
            }
            greOffset = start + outerLength;
            int innerStart = decap.decap(buf, greOffset, end);
            if (innerStart < 0) {
                drop(buf, decap.dropReason());
                return;
            }
            tunnelId = state.tunnelIndex().findIpv4(listenerId, ipv4.source(), decap.key());
            forward(state, buf, innerStart, end, decap.ipv6(), tunnelId, end - start);
            return;
        }
        int innerStart = decap.decap(buf, greOffset, end);
        if (innerStart < 0) {
            drop(buf, decap.dropReason());
            return;
        }
        InetAddress address = sender.getAddress();
        if (address instanceof Inet4Address) {
            // Inet4Address.hashCode() is its address as an int: read without copying the address bytes
            tunnelId = state.tunnelIndex().findIpv4(listenerId, address.hashCode(), decap.key());
        } else {
            tunnelId = state.tunnelIndex().findIpv6(listenerId, Tunnel.ipv6High(address), Tunnel.ipv6Low(address),
                    decap.key());
        }
        forward(state, buf, innerStart, end, decap.ipv6(), tunnelId, end - start);
    }

    /**
     * Length of the outer IPv4 header a raw IPv4 socket delivers before the payload (left wrapped in
     * {@code ipv4}), or -1 when the datagram is shorter than the header says.
     */
    private int outerHeaderLength(ByteBuf buf, int start, int end) {
        if (end - start < Ipv4Flyweight.MIN_HEADER_LENGTH) {
            return -1;
        }
        int length = ipv4.wrap(buf, start).headerLength();
        return length < Ipv4Flyweight.MIN_HEADER_LENGTH || length > end - start ? -1 : length;
    }

    private void receiveEsp(ForwardingState state, int listenerId, boolean udp, boolean rawIpv4, ByteBuf buf,
                            InetSocketAddress sender) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        int espOffset = start;
        int sourceV4 = 0;
        InetAddress source = sender.getAddress();
        if (rawIpv4) {
            int outerLength = outerHeaderLength(buf, start, end);
            if (outerLength < 0) {
                drop(buf, DropReason.OUTER_TRUNCATED);
                return;
            }
            espOffset = start + outerLength;
            sourceV4 = ipv4.source();
            source = null;
        }
        int tunnelId = espDecap.decap(state, listenerId, udp, buf, espOffset, end, source, sourceV4);
        if (tunnelId == TunnelIndex.NO_TUNNEL) {
            drop(buf, espDecap.dropReason());
            return;
        }
        forward(state, buf, espDecap.innerStart(), espDecap.innerEnd(), espDecap.ipv6(), tunnelId, end - start);
    }

    private void forward(ForwardingState state, ByteBuf buf, int innerStart, int end, boolean innerIpv6, int tunnelId,
                         int outerBytes) {
        if (tunnelId == TunnelIndex.NO_TUNNEL) {
            drop(buf, DropReason.UNKNOWN_TUNNEL);
            return;
        }
        Tunnel ingress = state.tunnels()[tunnelId];
        counters.rx(tunnelId, outerBytes);
        if (!packet.parse(buf, innerStart, end, innerIpv6)) {
            drop(buf, packet.dropReason());
            return;
        }
        if (packet.ttl() <= 1) {
            // before the flow table: a packet that dies here opens no flow
            sendIcmpError(state, buf, IcmpErrors.Kind.TIME_EXCEEDED, 0, ingress);
            drop(buf, DropReason.TTL_EXCEEDED);
            return;
        }
        VirtualNetwork vn = state.virtualNetworks()[ingress.virtualNetwork()];
        int flowHash = packet.flowHash();
        Tunnel egress = flowLookup.decide(state, vn, ingress, packet, buf, counters);
        if (egress != null && flowLookup.pinned() && state.health().state(egress.id()) == TunnelHealth.DOWN) {
            Tunnel better = route(state, vn, flowHash);
            if (better != null && better != egress) {
                flowLookup.repin(better);
                counters.flowFailover();
                egress = better;
            }
        }
        if (egress == null) {
            egress = route(state, vn, flowHash);
            if (egress == null) {
                sendIcmpError(state, buf, IcmpErrors.Kind.NO_ROUTE, 0, ingress);
                drop(buf, DropReason.NO_ROUTE);
                return;
            }
            if (!flowLookup.record(vn, ingress, egress, packet, buf, counters)) {
                drop(buf, flowLookup.refusal());
                return;
            }
        }
        if (packet.length() > egress.mtu() && packet.dontFragment()) {
            sendIcmpError(state, buf, IcmpErrors.Kind.TOO_BIG, egress.mtu(), ingress);
            drop(buf, DropReason.TOO_BIG);
            return;
        }
        if (packet.ipv6()) {
            ipv6.wrap(buf, packet.offset()).hopLimit(packet.ttl() - 1);
        } else {
            ipv4.wrap(buf, packet.offset()).decrementTtl();
        }
        transmit(buf, packet.offset(), packet.length(), packet.ipv6(), egress, flowHash);
    }

    private Tunnel route(ForwardingState state, VirtualNetwork vn, int flowHash) {
        return packet.ipv6()
                ? lookup.ipv6(state, vn, packet.destinationHigh(), packet.destinationLow(), flowHash)
                : lookup.ipv4(state, vn, packet.destination4(), flowHash);
    }

    private void sendIcmpError(ForwardingState state, ByteBuf buf, IcmpErrors.Kind kind, int mtu, Tunnel ingress) {
        if (!packet.mayTriggerIcmpError()) {
            return;
        }
        if (!icmpErrors.allow(nanoClock.getAsLong())) {
            counters.icmpRateLimited();
            return;
        }
        ByteBuf error = icmpErrors.build(buf, packet, kind, mtu, ingress, alloc);
        if (transmit(error, error.readerIndex(), error.readableBytes(), packet.ipv6(), ingress, packet.flowHash())) {
            counters.icmpSent();
        }
    }

    private boolean transmit(ByteBuf buf, int offset, int length, boolean isIpv6, Tunnel egress, int flowHash) {
        int listenerId = egress.listener().id();
        TxPort port = txPorts[listenerId];
        if (port == null) {
            drop(buf, DropReason.TX_UNAVAILABLE);
            return false;
        }
        ByteBuf out = egress.esp() ? espEncap.encap(buf, offset, length, isIpv6, egress, alloc)
                : encap.encap(buf, offset, length, isIpv6, egress, alloc);
        if (out == null) {
            counters.drop(espEncap.dropReason());
            return false;
        }
        int bytes = out.readableBytes();
        if (!port.send(out, egress.remote(), flowHash)) {
            counters.drop(DropReason.TX_FAILED);
            return false;
        }
        counters.tx(egress.id(), bytes);
        pending[listenerId] = true;
        return true;
    }

    private void drop(ByteBuf buf, DropReason reason) {
        counters.drop(reason);
        buf.release();
    }

    /** Sends everything queued since the last flush; called once per read batch. */
    public void flush() {
        for (int i = 0; i < pending.length; i++) {
            if (pending[i]) {
                pending[i] = false;
                txPorts[i].flush();
            }
        }
    }

    /** This worker's counters. */
    public WorkerCounters counters() {
        return counters;
    }
}
