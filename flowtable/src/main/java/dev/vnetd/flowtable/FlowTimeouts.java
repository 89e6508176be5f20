package dev.vnetd.flowtable;

import java.time.Duration;

/**
 * How long a flow may stay idle before the sweep removes it, per protocol ({@code flow_table.timeouts}).
 *
 * <p>Idle means no packet in either direction. The defaults follow Linux conntrack where conntrack is sane for an
 * edge and deviate where conntrack's choice hurts a box with a fixed flow budget:
 * <ul>
 *   <li>{@code tcp_established}, default 6 h. Longer than Linux's default keepalive (7200 s idle plus 9 probes 75 s
 *       apart, 7875 s in all) so an idle connection kept alive by keepalives keeps its return path. conntrack's
 *       5 days lets a site that vanished without FIN or RST pin slots for most of a week; Cilium settled on 6 h for
 *       the same reason.</li>
 *   <li>{@code tcp_transitory}, default 120 s: SYN sent or received, FIN seen, TIME_WAIT and CLOSE after RST.
 *       conntrack's syn_sent, fin_wait and time_wait are 120 s; a handshake or close that has not progressed in two
 *       minutes will not.</li>
 *   <li>{@code udp}, default 120 s: conntrack's stream timeout. Above the 25 s keepalive of NAT-traversing UDP
 *       tunnels and QUIC's 30 s default idle timeout, so those keep their return path between keepalives.
 *       Other protocols without state (GRE, ESP, SCTP seen as opaque) use this value too.</li>
 *   <li>{@code icmp}, default 30 s: conntrack's icmp timeout; an echo reply later than that is not coming.</li>
 * </ul>
 * Every timeout must lie between one second and {@link #MAX}: the table stores times as 32-bit milliseconds and
 * compares them with signed arithmetic, which is exact for differences up to 24.8 days.
 *
 * @param tcpEstablished idle limit of an established TCP flow
 * @param tcpTransitory  idle limit of a TCP flow opening or closing
 * @param udp            idle limit of a UDP flow and of any protocol without its own entry
 * @param icmp           idle limit of an ICMP or ICMPv6 flow
 */
public record FlowTimeouts(Duration tcpEstablished, Duration tcpTransitory, Duration udp, Duration icmp) {
    /** The longest timeout the table can represent with its 32-bit millisecond clock (20 days, under 24.8). */
    public static final Duration MAX = Duration.ofDays(20);
    /** The defaults described above. */
    public static final FlowTimeouts DEFAULTS = new FlowTimeouts(Duration.ofHours(6), Duration.ofSeconds(120),
            Duration.ofSeconds(120), Duration.ofSeconds(30));

    /** Checks that every timeout lies within [1 s, {@link #MAX}]. */
    public FlowTimeouts {
        check("tcp_established", tcpEstablished);
        check("tcp_transitory", tcpTransitory);
        check("udp", udp);
        check("icmp", icmp);
    }

    private static void check(String name, Duration timeout) {
        if (timeout == null || timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(MAX) > 0) {
            throw new IllegalArgumentException("flow_table.timeouts." + name + " must be between 1s and "
                    + MAX.toDays() + "d, was " + timeout);
        }
    }

    /** The idle limit in milliseconds of a flow of IP protocol {@code proto} in TCP state {@code tcpState}. */
    public long millisFor(int proto, int tcpState) {
        return switch (proto) {
            case FlowTable.PROTO_TCP -> tcpState == TcpState.ESTABLISHED
                    ? tcpEstablished.toMillis() : tcpTransitory.toMillis();
            case FlowTable.PROTO_ICMP, FlowTable.PROTO_ICMPV6 -> icmp.toMillis();
            default -> udp.toMillis();
        };
    }
}
