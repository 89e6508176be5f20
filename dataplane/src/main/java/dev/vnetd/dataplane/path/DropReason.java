package dev.vnetd.dataplane.path;

/**
 * Why a packet was dropped. Each value is a counter, exported as {@code vnetd_drops_total{reason="..."}}; a new way
 * to drop a packet is a new value here, never a silent return.
 */
public enum DropReason {
    /** The outer IP header of a raw-socket packet is shorter than its header length says. */
    OUTER_TRUNCATED("outer_truncated", "outer IP header truncated"),
    /** The datagram is shorter than the GRE header its flags announce. */
    GRE_TRUNCATED("gre_truncated", "GRE header truncated"),
    /** GRE version is not 0. */
    GRE_BAD_VERSION("gre_bad_version", "GRE version not 0"),
    /** Routing present or reserved bits set (RFC 2784 section 2.3: the receiver must discard). */
    GRE_RESERVED_BITS("gre_reserved_bits", "GRE reserved bits set"),
    /** The GRE checksum does not verify. */
    GRE_BAD_CHECKSUM("gre_bad_checksum", "GRE checksum mismatch"),
    /** The GRE payload is neither IPv4 nor IPv6. */
    GRE_UNSUPPORTED_PROTOCOL("gre_unsupported_protocol", "GRE protocol type not IPv4 or IPv6"),
    /** No tunnel is configured for (listener, remote address, key). */
    UNKNOWN_TUNNEL("unknown_tunnel", "no tunnel for listener, remote and key"),
    /** The inner packet is shorter than an IP header. */
    INNER_TRUNCATED("inner_truncated", "inner IP header truncated"),
    /** The inner IP version does not match the GRE protocol type. */
    INNER_BAD_VERSION("inner_bad_version", "inner IP version does not match GRE protocol type"),
    /** The inner header's length fields disagree with the bytes received. */
    INNER_BAD_LENGTH("inner_bad_length", "inner IP length fields lie"),
    /** The inner IPv4 header checksum does not verify. */
    INNER_BAD_CHECKSUM("inner_bad_checksum", "inner IPv4 header checksum mismatch"),
    /** The inner destination is an address no router forwards (multicast, broadcast, loopback, unspecified). */
    INNER_BAD_DESTINATION("inner_bad_destination", "inner destination not forwardable"),
    /** TTL or hop limit would reach zero; an ICMP Time Exceeded is sent back when allowed. */
    TTL_EXCEEDED("ttl_exceeded", "TTL or hop limit exceeded"),
    /** No route in the virtual network (nor its fallback); an ICMP Destination Unreachable is sent back. */
    NO_ROUTE("no_route", "no route in the virtual network"),
    /** Larger than the egress tunnel's MTU with Don't Fragment set (always for IPv6); ICMP Too Big is sent back. */
    TOO_BIG("too_big", "larger than the tunnel MTU and not fragmentable"),
    /** The flow table is full (after evicting expired and unreplied flows) and refused a new ARR flow. */
    FLOW_TABLE_FULL("flow_table_full", "flow table full: new ARR flow refused"),
    /** The egress tunnel's listener has no socket on this worker (its bind failed). */
    TX_UNAVAILABLE("tx_unavailable", "egress listener has no socket on this worker"),
    /** The socket refused the packet. */
    TX_FAILED("tx_failed", "socket send failed");

    private final String metricName;
    private final String description;

    DropReason(String metricName, String description) {
        this.metricName = metricName;
        this.description = description;
    }

    /** The {@code reason} label value. */
    public String metricName() {
        return metricName;
    }

    /** One line for operators. */
    public String description() {
        return description;
    }
}
