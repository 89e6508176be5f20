package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.PacketPath;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A file descriptor a worker reads when it is ready (a UDP or raw socket of {@link SocketQueue}, a TUN queue of
 * {@link TunQueue}), registered on the worker's event loop as a custom Netty I/O handle: the registration,
 * readiness and close that both share.
 *
 * <pre>
 *  open ─▶ register() on the worker's loop ─▶ start(path): readiness armed, path set
 *  readiness: epoll EPOLLIN|EPOLLERR, level-triggered; io_uring POLL_ADD, re-armed after each completion
 *    └─ ready(readable, error)                      (subclass: recvmmsg / read, error queue)
 *  close(): flushBeforeClose() ─▶ no poll armed: release() now
 *                                 io_uring poll armed: IORING_OP_ASYNC_CANCEL ─▶ poll completes ─▶ release()
 *  release(): registration cancelled, close(fd), released() (subclass frees its buffers)
 * </pre>
 *
 * Why close waits for the poll on io_uring: an armed {@code POLL_ADD} holds a reference to the file, and neither
 * Netty's {@link IoRegistration#cancel()} (which only forgets the handle once its operations complete) nor
 * {@code close(fd)} ends it. A socket closed that way stayed bound until the ring was torn down: a UDP listener
 * with SO_REUSEPORT kept taking its share of the port's datagrams into a socket nobody read, and a listener reopened
 * on the same address lost them (seen in CI as a test on the next transport receiving nothing).
 *
 * <p>Not thread-safe: everything runs on the worker's thread except {@link #start}, {@link #closeQueue} and
 * {@link #isClosed}, which hand their work to it or read a volatile.
 */
abstract class PolledDescriptor implements EpollIoHandle, IoUringIoHandle {
    static final int POLLIN = 0x1;
    static final int POLLERR = 0x8;
    private static final byte IORING_OP_POLL_ADD = 6;
    private static final byte IORING_OP_ASYNC_CANCEL = 14;
    private static final long RELEASE_WAIT_MILLIS = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(PolledDescriptor.class);

    /** The descriptor; closed once, by {@link #release()}. */
    protected final int fd;
    protected final IoEventLoop loop;
    protected final TransportKind transport;
    /** The worker's path, set by {@link #start}; null until then. */
    protected PacketPath path;
    private final FileDescriptor descriptor;
    private final CountDownLatch releasedLatch = new CountDownLatch(1);
    private IoRegistration registration;
    private long pollUserData;
    private boolean pollArmed;
    private boolean reading;
    private volatile boolean closed;

    PolledDescriptor(int fd, IoEventLoop loop, TransportKind transport) {
        this.fd = fd;
        this.descriptor = new FileDescriptor(fd);
        this.loop = loop;
        this.transport = transport;
    }

    /**
     * Registers this descriptor on its worker's loop; when that fails, closes the descriptor and throws
     * "register WHAT on the worker: reason".
     */
    final void register(String what) throws IOException, InterruptedException {
        var future = loop.register(this).await();
        if (!future.isSuccess()) {
            TunDevice.close(fd);
            throw new IOException("register " + what + " on the worker: " + future.cause().getMessage(),
                    future.cause());
        }
        registration = future.getNow();
    }

    /** Starts reading into {@code path}; called once, from any thread; nothing happens when already closed. */
    final void start(PacketPath path) {
        loop.execute(() -> {
            if (closed) {
                return;
            }
            this.path = path;
            reading = true;
            if (transport == TransportKind.IO_URING) {
                armPoll();
            } else {
                registration.submit(EpollIoOps.EPOLLIN);
            }
        });
    }

    private void armPoll() {
        pollUserData = registration.submit(new IoUringIoOps(IORING_OP_POLL_ADD, (byte) 0, (short) 0, fd, 0L, 0L, 0,
                POLLIN, (short) 0, (short) 0, (short) 0, 0, 0L));
        pollArmed = true;
    }

    /** Reads what readiness reported: {@code readable} data, or an {@code error} queued on the descriptor. */
    abstract void ready(boolean readable, boolean error);

    /** Called once before closing, while the descriptor is still open (a socket sends what it queued). */
    abstract void flushBeforeClose();

    /** Called once after the descriptor is closed: frees buffers. */
    abstract void released();

    @Override
    public final FileDescriptor fd() {
        return descriptor;
    }

    @Override
    public final void handle(IoRegistration registration, IoEvent event) {
        if (event instanceof IoUringIoEvent completion) {
            if (completion.opcode() != IORING_OP_POLL_ADD) {
                return;
            }
            pollArmed = false;
            if (closed) {
                release();
                return;
            }
            if (!reading) {
                return;
            }
            int res = completion.res();
            if (res < 0) {
                LOG.error("event=poll_failed handle={} error=\"{}\" action=stopped_reading", this,
                        TunDevice.strerror(-res));
                stopReading();
                return;
            }
            ready((res & POLLIN) != 0, (res & POLLERR) != 0);
            if (reading && !closed) {
                armPoll();
            }
        } else if (event instanceof EpollIoEvent ready && reading && !closed) {
            ready(ready.ops().contains(EpollIoOps.EPOLLIN), ready.ops().contains(EpollIoOps.EPOLLERR));
        }
    }

    /** Stops reading (a read failed for good); writes go on until {@link #close}. Worker thread. */
    final void stopReading() {
        reading = false;
        if (!pollArmed && registration.isValid()) {
            registration.cancel();
        }
    }

    /** Whether the descriptor is read: started, not stopped, not closed. Worker thread. */
    final boolean isReading() {
        return reading && !closed;
    }

    /** Whether {@link #close} ran; any thread. */
    final boolean isClosed() {
        return closed;
    }

    /**
     * Closes the descriptor on the worker's thread and waits up to a second until it is released (an io_uring
     * poll cancelled). While the worker stops, Netty closes the handles still registered itself.
     */
    final void closeQueue() {
        if (loop.inEventLoop()) {
            close();
        } else if (!loop.isShuttingDown()) {
            loop.submit(this::close).awaitUninterruptibly(RELEASE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            try {
                if (!releasedLatch.await(RELEASE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                    LOG.warn("event=close_slow handle={} waited_ms={}", this, RELEASE_WAIT_MILLIS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Closes the descriptor (also called by Netty for handles still registered when the worker stops); idempotent.
     * With an io_uring poll armed, cancels it and releases when its completion arrives.
     */
    @Override
    public final void close() {
        if (closed) {
            return;
        }
        flushBeforeClose();
        closed = true;
        if (pollArmed && registration.isValid()) {
            registration.submit(new IoUringIoOps(IORING_OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1, 0L, pollUserData,
                    0, 0, (short) 0, (short) 0, (short) 0, 0, 0L));
            return;
        }
        release();
    }

    private void release() {
        if (registration != null && registration.isValid()) {
            registration.cancel();
        }
        TunDevice.close(fd);
        released();
        releasedLatch.countDown();
    }
}
