package dev.vnetd.dataplane.transport.masque;

import dev.vnetd.dataplane.masque.SourceFilter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.quic.QuicChannel;
import org.jctools.queues.MpscArrayQueue;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One established CONNECT-IP session: the tunnel it carries, its QUIC connection and request stream, the loop they
 * live on, and the hand-off queue other workers reach that loop through.
 *
 * <pre>
 *  worker k (k != owner)              owner loop
 *  ─────────────────────              ──────────────────────────────────────────────
 *  handoff.offer(datagram) ──MPSC──▶  drain: poll all, write each to the connection, flush
 *  if !drainScheduled: execute(drain)  (drainScheduled cleared before polling: no lost wake-up)
 * </pre>
 */
public final class MasqueSession {
    private final int tunnelId;
    private final String tunnelName;
    private final Channel connection;
    private final long streamId;
    private final EventLoop loop;
    private final SourceFilter sources;
    private final MpscArrayQueue<ByteBuf> handoff;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drain = this::drain;
    private volatile boolean open = true;
    private boolean flushPending;

    /**
     * A session of tunnel {@code tunnelId} on {@code connection} (a QUIC connection, whose event loop owns it),
     * request stream {@code streamId}.
     *
     * @param sources         the sources its packets may carry (server side), or null to accept any (client side)
     * @param handoffCapacity packets the hand-off queue holds
     */
    public MasqueSession(int tunnelId, String tunnelName, Channel connection, long streamId, SourceFilter sources,
                         int handoffCapacity) {
        this.tunnelId = tunnelId;
        this.tunnelName = tunnelName;
        this.connection = connection;
        this.streamId = streamId;
        this.loop = connection.eventLoop();
        this.sources = sources;
        this.handoff = new MpscArrayQueue<>(handoffCapacity);
    }

    /** The tunnel's id in the forwarding state. */
    public int tunnelId() {
        return tunnelId;
    }

    /** The tunnel's name. */
    public String tunnelName() {
        return tunnelName;
    }

    /** The CONNECT-IP request stream's id; its quarter names the session's datagrams. */
    public long streamId() {
        return streamId;
    }

    /**
     * The peer's UDP address (on the server: the client's) as QUIC last saw it, or null when unknown; any thread,
     * for display (a connection that migrates shows its new address).
     */
    public InetSocketAddress peerAddress() {
        return connection instanceof QuicChannel quic && quic.remoteSocketAddress() instanceof InetSocketAddress a
                ? a : null;
    }

    /** The sources the client may use, or null for any. */
    SourceFilter sources() {
        return sources;
    }

    /** Whether the session still carries packets. */
    public boolean open() {
        return open;
    }

    /** Whether the caller runs on the session's loop. */
    boolean inLoop() {
        return loop.inEventLoop();
    }

    /** Writes a framed datagram without flushing; on the session's loop only. Returns whether it was pending. */
    boolean write(ByteBuf datagram) {
        connection.write(datagram, connection.voidPromise());
        boolean wasPending = flushPending;
        flushPending = true;
        return wasPending;
    }

    /** Flushes what {@link #write} queued; on the session's loop only. */
    void flush() {
        if (flushPending) {
            flushPending = false;
            connection.flush();
        }
    }

    /** Queues a framed datagram for the session's loop; false (and not taken) when the queue is full. */
    boolean handOff(ByteBuf datagram) {
        if (!handoff.offer(datagram)) {
            return false;
        }
        if (drainScheduled.compareAndSet(false, true)) {
            loop.execute(drain);
        }
        return true;
    }

    private void drain() {
        drainScheduled.set(false);
        ByteBuf datagram;
        while ((datagram = handoff.poll()) != null) {
            if (open) {
                write(datagram);
            } else {
                datagram.release();
            }
        }
        flush();
    }

    /** Stops carrying packets and releases what waits in the hand-off queue; on the session's loop. */
    void close() {
        open = false;
        ByteBuf datagram;
        while ((datagram = handoff.poll()) != null) {
            datagram.release();
        }
    }

    @Override
    public String toString() {
        return "MasqueSession[tunnel=" + tunnelName + ", stream=" + streamId + ", remote=" + connection.remoteAddress()
                + "]";
    }
}
