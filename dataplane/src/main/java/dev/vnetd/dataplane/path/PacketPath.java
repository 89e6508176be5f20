package dev.vnetd.dataplane.path;

import dev.vnetd.crypto.esp.EspContext;
import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.PacketMemory;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.flowtable.FlowLookupBatch;
import dev.vnetd.flowtable.FlowTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.function.LongSupplier;

/**
 * One worker's packet path, run to completion on the thread that received the packet:
 * 1. receive from a listener's socket, or from a TUN attachment's device queue  2. GRE decap, or ESP decrypt
 * ({@link EspDecap}), nothing for TUN  3. identify the ingress tunnel, hence the virtual network  4. validate the
 * inner packet; replies to health probes end here ({@link HealthProbes})  5. flow lookup (ARR, {@link FlowLookup}),
 * else route lookup and next hop  6. TTL, MTU, ICMP errors  7. GRE encap, or ESP encrypt ({@link EspEncap}), nothing
 * toward a TUN attachment  8. queue on the worker's own socket, flushed once per read batch, or write to the
 * worker's queue of the device.
 *
 * <p>A socket reader hands over a read batch at once ({@link #stage}, then {@link #receiveBatch}): steps 2-4 run
 * for every datagram first, then the flow lookups of all of them together and the route lookups of all of them
 * together, so that their cache misses overlap instead of queueing behind each other's dependent loads, then steps
 * 5-8 datagram by datagram in arrival order, with the lookups' answers as hints ({@link FlowLookup#decide},
 * {@link RouteLookup}). What a batch sends, drops and counts, and what it leaves in the flow table, is what the
 * same datagrams through {@link #receive(int, ByteBuf, long, long)} one by one give.
 *
 * <p>No allocation (the forwarding state, flyweights and counters are all reused), no lock, no hand-off: a packet
 * is received, processed and sent by one thread. Not thread-safe: one instance per worker.
 */
public final class PacketPath {
    /** Most datagrams one {@link #receiveBatch} takes: the socket reader's {@code recvmmsg} batch. */
    public static final int MAX_BATCH = 64;
    /** An IPv4 address as the low long of a sender: its 32 bits unsigned, as {@link TunnelIndex} stores it. */
    private static final long IPV4_MASK = 0xFFFF_FFFFL;
    /** Distinct FIBs one batch looks up together at most; a batch spread wider looks the rest up one by one. */
    private static final int MAX_BATCH_TABLES = 8;
    private final ForwardingStateHolder stateHolder;
    private final WorkerCounters counters;
    /** By listener id, up to the listener capacity; changed only on this worker's thread ({@link #txPort}). */
    private final TxPort[] txPorts;
    private final boolean[] pending;
    /** One past the highest listener id with a port: how far {@link #flush()} looks. */
    private int portLimit;
    private final ByteBufAllocator alloc;
    private final LongSupplier nanoClock;
    private final HealthProbes probes;

    /** The memory of the packet {@link #receive} is on, and of a packet the path builds (ICMP error, probe). */
    private final PacketMemory memory = new PacketMemory();
    private final PacketMemory builtMemory = new PacketMemory();
    private final GreDecap decap = new GreDecap();
    private final InnerPacket packet = new InnerPacket();
    private final RouteLookup lookup = new RouteLookup();
    private final FlowLookup flowLookup;
    private final IcmpErrors icmpErrors = new IcmpErrors();
    private final GreEncap encap = new GreEncap();
    private final Ipv4Flyweight ipv4 = new Ipv4Flyweight();
    private final EspContext espContext = new EspContext();
    private final EspDecap espDecap = new EspDecap(espContext);
    private final EspEncap espEncap = new EspEncap(espContext);
    private final MssClamp mssClamp = new MssClamp();
    private MasqueEgress masque = MasqueEgress.NONE;

