package dev.vnetd.dataplane.path;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The counters of one worker: written only by that worker with opaque stores (plain moves on x86, but never
 * elided or torn), read by the metrics scraper from any thread. Summing over workers gives the totals, so the fast
 * path shares no cache line with another worker.
 */
public final class WorkerCounters {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final DropReason[] REASONS = DropReason.values();

    /** Longs per tunnel in {@link #traffic}: what every forwarded packet adds to, side by side. */
    private static final int TRAFFIC_LONGS = 4;
    private static final int RX_PACKETS = 0;
    private static final int RX_BYTES = 1;
    private static final int TX_PACKETS = 2;
    private static final int TX_BYTES = 3;

    private final long[] drops = new long[REASONS.length];
    /** Per tunnel: packets and bytes received, packets and bytes sent (32 bytes: one cache line, one array). */
    private final long[] traffic;
    private final long[] arrReturns;
    private final long[] flowQuotaRefusals;
    private final long[] peerUnreachable;
    private final long[] flows = new long[3];
    private final long[] icmp = new long[2];
    private final long[] mtu = new long[1];

    private static final int ICMP_SENT = 0;
    private static final int ICMP_RATE_LIMITED = 1;
    private static final int FLOW_COLLISIONS = 0;
    private static final int FLOW_FAILOVERS = 1;
    private static final int PORT_TRANSLATIONS = 2;
    private static final int MSS_CLAMPED = 0;

    /** Counters for {@code tunnels} tunnels. */
    public WorkerCounters(int tunnels) {
        traffic = new long[tunnels * TRAFFIC_LONGS];
        arrReturns = new long[tunnels];
        flowQuotaRefusals = new long[tunnels];
        peerUnreachable = new long[tunnels];
    }

    private static void add(long[] array, int index, long delta) {
        LONGS.setOpaque(array, index, (long) LONGS.getOpaque(array, index) + delta);
    }

    private static long get(long[] array, int index) {
        return (long) LONGS.getOpaque(array, index);
    }

    /** Counts a drop. */
    public void drop(DropReason reason) {
        add(drops, reason.ordinal(), 1);
    }

    /** Counts a packet received from a tunnel. */
    public void rx(int tunnel, int bytes) {
        add(traffic, tunnel * TRAFFIC_LONGS + RX_PACKETS, 1);
        add(traffic, tunnel * TRAFFIC_LONGS + RX_BYTES, bytes);
    }

    /** Counts a packet sent into a tunnel. */
    public void tx(int tunnel, int bytes) {
        add(traffic, tunnel * TRAFFIC_LONGS + TX_PACKETS, 1);
        add(traffic, tunnel * TRAFFIC_LONGS + TX_BYTES, bytes);
    }

    /** Counts a reply sent back to its flow's origin tunnel by ARR. */
    public void arrReturn(int originTunnel) {
        add(arrReturns, originTunnel, 1);
    }

    /** Counts a flow opened under a translated source port (its 5-tuple was another tunnel's flow). */
    public void portTranslation() {
        add(flows, PORT_TRANSLATIONS, 1);
    }

    /** Flows opened under a translated source port. */
    public long portTranslations() {
        return get(flows, PORT_TRANSLATIONS);
    }

    /**
     * Counts a packet whose 5-tuple matched another tunnel's flow and could not be translated (its translated key
     * is taken too, or it has no port to translate): routed by the FIB instead.
     */
    public void flowCollision() {
        add(flows, FLOW_COLLISIONS, 1);
    }

    /** Counts a flow moved off its pinned next hop because that tunnel went down. */
    public void flowFailover() {
        add(flows, FLOW_FAILOVERS, 1);
    }

    /** Counts a new flow from {@code tunnel} refused because the tunnel holds its {@code max_flows}. */
    public void flowQuotaRefused(int tunnel) {
        add(flowQuotaRefusals, tunnel, 1);
    }

    /**
     * Counts an ICMP error the kernel reported for a packet sent to the tunnel's remote (port, host or network
     * unreachable: the peer vanished or cannot be reached).
     */
    public void peerUnreachable(int tunnel) {
        add(peerUnreachable, tunnel, 1);
    }

    /** ICMP errors reported for packets sent to a tunnel's remote. */
    public long peerUnreachables(int tunnel) {
        return get(peerUnreachable, tunnel);
    }

    /** New flows from a tunnel refused by its {@code max_flows}. */
    public long flowQuotaRefusals(int tunnel) {
        return get(flowQuotaRefusals, tunnel);
    }

    /** Replies sent back to their origin tunnel by ARR. */
    public long arrReturns(int tunnel) {
        return get(arrReturns, tunnel);
    }

    /** Packets whose 5-tuple matched another tunnel's flow. */
    public long flowCollisions() {
        return get(flows, FLOW_COLLISIONS);
    }

    /** Flows moved off a down pinned next hop. */
    public long flowFailovers() {
        return get(flows, FLOW_FAILOVERS);
    }

    /** Counts an ICMP error sent. */
    public void icmpSent() {
        add(icmp, ICMP_SENT, 1);
    }

    /** Counts an ICMP error not sent because of the rate limit. */
    public void icmpRateLimited() {
        add(icmp, ICMP_RATE_LIMITED, 1);
    }

    /** Drops of one reason so far. */
    public long drops(DropReason reason) {
        return get(drops, reason.ordinal());
    }

    /** Packets received from a tunnel. */
    public long rxPackets(int tunnel) {
        return get(traffic, tunnel * TRAFFIC_LONGS + RX_PACKETS);
    }

    /** Bytes received from a tunnel (outer datagram payload). */
    public long rxBytes(int tunnel) {
        return get(traffic, tunnel * TRAFFIC_LONGS + RX_BYTES);
    }

    /** Packets sent into a tunnel. */
    public long txPackets(int tunnel) {
        return get(traffic, tunnel * TRAFFIC_LONGS + TX_PACKETS);
    }

    /** Bytes sent into a tunnel (outer datagram payload). */
    public long txBytes(int tunnel) {
        return get(traffic, tunnel * TRAFFIC_LONGS + TX_BYTES);
    }

    /** ICMP errors sent. */
    public long icmpErrorsSent() {
        return get(icmp, ICMP_SENT);
    }

    /** ICMP errors suppressed by the rate limit. */
    public long icmpErrorsRateLimited() {
        return get(icmp, ICMP_RATE_LIMITED);
    }

    /** Counts a TCP SYN or SYN-ACK whose MSS option was lowered to a tunnel's {@code mss_clamp}. */
    public void mssClamped() {
        add(mtu, MSS_CLAMPED, 1);
    }

    /** TCP SYNs and SYN-ACKs whose MSS was clamped. */
    public long mssClampedTotal() {
        return get(mtu, MSS_CLAMPED);
    }

    /** Number of tunnels these counters cover. */
    public int tunnels() {
        return traffic.length / TRAFFIC_LONGS;
    }
}
