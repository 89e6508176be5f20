/**
 * MASQUE CONNECT-IP over Netty's QUIC and HTTP/3 codecs: the server side of a {@code masque} listener
 * ({@link dev.vnetd.dataplane.transport.masque.MasqueServer}), the client side of a {@code masque-client} tunnel
 * ({@link dev.vnetd.dataplane.transport.masque.MasqueClient}), and the sessions through which the workers' packet
 * paths send and receive ({@link dev.vnetd.dataplane.transport.masque.MasqueSessions}).
 *
 * <p>Threading: a QUIC connection, its streams and its datagrams live on the event loop of the UDP socket it came
 * through, which is one of the dataplane workers; received datagrams enter that worker's packet path on that
 * thread. A packet that another worker routes to a MASQUE tunnel is handed to the connection's loop through the
 * session's bounded MPSC queue (drops counted as {@code masque_handoff_full}): the one hand-off the design allows.
 */
package dev.vnetd.dataplane.transport.masque;