    // the staged read batch, by position in it
    private int stagedListener;
    private int stagedCount;
    private final ByteBuf[] stagedBufs = new ByteBuf[MAX_BATCH];
    /** Each datagram's buffer's native address as its reader gave it, or 0. */
    private final long[] stagedAddresses = new long[MAX_BATCH];
    private final long[] stagedSenderHighs = new long[MAX_BATCH];
    private final long[] stagedSenderLows = new long[MAX_BATCH];
    /** Each datagram's parsed inner packet. */
    private final InnerPacket[] stagedPackets = new InnerPacket[MAX_BATCH];
    /** Each datagram's buffer, located. */
    private final PacketMemory[] stagedMemories = new PacketMemory[MAX_BATCH];
    /** Each datagram's ingress tunnel, or {@link TunnelIndex#NO_TUNNEL} when it is dropped before it has one. */
    private final int[] stagedTunnels = new int[MAX_BATCH];
    /** Each datagram's ingress tunnel's virtual network (its id), when it has a tunnel. */
    private final int[] stagedVirtualNetworks = new int[MAX_BATCH];
    /** Why each datagram is dropped before the flow lookup, or null when it goes on. */
    private final DropReason[] stagedDrops = new DropReason[MAX_BATCH];
    private final int[] stagedOuterBytes = new int[MAX_BATCH];
    private final long[] flowHints = new long[MAX_BATCH];
    private final int[] routeHints = new int[MAX_BATCH];
    private final FlowLookupBatch flowBatch = new FlowLookupBatch(MAX_BATCH);
    /** Datagram of each key in {@link #flowBatch}. */
    private final int[] flowBatchDatagrams = new int[MAX_BATCH];
    /** Per staged datagram, what {@link #returnBatch} found for its return key, or {@link FlowLookup#NO_HINT}. */
    private final long[] returnHints = new long[MAX_BATCH];
    /** The return keys of the ARR datagrams whose own key found no flow: replies, looked up together. */
    private final FlowLookupBatch returnBatch = new FlowLookupBatch(MAX_BATCH);
    /** Datagram of each key in {@link #returnBatch}. */
    private final int[] returnBatchDatagrams = new int[MAX_BATCH];
    /** Datagrams still waiting for a batch route lookup, and the addresses and answers of one FIB's lookup. */
    private final int[] routePending = new int[MAX_BATCH];
    private final int[] routeDatagrams = new int[MAX_BATCH];
    private final int[] routeAddresses4 = new int[MAX_BATCH];
    private final long[] routeHighs = new long[MAX_BATCH];
    private final long[] routeLows = new long[MAX_BATCH];
    private final int[] routeAnswers = new int[MAX_BATCH];
    /** Datagrams whose batch route lookup matched a route, and those routes' next-hop groups ({@link #warmHints}). */
    private final int[] routedDatagrams = new int[MAX_BATCH];
    private final NextHopGroup[] routedGroups = new NextHopGroup[MAX_BATCH];
    private int routedCount;
    /** What {@link #warmHints} read, kept so that the compiler keeps its reads. */
    private long warmed;

    /**
     * A path for one worker.
     *
     * @param stateHolder where the control plane publishes the forwarding state
     * @param counters    this worker's counters
     * @param txPorts     this worker's socket for each listener id (null where it has none); its length is the
     *                    listener capacity: reloads may install ports up to it ({@link #txPort})
     * @param alloc       allocator for the rare packet that needs a new buffer (ICMP errors, missing headroom)
     * @param nanoClock   monotonic clock for the ICMP rate limit
     * @param flows       the flow table for Automatic Return Routing, shared by all workers
     * @param clockMillis wall clock for flow times
     */
    public PacketPath(ForwardingStateHolder stateHolder, WorkerCounters counters, TxPort[] txPorts,
                      ByteBufAllocator alloc, LongSupplier nanoClock, FlowTable flows, LongSupplier clockMillis) {
        this(stateHolder, counters, txPorts, alloc, nanoClock, flows, clockMillis, new HealthProbes(0, 0));
    }

    /**
     * A path for one worker that also sends tunnel health probes and takes their replies out of the traffic.
     *
     * @param probes the health probes all workers share
     * @see #PacketPath(ForwardingStateHolder, WorkerCounters, TxPort[], ByteBufAllocator, LongSupplier, FlowTable,
     *      LongSupplier)
     */
    public PacketPath(ForwardingStateHolder stateHolder, WorkerCounters counters, TxPort[] txPorts,
                      ByteBufAllocator alloc, LongSupplier nanoClock, FlowTable flows, LongSupplier clockMillis,
                      HealthProbes probes) {
        this.probes = probes;
        this.stateHolder = stateHolder;
        this.counters = counters;
        this.txPorts = txPorts.clone();
        this.pending = new boolean[txPorts.length];
        for (int id = 0; id < txPorts.length; id++) {
            portLimit = txPorts[id] == null ? portLimit : id + 1;
        }
        this.alloc = alloc;
        this.nanoClock = nanoClock;
        this.flowLookup = new FlowLookup(flows, clockMillis);
        for (int i = 0; i < MAX_BATCH; i++) {
            stagedPackets[i] = new InnerPacket();
            stagedMemories[i] = new PacketMemory();
        }
    }

