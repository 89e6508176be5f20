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
    /**
     * The flow sends the packet to a tunnel a reload removed: a reply whose origin tunnel is gone (a forward packet
     * of a pinned flow is routed again instead, and dropped here only when no route is left). The flow sweeper
     * removes such flows within a second.
     */
    TUNNEL_REMOVED("tunnel_removed", "flow's tunnel removed by a reload"),
    /** The egress tunnel's listener has no socket on this worker (its bind failed). */
    TX_UNAVAILABLE("tx_unavailable", "egress listener has no socket on this worker"),
    /** The socket refused the packet. */
    TX_FAILED("tx_failed", "socket send failed"),
    /** ESP-in-UDP datagram starting with the zero non-ESP marker: an IKE message (RFC 3948 2.2), no IKE yet. */
    ESP_IKE_MESSAGE("esp_ike_message", "IKE message on an ESP-in-UDP listener (no IKE handler)"),
    /** A one-byte 0xFF ESP-in-UDP datagram: a NAT-keepalive (RFC 3948 2.3), which only keeps NAT state alive. */
    ESP_NAT_KEEPALIVE("esp_nat_keepalive", "NAT-keepalive"),
    /** No ESP tunnel of the listener has this inbound SPI. */
    ESP_UNKNOWN_SPI("esp_unknown_spi", "no inbound SA for the SPI"),
    /** The SPI names a tunnel, but the outer source address is not that tunnel's remote. */
    ESP_WRONG_REMOTE("esp_wrong_remote", "ESP from an address other than the SA's tunnel remote"),
    /** Shorter than the ESP header, IV, minimal trailer and ICV of the SA's transform. */
    ESP_TRUNCATED("esp_truncated", "ESP packet truncated"),
    /** Ciphertext not a whole number of cipher blocks, or longer than 65535 bytes. */
    ESP_MALFORMED("esp_malformed", "ESP ciphertext length not aligned to the cipher block"),
    /** The sequence number was already received inside the replay window (RFC 4303 3.4.3). */
    ESP_REPLAYED("esp_replayed", "ESP sequence number replayed"),
    /** The sequence number lies left of the replay window. */
    ESP_OUTSIDE_WINDOW("esp_outside_window", "ESP sequence number left of the replay window"),
    /** The integrity check value did not verify: forged, corrupted or sent with another key. */
    ESP_ICV_FAILED("esp_icv_failed", "ESP integrity check failed"),
    /** The ICV verified but the pad length or the padding bytes are wrong (RFC 4303 2.4). */
    ESP_BAD_PADDING("esp_bad_padding", "ESP padding malformed"),
    /** A dummy packet (next header 59, RFC 4303 2.6), sent for traffic flow confidentiality. */
    ESP_DUMMY_PACKET("esp_dummy_packet", "ESP dummy packet (next header 59)"),
    /** The decrypted payload is neither IPv4 (next header 4) nor IPv6 (41): tunnel mode carries only those. */
    ESP_UNSUPPORTED_NEXT_HEADER("esp_unsupported_next_header", "ESP next header not IPv4 or IPv6"),
    /** The outbound SA used its last sequence number; it never wraps and sends nothing until rekeyed. */
    ESP_SEQ_EXHAUSTED("esp_seq_exhausted", "ESP sequence numbers exhausted, rekey needed"),
    /** The SA passed its hard lifetime in packets or bytes. */
    ESP_LIFETIME_EXPIRED("esp_lifetime_expired", "ESP SA hard lifetime reached"),
    /** The encapsulated packet would exceed 65535 bytes. */
    ESP_NO_ROOM("esp_no_room", "ESP packet would exceed 65535 bytes"),
    /** A MASQUE client sent a packet whose source is not among the addresses it was assigned (RFC 9484 7). */
    MASQUE_SPOOFED_SOURCE("masque_spoofed_source", "MASQUE packet from a source the client was not assigned"),
    /** An HTTP datagram with a CONNECT-IP context ID other than 0 (a full IP packet): no other context is known. */
    MASQUE_UNKNOWN_CONTEXT("masque_unknown_context", "MASQUE datagram with an unknown context ID"),
    /** An HTTP datagram whose Context ID is cut short, or whose Quarter Stream ID names no CONNECT-IP session. */
    MASQUE_BAD_DATAGRAM("masque_bad_datagram", "MASQUE datagram truncated or for no session"),
    /** Routed to a MASQUE tunnel that has no established session (client not connected). */
    MASQUE_NO_SESSION("masque_no_session", "MASQUE tunnel has no session"),
    /** The hand-off queue to the MASQUE connection's event loop is full. */
    MASQUE_HANDOFF_FULL("masque_handoff_full", "MASQUE hand-off queue to the connection's worker full"),
    /** The TUN device refused the write: its queue toward the host is full (EAGAIN), or the device is down. */
    TUN_WRITE_FAILED("tun_write_failed", "TUN device refused the packet (queue full or device down)"),
    /** The ingress tunnel already holds its {@code max_flows} live ARR flows; the new flow is refused. */
    FLOW_QUOTA("flow_quota", "tunnel at its max_flows: new ARR flow refused"),
    /**
     * The kernel refused the send because the destination is unreachable: no route, an unreachable or prohibit
     * route, or an ICMP error the socket reported (EHOSTUNREACH, ENETUNREACH, ECONNREFUSED, EACCES).
     */
    TX_UNREACHABLE("tx_unreachable", "socket send failed: destination unreachable"),
    /**
     * The socket's send buffer was full (EAGAIN) when the batch was flushed: the kernel could not take the packet
     * without the worker waiting, and a worker never waits.
     */
    TX_BUFFER_FULL("tx_buffer_full", "socket send buffer full");

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
