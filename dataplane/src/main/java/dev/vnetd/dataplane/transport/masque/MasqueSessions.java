package dev.vnetd.dataplane.transport.masque;

import dev.vnetd.dataplane.masque.HttpDatagram;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.MasqueEgress;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The established MASQUE sessions by tunnel id, and each worker's {@link MasqueEgress} onto them: a packet routed
 * to a MASQUE tunnel gets its HTTP/3 datagram header (Quarter Stream ID, context 0) written in front of it in place
 * (the receive buffer's old headers leave the room; otherwise it is copied into a pooled buffer), then is written
 * on the connection directly when the worker owns it, or handed to the owner's loop through the session's queue.
 * Sessions are registered and removed by the loops that own them; workers read the array without locking.
 */
public final class MasqueSessions {
    /**
     * Packets one session's hand-off queue holds: 1024 datagrams, about 1.3 MB at the 1280-byte MTU, absorb the
     * packets of several full read batches from every other worker while the owner is busy; beyond that the owner
     * cannot keep up anyway and dropping early (counted) is better than queueing latency.
     */
    public static final int HANDOFF_CAPACITY = 1024;

    private final AtomicReferenceArray<MasqueSession> byTunnel;
    private final LongAdder handoffs = new LongAdder();
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    /** Room for tunnel ids below {@code maxTunnels}. */
    public MasqueSessions(int maxTunnels) {
        this.byTunnel = new AtomicReferenceArray<>(Math.max(1, maxTunnels));
    }

    /** Makes {@code session} the one its tunnel's packets go to, replacing an older one (which is returned). */
    public MasqueSession register(MasqueSession session) {
        return byTunnel.getAndSet(session.tunnelId(), session);
    }

    /** Removes {@code session} if it is still its tunnel's. */
    public void unregister(MasqueSession session) {
        byTunnel.compareAndSet(session.tunnelId(), session, null);
    }

    /** The session of tunnel {@code tunnelId}, or null. */
    public MasqueSession session(int tunnelId) {
        return tunnelId < byTunnel.length() ? byTunnel.get(tunnelId) : null;
    }

    /** Packets handed from one worker to another's loop so far. */
    public long handoffs() {
        return handoffs.sum();
    }

    /** A new egress for one worker. */
    public MasqueEgress egress() {
        return new WorkerEgress();
    }

    private final class WorkerEgress implements MasqueEgress {
        private MasqueSession[] pending = new MasqueSession[4];
        private int pendingCount;

        @Override
        public boolean send(Tunnel tunnel, ByteBuf buf, int offset, int length, WorkerCounters counters) {
            MasqueSession session = session(tunnel.id());
            if (session == null || !session.open()) {
                buf.release();
                counters.drop(DropReason.MASQUE_NO_SESSION);
                return false;
            }
            ByteBuf datagram = frame(buf, offset, length, session.streamId());
            if (session.inLoop()) {
                if (!session.write(datagram)) {
                    addPending(session);
                }
                return true;
            }
            if (!session.handOff(datagram)) {
                datagram.release();
                counters.drop(DropReason.MASQUE_HANDOFF_FULL);
                return false;
            }
            handoffs.increment();
            return true;
        }

        private ByteBuf frame(ByteBuf buf, int offset, int length, long streamId) {
            int header = HttpDatagram.headerLength(streamId);
            ByteBuf out = buf;
            int payload = offset;
            if (offset < header) {
                out = alloc.directBuffer(header + length);
                out.setBytes(header, buf, offset, length);
                buf.release();
                payload = header;
            }
            int start = HttpDatagram.writeHeader(out, payload, streamId);
            return out.setIndex(start, payload + length);
        }

        private void addPending(MasqueSession session) {
            if (pendingCount == pending.length) {
                MasqueSession[] grown = new MasqueSession[pending.length * 2];
                System.arraycopy(pending, 0, grown, 0, pendingCount);
                pending = grown;
            }
            pending[pendingCount++] = session;
        }

        @Override
        public void flush() {
            for (int i = 0; i < pendingCount; i++) {
                pending[i].flush();
                pending[i] = null;
            }
            pendingCount = 0;
        }
    }
}
