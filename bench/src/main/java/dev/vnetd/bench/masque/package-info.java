/**
 * MASQUE on the packet path: a packet routed into a MASQUE tunnel (datagram header framed in place, written on the
 * connection's channel), a packet arriving from one (datagram header, source check, routed into GRE), and the
 * hand-off of a packet to the worker that owns the QUIC connection. Run by {@code bench/run.sh masque}.
 */
package dev.vnetd.bench.masque;
