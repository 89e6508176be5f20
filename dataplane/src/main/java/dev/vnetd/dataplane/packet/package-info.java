/**
 * Flyweights over the headers vnetd reads and writes: IPv4 (RFC 791), IPv6 (RFC 8200), UDP (RFC 768),
 * GRE (RFC 2784 with key and sequence number, RFC 2890; carried in UDP by RFC 8086), ICMP (RFC 792) and
 * ICMPv6 (RFC 4443), and the Internet checksum (RFC 1071, incremental update RFC 1624).
 *
 * <p>A flyweight wraps a Netty {@link io.netty.buffer.ByteBuf} at an absolute offset and reads or writes fields in
 * network byte order (big-endian) without copying or allocating; one instance per worker is reused for every packet.
 */
package dev.vnetd.dataplane.packet;