    /**
     * Processes one datagram received on listener {@code listenerId}: its readable bytes are the UDP payload, or
     * for raw IPv4 listeners and TUN attachments the whole IP packet ({@code sender} is null for TUN). Takes
     * ownership of {@code buf}: it is either sent on or released.
     */
    public void receive(int listenerId, ByteBuf buf, InetSocketAddress sender) {
        if (sender == null) {
            receive(listenerId, buf, 0L, 0L);
        } else if (sender.getAddress() instanceof Inet4Address v4) {
            // Inet4Address.hashCode() is its address as an int: read without copying the address bytes
            receive(listenerId, buf, 0L, v4.hashCode() & IPV4_MASK);
        } else {
            receive(listenerId, buf, Tunnel.ipv6High(sender.getAddress()), Tunnel.ipv6Low(sender.getAddress()));
        }
    }

    /**
     * Processes one datagram as {@link #receive(int, ByteBuf, InetSocketAddress)} does, its sender's address given
     * as two longs so that a socket reader need not build an address object per datagram: an IPv6 address as its
     * high and low 64 bits, an IPv4 address as {@code (0, address & 0xFFFFFFFFL)}; (0, 0) for TUN.
     */
    public void receive(int listenerId, ByteBuf buf, long senderHigh, long senderLow) {
        ForwardingState state = stateHolder.get();
        Listener listener = state.listeners()[listenerId];
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        if (listener.type() == ListenerType.GRE_UDP) {
            // the common case first, one comparison: GRE-in-UDP is neither TUN, nor ESP, nor raw
            receiveGre(state, listenerId, memory.locate(buf), start, end, senderHigh, senderLow);
            return;
        }
        if (listener.type().tun()) {
            receiveTun(state, listenerId, buf, start, end);
            return;
        }
        boolean rawIpv4 = listener.type().raw() && listener.address().getAddress() instanceof Inet4Address;
        if (listener.type().esp()) {
            receiveEsp(state, listenerId, listener.type() == ListenerType.ESP_UDP, rawIpv4, buf, senderHigh,
                    senderLow);
            return;
        }
        if (rawIpv4) {
            int outerLength = outerHeaderLength(buf, start, end);
            if (outerLength < 0) {
                drop(buf, DropReason.OUTER_TRUNCATED);
                return;
            }
            PacketMemory located = memory.locate(buf);
            int innerStart = decap.decap(located, start + outerLength, end);
            if (innerStart < 0) {
                drop(buf, decap.dropReason());
                return;
            }
            int tunnelId = state.tunnelIndex().findIpv4(listenerId, ipv4.source(), decap.key());
            forward(state, located, innerStart, end, decap.ipv6(), tunnelId, end - start);
            return;
        }
        receiveGre(state, listenerId, memory.locate(buf), start, end, senderHigh, senderLow);
    }

    /** A GRE packet at [{@code start}, {@code end}) without an outer IP header: GRE-in-UDP, or raw GRE over IPv6. */
    private void receiveGre(ForwardingState state, int listenerId, PacketMemory located, int start, int end,
                            long senderHigh, long senderLow) {
        int innerStart = decap.decap(located, start, end);
        if (innerStart < 0) {
            drop(located.buf(), decap.dropReason());
            return;
        }
        int tunnelId = state.tunnelIndex().findIpv6(listenerId, senderHigh, senderLow, decap.key());
        forward(state, located, innerStart, end, decap.ipv6(), tunnelId, end - start);
    }

    /**
     * Adds one datagram received on listener {@code listenerId} to the batch {@link #receiveBatch} processes; its
     * sender as in {@link #receive(int, ByteBuf, long, long)}; {@code memoryAddress} the native address of the
     * direct buffer's byte 0 as the reader knows it (it gave the kernel that memory to write to), which the path
     * then uses instead of asking the buffer, or 0 when not known. Takes ownership of {@code buf}. A batch holds one
     * listener's datagrams, at most {@link #MAX_BATCH}: a datagram of another listener, or one too many, first runs
     * the batch staged so far.
     */
    public void stage(int listenerId, ByteBuf buf, long memoryAddress, long senderHigh, long senderLow) {
        if (stagedCount == MAX_BATCH || stagedCount > 0 && listenerId != stagedListener) {
            receiveBatch();
        }
        int i = stagedCount++;
        stagedListener = listenerId;
        if (stagedBufs[i] != buf) {
            // a socket reader's slot mostly brings its buffer back; storing it again would still pay G1's
            // card-marking barrier (a fence), so the array keeps each batch's buffers until replaced
            stagedBufs[i] = buf;
        }
        stagedAddresses[i] = memoryAddress;
        stagedSenderHighs[i] = senderHigh;
        stagedSenderLows[i] = senderLow;
    }

