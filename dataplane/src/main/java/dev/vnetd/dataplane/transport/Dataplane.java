package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.path.PacketPath;
import dev.vnetd.dataplane.path.TxPort;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The running dataplane: N workers (Netty event loops, one thread each), and on every worker one socket per
 * listener, so a packet is received, processed and sent by the same thread.
 *
 * <p>A listener that cannot be opened (port in use, no CAP_NET_RAW for a raw socket, NIO transport for plain
 * GRE) is reported in {@link #listenerErrors()}; the other listeners run.
 */
public final class Dataplane implements AutoCloseable {
    /**
     * Receive buffer per datagram, in bytes: a jumbo-frame tunnel packet (9000-byte inner MTU plus headers) fits.
     * A larger datagram is truncated by the kernel and then dropped as {@code inner_bad_length}.
     */
    public static final int MAX_DATAGRAM = 9216;
    /**
     * Socket receive and send buffer, in bytes: 4 MiB absorbs about 40 ms of 1 Gbit/s, a burst while the worker
     * is busy elsewhere; the kernel caps it at net.core.rmem_max / wmem_max unless run with CAP_NET_ADMIN.
     */
    public static final int SOCKET_BUFFER = 4 * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(Dataplane.class);

    private final TransportKind transport;
    private final MultiThreadIoEventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();
    private final WorkerCounters[] counters;
    private final String[] listenerErrors;

    private Dataplane(TransportKind transport, MultiThreadIoEventLoopGroup group, int workers, int listeners) {
        this.transport = transport;
        this.group = group;
        this.counters = new WorkerCounters[workers];
        this.listenerErrors = new String[listeners];
    }

    /**
     * Starts {@code workers} workers on {@code transport} and opens every listener of the current forwarding
     * state on each of them.
     *
     * @param maxTunnels tunnels the counters have room for (ids of later forwarding states must stay below it)
     */
    public static Dataplane start(ForwardingStateHolder holder, int workers, TransportKind transport,
                                  int maxTunnels) throws InterruptedException {
        Listener[] listeners = holder.get().listeners();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(workers,
                new DefaultThreadFactory("vnetd-worker", true), transport.ioHandlerFactory());
        Dataplane dataplane = new Dataplane(transport, group, workers, listeners.length);
        try {
            int worker = 0;
            for (EventExecutor executor : group) {
                dataplane.startWorker(holder, (EventLoop) executor, worker++, workers, listeners, maxTunnels);
            }
        } catch (InterruptedException | RuntimeException e) {
            dataplane.close();
            throw e;
        }
        return dataplane;
    }

    private void startWorker(ForwardingStateHolder holder, EventLoop loop, int worker, int workers,
                             Listener[] listeners, int maxTunnels) throws InterruptedException {
        TxPort[] ports = new TxPort[listeners.length];
        ListenerHandler[] handlers = new ListenerHandler[listeners.length];
        Channel[] opened = new Channel[listeners.length];
        for (Listener listener : listeners) {
            if (listenerErrors[listener.id()] != null) {
                continue;
            }
            ListenerHandler handler = new ListenerHandler(listener.id(), listener.name());
            try {
                Channel channel = listener.type() == ListenerType.GRE
                        ? openRaw(loop, listener, worker, workers, handler)
                        : openUdp(loop, listener, handler);
                opened[listener.id()] = channel;
                handlers[listener.id()] = handler;
                ports[listener.id()] = new ChannelTxPort(channel);
                channels.add(channel);
            } catch (IOException | RuntimeException e) {
                listenerErrors[listener.id()] = e.getMessage() == null ? e.toString() : e.getMessage();
                LOG.error("event=listener_failed listener={} type={} address={} error=\"{}\"", listener.name(),
                        listener.type().configName(), listener.address(), listenerErrors[listener.id()]);
            }
        }
        counters[worker] = new WorkerCounters(maxTunnels);
        PacketPath path = new PacketPath(holder, counters[worker], ports, PooledByteBufAllocator.DEFAULT,
                System::nanoTime);
        for (int i = 0; i < listeners.length; i++) {
            if (opened[i] != null) {
                handlers[i].path(path);
                opened[i].config().setAutoRead(true);
            }
        }
    }

    private Channel openUdp(EventLoop loop, Listener listener, ListenerHandler handler)
            throws IOException, InterruptedException {
        SocketProtocolFamily family = listener.address().getAddress() instanceof Inet4Address
                ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channelFactory(() -> transport.newDatagramChannel(family))
                .option(transport.reusePortOption(), true)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_DATAGRAM))
                .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER)
                .handler(handler);
        var future = bootstrap.bind(listener.address()).await();
        if (!future.isSuccess()) {
            throw new IOException("bind " + listener.address() + ": " + future.cause().getMessage(), future.cause());
        }
        return future.channel();
    }

    private Channel openRaw(EventLoop loop, Listener listener, int worker, int workers, ListenerHandler handler)
            throws IOException, InterruptedException {
        if (!transport.supportsRawSockets()) {
            throw new IOException("plain GRE needs raw sockets, which the " + transport.configName()
                    + " transport cannot carry (" + transport.rawSocketLimitation() + "); use transport auto or epoll");
        }
        int fd = RawIpSocket.open(listener.address().getAddress(), Ipv4Flyweight.PROTO_GRE, worker, workers);
        Channel channel = transport.wrapRawSocket(fd);
        channel.config().setAutoRead(false);
        channel.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(MAX_DATAGRAM));
        channel.pipeline().addLast(handler);
        var future = loop.register(channel).await();
        if (!future.isSuccess()) {
            channel.unsafe().closeForcibly();
            throw new IOException("register raw socket: " + future.cause().getMessage(), future.cause());
        }
        return channel;
    }

    /** The transport in use. */
    public TransportKind transport() {
        return transport;
    }

    /** Counters of every worker, by worker index. */
    public WorkerCounters[] counters() {
        return counters.clone();
    }

    /** For each listener id, why it could not be opened, or null when it runs. */
    public String[] listenerErrors() {
        return listenerErrors.clone();
    }

    /** Whether every worker thread is alive and accepting tasks. */
    public boolean workersAlive() {
        for (EventExecutor executor : group) {
            if (executor.isShuttingDown()) {
                return false;
            }
        }
        return !group.isShuttingDown();
    }

    /** Number of workers. */
    public int workers() {
        return counters.length;
    }

    /** Closes every socket and stops the workers, letting in-flight batches finish. */
    @Override
    public void close() {
        for (Channel channel : channels) {
            channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
        return "Dataplane[transport=" + transport.configName() + ", workers=" + counters.length
                + ", listenerErrors=" + Arrays.toString(listenerErrors) + "]";
    }
}
