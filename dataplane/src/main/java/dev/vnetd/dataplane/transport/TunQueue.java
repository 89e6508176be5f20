package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.TxPort;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/**
 * One worker's queue of a TUN attachment's device, registered on the worker's event loop as a custom Netty I/O
 * handle: steps 1 and 8 of the path for TUN.
 *
 * <pre>
 *  readiness ({@link PolledDescriptor}: epoll level-triggered, or an io_uring POLL_ADD re-armed each time)
 *    └─ read() until EAGAIN, at most READ_BUDGET packets, into the reused receive buffer at RX_HEADROOM
 *         └─ PacketPath.receive(listener, buf, null) ... ─▶ PacketPath.flush() once per batch
 *  PacketPath ─▶ send(packet): one write() per packet, synchronous; EAGAIN (queue full) ─▶ false, counted
 * </pre>
 *
 * The receive buffer starts {@link #RX_HEADROOM} bytes in, so that GRE and ESP encapsulation write their headers
 * in place. It is reused while the path is done with it (its reference count is back to ours alone: the packet was
 * written to a TUN device, encapsulated into another buffer, or dropped); a packet queued on a socket until the
 * batch's flush keeps it, and the next read takes a fresh pooled buffer. Not thread-safe: everything runs on the
 * worker's thread; {@link #open}, {@link #start} and {@link #closeQueue} may be called from others and hand their
 * work to it.
 */
final class TunQueue extends PolledDescriptor implements TxPort {
    /**
     * Bytes kept free before a received packet: the largest header vnetd writes in front of an inner packet in
     * place (GRE with key 8, ESP header and IV 16, AES-CBC's 24), rounded up to a cache line.
     */
    static final int RX_HEADROOM = 64;
    /**
     * Packets read per readiness event before the worker turns to its other handles: 64 bounds the time one busy
     * device holds the worker (about 64 x 1 us), like Netty's default of 16 reads of up to 4 datagrams.
     */
    static final int READ_BUDGET = 64;

    private static final Logger LOG = LoggerFactory.getLogger(TunQueue.class);

    private final String device;
    private final int listenerId;
    private final ByteBufAllocator alloc;
    private final int bufferSize;
    private final MemorySegment errnoState = TunDevice.newErrnoState(Arena.ofAuto());
    private final Runnable readAgain = this::readBatch;
    private ByteBuf rx;
    private ByteBuf scratch;

    private TunQueue(String device, int listenerId, int fd, IoEventLoop loop, TransportKind transport,
                     ByteBufAllocator alloc, int maxPacket) {
        super(fd, loop, transport);
        this.device = device;
        this.listenerId = listenerId;
        this.alloc = alloc;
        this.bufferSize = RX_HEADROOM + maxPacket;
    }

    /**
     * Opens a queue of {@code device} for the worker on {@code loop} and registers it there; packets are read
     * once {@link #start} gives it the worker's path.
     *
     * @throws IOException when the device cannot be opened or the transport cannot carry it (NIO)
     */
    static TunQueue open(String device, int listenerId, IoEventLoop loop, TransportKind transport,
                         ByteBufAllocator alloc, int maxPacket) throws IOException, InterruptedException {
        if (transport == TransportKind.NIO) {
            throw new IOException("TUN device " + device + " needs the epoll or io_uring transport: Java NIO cannot "
                    + "poll a TUN file descriptor; use transport auto, epoll or io_uring");
        }
        int fd = TunDevice.openQueue(device);
        TunQueue queue = new TunQueue(device, listenerId, fd, loop, transport, alloc, maxPacket);
        queue.register("TUN device " + device);
        return queue;
    }

    @Override
    void ready(boolean readable, boolean error) {
        readBatch();
    }

    /**
     * Reads up to {@link #READ_BUDGET} packets and runs each through the path, then flushes what they queued. When
     * the budget ran out before the queue did, the rest is read from a task, after the worker's other handles.
     */
    private void readBatch() {
        if (!isReading()) {
            return;
        }
        int packets = 0;
        while (packets < READ_BUDGET) {
            ByteBuf buf = receiveBuffer();
            int n = TunDevice.read(errnoState, fd, buf.memoryAddress() + RX_HEADROOM, bufferSize - RX_HEADROOM);
            if (n == TunDevice.EAGAIN_RESULT) {
                break;
            }
            if (n <= 0) {
                readFailed(n);
                break;
            }
            packets++;
            buf.retain().setIndex(RX_HEADROOM, RX_HEADROOM + n);
            path.receive(listenerId, buf, null);
        }
        if (packets > 0) {
            path.flush();
        }
        if (packets == READ_BUDGET) {
            loop.execute(readAgain);
        }
    }

    /**
     * Stops reading a queue whose read failed with something other than EAGAIN (the device was deleted or taken
     * down under vnetd): level-triggered readiness would otherwise report it again at once, forever. Writes go on
     * failing and are counted as {@code tun_write_failed}.
     */
    private void readFailed(int result) {
        LOG.error("event=tun_read_failed device={} error=\"{}\" action=stopped_reading_this_queue", device,
                result == 0 ? "end of file" : TunDevice.strerror(-result));
        stopReading();
    }

    /** The reused receive buffer, or a fresh one when the path still holds the last (queued on a socket). */
    private ByteBuf receiveBuffer() {
        if (rx != null && rx.refCnt() == 1) {
            return rx;
        }
        if (rx != null) {
            rx.release();
        }
        rx = alloc.directBuffer(bufferSize, bufferSize);
        if (!rx.hasMemoryAddress()) {
            rx.release();
            rx = null;
            throw new IllegalStateException("the allocator's direct buffers expose no memory address; run with "
                    + "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED");
        }
        return rx;
    }

    /** Writes {@code packet} (a whole IP packet) to the device now; {@code remote} and {@code flowHash} are unused. */
    @Override
    public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
        try {
            int length = packet.readableBytes();
            long address;
            if (packet.hasMemoryAddress()) {
                address = packet.memoryAddress() + packet.readerIndex();
            } else {
                if (scratch == null) {
                    scratch = alloc.directBuffer(bufferSize, bufferSize);
                }
                scratch.setBytes(0, packet, packet.readerIndex(), length);
                address = scratch.memoryAddress();
            }
            return !isClosed() && TunDevice.write(errnoState, fd, address, length) == length;
        } finally {
            packet.release();
        }
    }

    /** Writes happen in {@link #send}: nothing is queued. */
    @Override
    public void flush() {
    }

    /** The id of the TUN attachment's listener. */
    int listenerId() {
        return listenerId;
    }

    /** Nothing to flush: writes happen in {@link #send}. */
    @Override
    void flushBeforeClose() {
    }

    @Override
    void released() {
        if (rx != null) {
            rx.release();
            rx = null;
        }
        if (scratch != null) {
            scratch.release();
            scratch = null;
        }
    }

    @Override
    public String toString() {
        return "TunQueue[device=" + device + ", fd=" + fd + "]";
    }
}