    /**
     * Processes the datagrams {@link #stage staged} since the last batch, with the same outcome as
     * {@link #receive(int, ByteBuf, long, long)} on each in turn (the forwarding state is read once for the batch).
     * GRE-in-UDP batches run in stages (decap and checks, then the flow lookups together, then the route lookups
     * together, then forwarding in arrival order); other listeners' datagrams go through {@code receive} one by one.
     * Sends nothing by itself: {@link #flush()} after it, as after {@code receive}.
     */
    public void receiveBatch() {
        int count = stagedCount;
        stagedCount = 0;
        if (count == 0) {
            return;
        }
        ForwardingState state = stateHolder.get();
        int listenerId = stagedListener;
        Listener listener = state.listeners()[listenerId];
        boolean rawIpv4 = listener.type().raw() && listener.address().getAddress() instanceof Inet4Address;
        if (listener.type().tun() || listener.type().esp() || rawIpv4) {
            for (int i = 0; i < count; i++) {
                receive(listenerId, stagedBufs[i], stagedSenderHighs[i], stagedSenderLows[i]);
            }
            return;
        }
        decapAndParse(state, listenerId, count);
        lookUpHints(state, count);
        warmHints(state);
        for (int i = 0; i < count; i++) {
            ByteBuf buf = stagedBufs[i];
            int tunnelId = stagedTunnels[i];
            if (tunnelId == TunnelIndex.NO_TUNNEL) {
                drop(buf, stagedDrops[i]);
                continue;
            }
            counters.rx(tunnelId, stagedOuterBytes[i]);
            if (stagedDrops[i] != null) {
                drop(buf, stagedDrops[i]);
                continue;
            }
            forwardParsed(state, stagedMemories[i], stagedPackets[i], tunnelId, flowHints[i], returnHints[i],
                    routeHints[i]);
        }
    }

    /**
     * Batch steps 2-4 for the {@code count} staged datagrams of a GRE-in-UDP listener, without side effects: each
     * one's ingress tunnel (or {@link TunnelIndex#NO_TUNNEL} and why) and its parsed inner packet (or why it is
     * refused). One loop in one method, so that what every datagram reads the same (the tunnel index, the tunnels)
     * is read once for the batch.
     */
    private void decapAndParse(ForwardingState state, int listenerId, int count) {
        TunnelIndex tunnelIndex = state.tunnelIndex();
        Tunnel[] tunnels = state.tunnels();
        for (int i = 0; i < count; i++) {
            ByteBuf buf = stagedBufs[i];
            int start = buf.readerIndex();
            int end = buf.writerIndex();
            stagedOuterBytes[i] = end - start;
            stagedTunnels[i] = TunnelIndex.NO_TUNNEL;
            PacketMemory located = stagedMemories[i].locate(buf, stagedAddresses[i]);
            int innerStart = decap.decap(located, start, end);
            if (innerStart < 0) {
                stagedDrops[i] = decap.dropReason();
                continue;
            }
            int tunnelId = tunnelIndex.findIpv6(listenerId, stagedSenderHighs[i], stagedSenderLows[i], decap.key());
            if (tunnelId == TunnelIndex.NO_TUNNEL) {
                stagedDrops[i] = DropReason.UNKNOWN_TUNNEL;
                continue;
            }
            stagedTunnels[i] = tunnelId;
            stagedVirtualNetworks[i] = tunnels[tunnelId].virtualNetwork();
            InnerPacket inner = stagedPackets[i];
            stagedDrops[i] = inner.parse(located, innerStart, end, decap.ipv6()) ? null : inner.dropReason();
        }
    }

