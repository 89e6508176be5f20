package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;

/**
 * Step 8 of the path for MASQUE tunnels: instead of the worker's own socket, the packet goes out as an HTTP/3
 * datagram on the tunnel's CONNECT-IP session, which lives on one event loop (its QUIC connection's). One instance
 * per worker; called only from that worker's thread.
 */
public interface MasqueEgress {
    /** Drops everything: the state before the MASQUE service starts, and dataplanes without it. */
    MasqueEgress NONE = new MasqueEgress() {
        @Override
        public boolean send(Tunnel tunnel, ByteBuf buf, int offset, int length, WorkerCounters counters) {
            buf.release();
            counters.drop(DropReason.MASQUE_NO_SESSION);
            return false;
        }

        @Override
        public void flush() {
        }
    };

    /**
     * Sends the IP packet at [{@code offset}, {@code offset + length}) of {@code buf} on {@code tunnel}'s session.
     * Takes ownership of the buffer. Returns false when the packet was dropped, counted in {@code counters}.
     */
    boolean send(Tunnel tunnel, ByteBuf buf, int offset, int length, WorkerCounters counters);

    /** Flushes the sessions this worker wrote to since the last flush. */
    void flush();
}
