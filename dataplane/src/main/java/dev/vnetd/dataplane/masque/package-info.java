/**
 * MASQUE CONNECT-IP, sans-IO: the wire formats an IP proxying session over HTTP/3 exchanges, as flyweights and
 * codecs over Netty buffers, with no sockets, clocks or threads, so tests drive them directly.
 *
 * <ul>
 *   <li>{@link dev.vnetd.dataplane.masque.QuicVarint}: variable-length integers,
 *       <a href="https://www.rfc-editor.org/rfc/rfc9000#section-16">RFC 9000 section 16</a>.</li>
 *   <li>{@link dev.vnetd.dataplane.masque.HttpDatagram}: an HTTP/3 datagram (Quarter Stream ID,
 *       <a href="https://www.rfc-editor.org/rfc/rfc9297#section-2.1">RFC 9297 section 2.1</a>) carrying a
 *       CONNECT-IP payload (Context ID, <a href="https://www.rfc-editor.org/rfc/rfc9484#section-6">RFC 9484
 *       section 6</a>); context 0 is a full IP packet. In QUIC DATAGRAM frames
 *       (<a href="https://www.rfc-editor.org/rfc/rfc9221">RFC 9221</a>).</li>
 *   <li>{@link dev.vnetd.dataplane.masque.Capsule} and {@link dev.vnetd.dataplane.masque.CapsuleReader}: the
 *       capsule protocol on the request stream (<a href="https://www.rfc-editor.org/rfc/rfc9297#section-3.2">RFC
 *       9297 section 3.2</a>); unknown capsule types are skipped (section 3.2).</li>
 *   <li>{@link dev.vnetd.dataplane.masque.IpCapsules}: ADDRESS_ASSIGN (0x01), ADDRESS_REQUEST (0x02) and
 *       ROUTE_ADVERTISEMENT (0x03), <a href="https://www.rfc-editor.org/rfc/rfc9484#section-4.7">RFC 9484 section
 *       4.7</a>.</li>
 *   <li>{@link dev.vnetd.dataplane.masque.MasqueUriTemplate}: the CONNECT-IP URI template (RFC 9484 section 3),
 *       reached with extended CONNECT (<a href="https://www.rfc-editor.org/rfc/rfc9220">RFC 9220</a>).</li>
 *   <li>{@link dev.vnetd.dataplane.masque.SourceFilter}: the addresses a client was assigned, the only sources its
 *       packets may carry (RFC 9484 section 7, anti-spoofing).</li>
 * </ul>
 *
 * <p>Errors: a capsule that cannot be parsed (truncated at the end of the stream, a field that is not what the RFC
 * allows) is a {@link dev.vnetd.dataplane.masque.CapsuleException} with H3_DATAGRAM_ERROR (0x33, "Datagram or
 * Capsule Protocol parse error", RFC 9297 section 5.2; RFC 9484 section 4.7 sends every malformed CONNECT-IP
 * capsule there); well-formed capsules whose content breaks a rule of RFC 9484 (ranges out of order or
 * overlapping, start after end) abort the stream with H3_GENERAL_PROTOCOL_ERROR (0x101). The caller resets the
 * request stream with the code.
 */
package dev.vnetd.dataplane.masque;