    /**
     * Looks up, for every staged datagram that will reach the flow table or the FIB, its own-direction flow (ARR
     * virtual networks) in one batch, then for those whose own key found nothing the flow they would reply to (the
     * return key) in a second batch, then the route in its virtual network's FIB (the others, and flows found in
     * neither direction) in one batch per FIB. The answers become the datagrams' hints; the rest get none.
     */
    private void lookUpHints(ForwardingState state, int count) {
        flowBatch.clear();
        returnBatch.clear();
        routedCount = 0;
        int routes = 0;
        for (int i = 0; i < count; i++) {
            flowHints[i] = FlowLookup.NO_HINT;
            returnHints[i] = FlowLookup.NO_HINT;
            routeHints[i] = RouteLookup.NO_HINT;
            if (stagedTunnels[i] == TunnelIndex.NO_TUNNEL || stagedDrops[i] != null
                    || stagedPackets[i].ttl() <= 1) {
                continue;
            }
            VirtualNetwork vn = stagedVirtualNetwork(state, i);
            if (vn.arr()) {
                flowBatchDatagrams[FlowLookup.addHintKey(flowBatch, vn, stagedPackets[i])] = i;
            } else {
                routePending[routes++] = i;
            }
        }
        if (flowBatch.size() > 0) {
            flowLookup.lookupHints(flowBatch);
            for (int k = 0; k < flowBatch.size(); k++) {
                int i = flowBatchDatagrams[k];
                flowHints[i] = flowBatch.handle(k);
                if (flowHints[i] == FlowTable.NOT_FOUND) {
                    VirtualNetwork vn = stagedVirtualNetwork(state, i);
                    returnBatchDatagrams[FlowLookup.addReturnKey(returnBatch, vn, stagedPackets[i])] = i;
                }
            }
        }
        if (returnBatch.size() > 0) {
            flowLookup.lookupHints(returnBatch);
            for (int k = 0; k < returnBatch.size(); k++) {
                int i = returnBatchDatagrams[k];
                returnHints[i] = returnBatch.handle(k);
                if (returnHints[i] == FlowTable.NOT_FOUND) {
                    routePending[routes++] = i;
                }
            }
        }
        for (int tables = 0; routes > 0 && tables < MAX_BATCH_TABLES; tables++) {
            routes = lookUpRouteHints(state, routes);
        }
    }

    /** The virtual network of staged datagram {@code i}'s ingress tunnel (one it has: decapsulated and found). */
    private VirtualNetwork stagedVirtualNetwork(ForwardingState state, int i) {
        return state.virtualNetworks()[stagedVirtualNetworks[i]];
    }

    /**
     * Brings in, for the datagrams with a hint, what their forwarding will read next behind the lookup and the batch
     * lookups did not: a found flow's counters (the cold half of its slot, which {@code touch} adds to: a separate
     * cache line; prefetched by the flow table, {@link FlowLookup#prefetchCounters}, in both directions' batches)
     * and a matched route's next hop: its entry in the virtual network's sole tunnels (one array read), or for a
     * route of several next hops its group (route, group, the group's tunnels: dependent loads). With many flows and
     * a large FIB each is a cache miss, which forwarding would take one datagram after another. Here, each kind in a
     * pass of its own over a list of those datagrams (no branch on the random mix of flows and routes to
     * mispredict) and each route's chain a link per pass, the misses of the whole batch overlap. Only reads: no
     * decision changes.
     */
    private void warmHints(ForwardingState state) {
        long sum = flowLookup.prefetchCounters(flowBatch) + flowLookup.prefetchCounters(returnBatch);
        int routed = routedCount;
        int groups = 0;
        for (int k = 0; k < routed; k++) {
            int i = routedDatagrams[k];
            VirtualNetwork vn = stagedVirtualNetwork(state, i);
            int sole = vn.soleTunnels()[routeHints[i]];
            if (sole != VirtualNetwork.SEVERAL_NEXT_HOPS) {
                // forwarding reads only this entry and the tunnel (RouteLookup): no group to bring in
                sum += sole;
            } else {
                routedGroups[groups++] = vn.routes()[routeHints[i]].group();
            }
        }
        for (int k = 0; k < groups; k++) {
            sum += routedGroups[k].tunnel(0);
            routedGroups[k] = null;
        }
        warmed = sum;
    }

