/**
 * IPsec ESP (RFC 4303) in tunnel mode as a sans-IO core: bytes in, bytes out, an {@link dev.vnetd.crypto.esp.EspResult}
 * that says what happened. No sockets, clocks or threads live here; the dataplane drives it.
 *
 * <p>Transforms: AES-GCM with 16-, 12- and 8-byte ICVs (RFC 4106), ChaCha20-Poly1305 (RFC 7634), AES-CBC with
 * HMAC-SHA-256-128 (RFC 3602, RFC 4868). Extended sequence numbers (RFC 4303 2.2.1, Appendix A). Anti-replay
 * (RFC 4303 3.4.3) with a ring of tagged bitmap blocks after RFC 6479, safe for several receiving threads.
 *
 * <p>Cipher providers ({@link dev.vnetd.crypto.esp.EspProvider}): OpenSSL 3's libcrypto through the FFM API, the
 * default when it loads; the JDK's JCE; Bouncy Castle. All send the same bytes for the same SA and packet.
 *
 * <p>The flow of one packet:
 * <pre>
 *  receive: 1. SaTable.lookup(spi)  2. InboundSa.decrypt (infer ESN, replay check, ICV, padding, replay update)
 *  send:    1. OutboundSa.encrypt (sequence number, lifetimes, IV, padding, seal)
 * </pre>
 * Each worker owns one {@link dev.vnetd.crypto.esp.EspContext}; SAs are shared and immutable apart from their
 * counters, sequence numbers and replay windows, which are lock-free.
 */
package dev.vnetd.crypto.esp;