    /**
     * One batch route lookup: in the FIB of the first pending datagram's virtual network (and family), for every
     * pending datagram of that virtual network and family; returns how many datagrams of other FIBs remain pending,
     * moved to the front.
     */
    private int lookUpRouteHints(ForwardingState state, int pending) {
        InnerPacket first = stagedPackets[routePending[0]];
        boolean v6 = first.ipv6();
        int firstVnId = stagedVirtualNetworks[routePending[0]];
        VirtualNetwork firstVn = state.virtualNetworks()[firstVnId];
        Ipv4Lpm table4 = firstVn.ipv4();
        Ipv6Lpm table6 = firstVn.ipv6();
        int matched = 0;
        int rest = 0;
        for (int k = 0; k < pending; k++) {
            int i = routePending[k];
            InnerPacket inner = stagedPackets[i];
            if (inner.ipv6() != v6 || stagedVirtualNetworks[i] != firstVnId) {
                routePending[rest++] = i;
                continue;
            }
            routeDatagrams[matched] = i;
            if (v6) {
                routeHighs[matched] = inner.destinationHigh();
                routeLows[matched] = inner.destinationLow();
            } else {
                routeAddresses4[matched] = inner.destination4();
            }
            matched++;
        }
        if (v6) {
            table6.lookup(routeHighs, routeLows, routeAnswers, matched);
        } else {
            table4.lookup(routeAddresses4, routeAnswers, matched);
        }
        for (int k = 0; k < matched; k++) {
            routeHints[routeDatagrams[k]] = routeAnswers[k];
            if (routeAnswers[k] >= 0) {
                routedDatagrams[routedCount++] = routeDatagrams[k];
            }
        }
        return rest;
    }

    /**
     * Processes one IP packet at [{@code offset}, {@code end}) of {@code buf} that arrived in an HTTP datagram of
     * MASQUE tunnel {@code tunnelId}'s session (its source already checked against the session's assigned
     * addresses); {@code datagramBytes} is the QUIC datagram's size. Called on this worker's thread, which owns the
     * session's connection. Takes ownership of {@code buf}.
     */
    public void receiveMasque(int tunnelId, ByteBuf buf, int offset, int end, int datagramBytes) {
        ForwardingState state = stateHolder.get();
        if (tunnelId >= state.tunnels().length || !state.tunnels()[tunnelId].listener().type().masque()) {
            drop(buf, DropReason.UNKNOWN_TUNNEL);
            return;
        }
        if (end <= offset) {
            drop(buf, DropReason.INNER_TRUNCATED);
            return;
        }
        boolean ipv6 = buf.getUnsignedByte(offset) >>> 4 == 6;
        forward(state, memory.locate(buf), offset, end, ipv6, tunnelId, datagramBytes);
    }

    /**
     * Counts an ICMP error the kernel reported for a datagram this worker sent from listener {@code listenerId} to
     * {@code (remoteHigh, remoteLow):remotePort} (an address as in {@link #receive(int, ByteBuf, long, long)}) against
     * the tunnel whose remote that is, and returns the tunnel's name, or null when no tunnel of that listener has that
     * remote (an ICMP error vnetd sent itself, say). Off the fast path: a scan of the tunnels.
     */
    public String peerUnreachable(int listenerId, long remoteHigh, long remoteLow, int remotePort) {
        ForwardingState state = stateHolder.get();
        for (Tunnel t : state.tunnels()) {
            if (t.listener().id() == listenerId && t.remote() != null && t.remote().getPort() == remotePort
                    && !state.retiredTunnel(t.id()) && state.tunnelIndex().remoteIs(t.id(), remoteHigh, remoteLow)) {
                counters.peerUnreachable(t.id());
                return t.name();
            }
        }
        return null;
    }

    /** Where packets routed to MASQUE tunnels go; set once, before the MASQUE sessions start. */
    public void masqueEgress(MasqueEgress egress) {
        this.masque = egress;
    }

    /**
     * Length of the outer IPv4 header a raw IPv4 socket delivers before the payload (left wrapped in
     * {@code ipv4}), or -1 when the datagram is shorter than the header says.
     */
    private int outerHeaderLength(ByteBuf buf, int start, int end) {
        if (end - start < Ipv4Flyweight.MIN_HEADER_LENGTH) {
            return -1;
        }
        int length = ipv4.wrap(buf, start, end).headerLength();
        return length < Ipv4Flyweight.MIN_HEADER_LENGTH || length > end - start ? -1 : length;
    }

    /**
     * A packet the host routed into a TUN attachment's device: the whole IP packet, no carrier; the attachment is
     * the ingress tunnel. The version nibble says the family (anything but 6 is parsed, and refused, as IPv4).
     */
    private void receiveTun(ForwardingState state, int listenerId, ByteBuf buf, int start, int end) {
        boolean innerIpv6 = end > start && (buf.getByte(start) & 0xF0) == 0x60;
        forward(state, memory.locate(buf), start, end, innerIpv6, state.tunnelIndex().findTun(listenerId),
                end - start);
    }

    private void receiveEsp(ForwardingState state, int listenerId, boolean udp, boolean rawIpv4, ByteBuf buf,
                            long sourceHigh, long sourceLow) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        int espOffset = start;
        if (rawIpv4) {
            int outerLength = outerHeaderLength(buf, start, end);
            if (outerLength < 0) {
                drop(buf, DropReason.OUTER_TRUNCATED);
                return;
            }
            espOffset = start + outerLength;
            sourceHigh = 0L;
            sourceLow = ipv4.source() & IPV4_MASK;
        }
        int tunnelId = espDecap.decap(state, listenerId, udp, buf, espOffset, end, sourceHigh, sourceLow);
        if (tunnelId == TunnelIndex.NO_TUNNEL) {
            drop(buf, espDecap.dropReason());
            return;
        }
        forward(state, memory.locate(buf), espDecap.innerStart(), espDecap.innerEnd(), espDecap.ipv6(), tunnelId,
                end - start);
    }

    /** Steps 4-8 for the inner packet at [{@code innerStart}, {@code end}) of the {@code located} buffer. */
    private void forward(ForwardingState state, PacketMemory located, int innerStart, int end, boolean innerIpv6,
                         int tunnelId, int outerBytes) {
        if (tunnelId == TunnelIndex.NO_TUNNEL) {
            drop(located.buf(), DropReason.UNKNOWN_TUNNEL);
            return;
        }
        counters.rx(tunnelId, outerBytes);
        if (!packet.parse(located, innerStart, end, innerIpv6)) {
            drop(located.buf(), packet.dropReason());
            return;
        }
        forwardParsed(state, located, packet, tunnelId, FlowLookup.NO_HINT, FlowLookup.NO_HINT, RouteLookup.NO_HINT);
    }

    /**
     * Steps 4b-8 for {@code packet}, parsed from the {@code located} buffer, from tunnel {@code tunnelId} (counted as
     * received), with the batch lookups' hints or {@link FlowLookup#NO_HINT} and {@link RouteLookup#NO_HINT}.
     */
    private void forwardParsed(ForwardingState state, PacketMemory located, InnerPacket packet, int tunnelId,
                               long flowHint, long returnHint, int routeHint) {
        ByteBuf buf = located.buf();
        Tunnel ingress = state.tunnels()[tunnelId];
        if (probes.consume(tunnelId, packet, buf)) {
            buf.release();
            return;
        }
        if (packet.ttl() <= 1) {
            // before the flow table: a packet that dies here opens no flow
            sendIcmpError(state, buf, packet, IcmpErrors.Kind.TIME_EXCEEDED, 0, ingress);
            drop(buf, DropReason.TTL_EXCEEDED);
            return;
        }
        VirtualNetwork vn = state.virtualNetworks()[ingress.virtualNetwork()];
        Tunnel egress = flowLookup.decide(state, vn, ingress, packet, buf, counters, flowHint, returnHint);
        if (egress != null && flowLookup.pinned() && (state.health().state(egress.id()) == TunnelHealth.DOWN
                || state.retiredTunnel(egress.id()))) {
            Tunnel better = lookup.route(state, vn, packet, routeHint);
            if (better != null && better != egress) {
                flowLookup.repin(better);
                counters.flowFailover();
                egress = better;
            }
        }
        if (egress == null) {
            egress = lookup.route(state, vn, packet, routeHint);
            if (egress == null) {
                sendIcmpError(state, buf, packet, IcmpErrors.Kind.NO_ROUTE, 0, ingress);
                drop(buf, DropReason.NO_ROUTE);
                return;
            }
            if (!flowLookup.record(vn, ingress, egress, packet, buf, counters)) {
                drop(buf, flowLookup.refusal());
                return;
            }
        }
        if (state.retiredTunnel(egress.id())) {
            drop(buf, DropReason.TUNNEL_REMOVED);
            return;
        }
        if (packet.length() > egress.mtu() && packet.dontFragment()) {
            sendIcmpError(state, buf, packet, IcmpErrors.Kind.TOO_BIG, egress.mtu(), ingress);
            drop(buf, DropReason.TOO_BIG);
            return;
        }
        mssClamp.apply(buf, packet, ingress, egress, counters);
        packet.decrementTtl(located);
        transmit(located, packet.offset(), packet.length(), packet.ipv6(), egress, packet, 0);
    }

    private void sendIcmpError(ForwardingState state, ByteBuf buf, InnerPacket packet, IcmpErrors.Kind kind, int mtu,
                               Tunnel ingress) {
        if (!packet.mayTriggerIcmpError()) {
            return;
        }
        if (!icmpErrors.allow(packet, nanoClock.getAsLong())) {
            counters.icmpRateLimited();
            return;
        }
        ByteBuf error = icmpErrors.build(buf, packet, kind, mtu, ingress, alloc);
        if (transmit(builtMemory.locate(error), error.readerIndex(), error.readableBytes(), packet.ipv6(), ingress,
                packet, 0)) {
            counters.icmpSent();
        }
    }

    /**
     * Steps 7-8 for the packet at [{@code offset}, {@code offset + length}) of the {@code located} buffer; a port
     * that {@linkplain TxPort#spreadsFlows spreads flows} is given {@code hashOf}'s flow hash, or {@code flowHash}
     * when that is null (computed only then: most ports have one socket).
     */
    private boolean transmit(PacketMemory located, int offset, int length, boolean isIpv6, Tunnel egress,
                             InnerPacket hashOf, int flowHash) {
        ByteBuf buf = located.buf();
        if (egress.listener().type().masque()) {
            if (!masque.send(egress, buf, offset, length, counters)) {
                return false;
            }
            counters.tx(egress.id(), length);
            return true;
        }
        int listenerId = egress.listener().id();
        TxPort port = txPorts[listenerId];
        if (port == null) {
            drop(buf, DropReason.TX_UNAVAILABLE);
            return false;
        }
        ByteBuf out = egress.tun() ? buf.setIndex(offset, offset + length)
                : egress.esp() ? espEncap.encap(buf, offset, length, isIpv6, egress, alloc)
                : encap.encap(located, offset, length, isIpv6, egress, alloc);
        if (out == null) {
            counters.drop(espEncap.dropReason());
            return false;
        }
        int bytes = out.readableBytes();
        boolean portCounts = port.countsSends();
        int hash = !port.spreadsFlows() ? 0 : hashOf != null ? hashOf.flowHash() : flowHash;
        if (!port.send(out, egress.remote(), hash, egress.id())) {
            if (!portCounts) {
                counters.drop(egress.tun() ? DropReason.TUN_WRITE_FAILED : DropReason.TX_FAILED);
            }
            return false;
        }
        if (!portCounts) {
            counters.tx(egress.id(), bytes);
        }
        pending[listenerId] = true;
        return true;
    }

    /**
     * Sends a health probe into tunnel {@code tunnelId} of the current state: an ICMP echo request from the tunnel's
     * IPv4 interface address to {@code target} ({@code request}), or an echo reply from {@code target} to it;
     * encapsulated like forwarded traffic (GRE, or ESP with the tunnel's SA) and sent at once. Runs on this path's
     * worker thread only, as a task the control plane queued on it. Returns whether the socket took it.
     */
    public boolean sendProbe(int tunnelId, boolean request, int target, int sequence) {
        ForwardingState state = stateHolder.get();
        if (tunnelId >= state.tunnels().length || state.retiredTunnel(tunnelId)) {
            return false;
        }
        Tunnel tunnel = state.tunnels()[tunnelId];
        ByteBuf probe = probes.build(alloc, request, tunnel.icmpSourceV4(), target, sequence);
        boolean sent = transmit(builtMemory.locate(probe), probe.readerIndex(), probe.readableBytes(), false, tunnel,
                null, sequence);
        flush();
        return sent;
    }

    private void drop(ByteBuf buf, DropReason reason) {
        counters.drop(reason);
        buf.release();
    }

    /**
     * Installs this worker's socket for listener {@code listenerId}, or with null removes it (a listener a reload
     * added or removed). Runs on this path's worker thread only, as a task between read batches, so the fast path
     * reads {@code txPorts} without a lock; anything still queued on the port it replaces is flushed first.
     */
    public void txPort(int listenerId, TxPort port) {
        if (pending[listenerId]) {
            pending[listenerId] = false;
            txPorts[listenerId].flush();
        }
        txPorts[listenerId] = port;
        if (port != null) {
            portLimit = Math.max(portLimit, listenerId + 1);
        }
    }

    /** Sends everything queued since the last flush; called once per read batch. */
    public void flush() {
        for (int i = 0; i < portLimit; i++) {
            if (pending[i]) {
                pending[i] = false;
                txPorts[i].flush();
            }
        }
        masque.flush();
    }

    /** This worker's counters. */
    public WorkerCounters counters() {
        return counters;
    }
}
