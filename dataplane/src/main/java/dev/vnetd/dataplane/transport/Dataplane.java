package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.HealthProbes;
import dev.vnetd.dataplane.path.PacketPath;
import dev.vnetd.dataplane.path.TxPort;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.transport.masque.MasqueSessions;
import dev.vnetd.flowtable.FlowTable;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.sun.management.UnixOperatingSystemMXBean;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The running dataplane: N workers (Netty event loops, one thread each), and on every worker one socket per
 * listener, so a packet is received, processed and sent by the same thread; a TUN attachment has one queue of its
 * device per worker instead of a socket ({@link TunQueue}). On epoll and io_uring, UDP listeners (GRE-in-UDP,
 * ESP-in-UDP) and raw-socket listeners (plain GRE, plain ESP) are vnetd's own sockets, read with {@code recvmmsg}
 * and written with {@code sendmmsg} ({@link SocketQueue}); on NIO, the portable fallback where vnetd cannot poll a
 * descriptor of its own, UDP sockets are Netty channels ({@link ListenerHandler}) and raw sockets are refused.
 *
 * <p>A listener that cannot be opened at start (port in use, no CAP_NET_RAW for a raw socket, NIO transport for plain
 * GRE or ESP, no /dev/net/tun or CAP_NET_ADMIN for a TUN attachment) is reported in {@link #listenerErrors()};
 * the other listeners run. A reload adds a socket listener with {@link #openListener} then {@link #startListener},
 * and removes one with {@link #closeListener}; unchanged listeners keep their sockets.
 *
 * <p>A GRE-in-UDP listener with source ports, and an ESP-in-UDP listener, also get, on every worker, sending sockets
 * {@code connect}ed to their tunnels' remotes, up to their {@code connectedRemotes}: {@link #connectRemotes}, after
 * every published state.
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

    /** First port of the dynamic range (RFC 6335), where GRE-in-UDP source ports should come from. */
    public static final int DYNAMIC_PORTS_FIRST = 49152;
    /** Last port of the dynamic range. */
    public static final int DYNAMIC_PORTS_LAST = 65535;
    /** Random ports tried for one source-port socket before the listener fails; collisions are rare. */
    private static final int SOURCE_PORT_ATTEMPTS = 32;

    private static final Logger LOG = LoggerFactory.getLogger(Dataplane.class);

    private final TransportKind transport;
    private final MultiThreadIoEventLoopGroup group;
    /** Every worker's sockets, by listener id. */
    private final Map<Integer, List<ListenerSocket>> sockets = new ConcurrentHashMap<>();
    /** The sockets of listeners {@link #openListener opened} and not yet {@link #startListener started}. */
    private final Map<Integer, List<Runnable>> pendingStarts = new ConcurrentHashMap<>();
    private final List<TunQueue> tunQueues = new ArrayList<>();
    private final WorkerCounters[] counters;
    private final String[] listenerErrors;
    private final HealthProbes probes;
    private final PacketPath[] paths;
    private final EventLoop[] loops;
    private final MasqueSessions masqueSessions;
    private final SocketDrops socketDrops = new SocketDrops();
    /** Each worker's source-port sockets of a listener, by listener id (listeners that have them: epoll, io_uring). */
    private final Map<Integer, SourcePorts[]> sourcePorts = new ConcurrentHashMap<>();
    /**
     * The remotes with connected sockets, by listener id, and each worker's sockets connected to each; changed by
     * {@link #connectRemotes} and {@link #closeListener} under this object's lock.
     */
    private final Map<Integer, Map<InetSocketAddress, SocketQueue[][]>> connected = new HashMap<>();
    /** How many remotes each listener has connected sockets for, by listener id: for metrics, without the lock. */
    private final Map<Integer, Integer> connectedCounts = new ConcurrentHashMap<>();

    private Dataplane(TransportKind transport, MultiThreadIoEventLoopGroup group, int workers, int listenerCapacity,
                      HealthProbes probes, int maxTunnels) {
        this.transport = transport;
        this.group = group;
        this.counters = new WorkerCounters[workers];
        this.listenerErrors = new String[listenerCapacity];
        this.probes = probes;
        this.paths = new PacketPath[workers];
        this.loops = new EventLoop[workers];
        this.masqueSessions = new MasqueSessions(maxTunnels);
    }

    /**
     * Starts {@code workers} workers on {@code transport} and opens every listener of the current forwarding
     * state on each of them, with no room for listeners a reload would add.
     *
     * @param maxTunnels tunnels the counters have room for (ids of later forwarding states must stay below it)
     * @param flows      the flow table all workers share (Automatic Return Routing)
     */
    public static Dataplane start(ForwardingStateHolder holder, int workers, TransportKind transport,
                                  int maxTunnels, FlowTable flows) throws InterruptedException {
        return start(holder, workers, transport, maxTunnels, holder.get().listeners().length, flows);
    }

    /**
     * Starts {@code workers} workers on {@code transport} and opens every listener of the current forwarding
     * state on each of them.
     *
     * @param maxTunnels   tunnels the counters have room for (ids of later forwarding states must stay below it)
     * @param maxListeners listener ids the workers' send ports have room for (reloads add listeners up to it)
     * @param flows        the flow table all workers share (Automatic Return Routing)
     */
    public static Dataplane start(ForwardingStateHolder holder, int workers, TransportKind transport,
                                  int maxTunnels, int maxListeners, FlowTable flows) throws InterruptedException {
        Listener[] listeners = holder.get().listeners();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(workers,
                new DefaultThreadFactory("vnetd-worker", true), transport.ioHandlerFactory());
        Dataplane dataplane = new Dataplane(transport, group, workers, maxListeners,
                new HealthProbes(maxTunnels, ThreadLocalRandom.current().nextInt()), maxTunnels);
        try {
            int worker = 0;
            for (EventExecutor executor : group) {
                dataplane.startWorker(holder, (EventLoop) executor, worker++, workers, listeners, maxTunnels, flows);
            }
            dataplane.configureTunLinks(listeners);
        } catch (InterruptedException | RuntimeException e) {
            dataplane.close();
            throw e;
        }
        return dataplane;
    }

    private void startWorker(ForwardingStateHolder holder, EventLoop loop, int worker, int workers,
                             Listener[] listeners, int maxTunnels, FlowTable flows) throws InterruptedException {
        TxPort[] ports = new TxPort[listenerErrors.length];
        counters[worker] = new WorkerCounters(maxTunnels);
        List<Sockets> opened = new ArrayList<>();
        List<TunQueue> queues = new ArrayList<>();
        for (Listener listener : listeners) {
            if (listenerErrors[listener.id()] != null || listener.type().masque()) {
                continue; // MASQUE listeners are QUIC servers, opened by the MASQUE service on one worker
            }
            if (listener.type().tun()) {
                try {
                    TunQueue queue = TunQueue.open(listener.tun().device(), listener.id(), (IoEventLoop) loop,
                            transport, PooledByteBufAllocator.DEFAULT, MAX_DATAGRAM);
                    ports[listener.id()] = queue;
                    queues.add(queue);
                    tunQueues.add(queue);
                } catch (IOException e) {
                    tunFailed(listener, e.getMessage());
                }
                continue;
            }
            try {
                Sockets opening = openSockets(loop, listener, worker, workers, counters[worker]);
                ports[listener.id()] = opening.port();
                keepSourcePorts(listener.id(), worker, opening.port());
                opened.add(opening);
                sockets.computeIfAbsent(listener.id(), id -> new CopyOnWriteArrayList<>()).addAll(opening.sockets());
            } catch (IOException | RuntimeException e) {
                listenerErrors[listener.id()] = e.getMessage() == null ? e.toString() : e.getMessage();
                LOG.error("event=listener_failed listener={} type={} address={} error=\"{}\"", listener.name(),
                        listener.type().configName(), listener.address(), listenerErrors[listener.id()]);
            }
        }
        WorkerClock clock = new WorkerClock();
        clock.start(loop);
        PacketPath path = new PacketPath(holder, counters[worker], ports, PooledByteBufAllocator.DEFAULT,
                System::nanoTime, flows, clock, probes);
        path.masqueEgress(masqueSessions.egress());
        paths[worker] = path;
        loops[worker] = loop;
        opened.forEach(o -> o.start(path));
        queues.forEach(q -> q.start(path));
    }

    /**
     * A listener's sockets on one worker, the port the worker sends through, and the handler of the sockets that
     * are Netty channels (null when there are none).
     */
    private record Sockets(List<ListenerSocket> sockets, TxPort port, ListenerHandler handler) {
        /** Starts reading every socket into {@code path}. */
        void start(PacketPath path) {
            if (handler != null) {
                handler.path(path);
            }
            for (ListenerSocket socket : sockets) {
                switch (socket) {
                    case SocketQueue queue -> queue.start(path);
                    case ChannelSocket channel -> channel.startReading();
                }
            }
        }
    }

    /**
     * Opens a socket listener's sockets on one worker, not reading yet: the listening socket (SO_REUSEPORT for UDP,
     * a raw socket with the worker's share for plain GRE or ESP) and its source-port sockets (UDP only). Closes what
     * it opened when one fails.
     */
    private Sockets openSockets(EventLoop loop, Listener listener, int worker, int workers, WorkerCounters counters)
            throws IOException, InterruptedException {
        List<ListenerSocket> opened = new ArrayList<>();
        try {
            if (listener.type().raw()) {
                SocketQueue raw = openRaw(loop, listener, worker, workers, counters);
                opened.add(raw);
                return new Sockets(opened, raw, null);
            }
            if (transport == TransportKind.NIO) {
                return openNioSockets(loop, listener, opened);
            }
            SocketQueue main = openUdp(loop, listener, listener.address(), true, null, counters);
            opened.add(main);
            SocketQueue[] sources = new SocketQueue[listener.sourcePorts()];
            for (int i = 0; i < sources.length; i++) {
                sources[i] = openSourcePort(listener,
                        address -> openUdp(loop, listener, address, false, null, counters));
                opened.add(sources[i]);
            }
            // ESP-in-UDP sends from the listening port (NAT-T peers expect it): its port is that one socket, as
            // source ports so that connectRemotes can add sockets connected to each remote on the same port
            TxPort port = sources.length > 0 ? new SourcePorts(sources)
                    : listener.type() == ListenerType.ESP_UDP ? new SourcePorts(main) : main;
            return new Sockets(opened, port, null);
        } catch (IOException | InterruptedException | RuntimeException e) {
            opened.forEach(Dataplane::closeSocket);
            throw e;
        }
    }

    /** Opens a UDP listener's sockets as NIO channels, adding them to {@code opened}. */
    private Sockets openNioSockets(EventLoop loop, Listener listener, List<ListenerSocket> opened)
            throws IOException, InterruptedException {
        ListenerHandler handler = new ListenerHandler(listener.id(), listener.name());
        Channel main = openNioUdp(loop, listener.address(), true, handler);
        opened.add(new ChannelSocket(main));
        Channel[] sources = new Channel[listener.sourcePorts()];
        for (int i = 0; i < sources.length; i++) {
            sources[i] = openSourcePort(listener, address -> openNioUdp(loop, address, false, handler));
            opened.add(new ChannelSocket(sources[i]));
        }
        return new Sockets(opened, sources.length == 0 ? new ChannelTxPort(main) : new ChannelTxPort(sources),
                handler);
    }

    /**
     * Opens one of a listener's UDP sockets on the worker of {@code loop}, {@code connect}ed to {@code connectTo}
     * unless that is null, and counts its kernel drops toward the listener.
     */
    private SocketQueue openUdp(EventLoop loop, Listener listener, InetSocketAddress address, boolean reusePort,
                                InetSocketAddress connectTo, WorkerCounters counters)
            throws IOException, InterruptedException {
        SocketQueue queue = SocketQueue.open(listener.name(), listener.id(), address, reusePort, connectTo,
                (IoEventLoop) loop, transport, PooledByteBufAllocator.DEFAULT, MAX_DATAGRAM, SOCKET_BUFFER, counters);
        socketDrops.add(listener.id(), queue.fileDescriptor());
        return queue;
    }

    private static void closeSocket(ListenerSocket socket) {
        switch (socket) {
            case SocketQueue queue -> queue.closeQueue();
            case ChannelSocket channel -> channel.close();
        }
    }

    /**
     * Opens a listener a reload adds (a socket listener: not TUN, not MASQUE) on every worker, exactly as at start,
     * and installs each worker's send port for it on that worker's thread; its sockets read nothing until
     * {@link #startListener}, after the state that holds it is published. When a socket fails to open, closes what
     * this call opened, removes the ports and throws: nothing changed. Control thread; one reload at a time.
     */
    public void openListener(Listener listener) throws IOException, InterruptedException {
        if (listener.type().tun() || listener.type().masque() || listener.id() >= listenerErrors.length) {
            throw new IOException("listener " + listener.name() + " cannot be opened by a reload");
        }
        List<ListenerSocket> opened = new CopyOnWriteArrayList<>();
        List<Runnable> starts = new ArrayList<>();
        try {
            for (int worker = 0; worker < loops.length; worker++) {
                Sockets opening = openSockets(loops[worker], listener, worker, loops.length, counters[worker]);
                opened.addAll(opening.sockets());
                PacketPath path = paths[worker];
                starts.add(() -> opening.start(path));
                installPort(worker, listener.id(), opening.port());
                keepSourcePorts(listener.id(), worker, opening.port());
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            for (int worker = 0; worker < loops.length; worker++) {
                installPort(worker, listener.id(), null);
            }
            sourcePorts.remove(listener.id());
            opened.forEach(Dataplane::closeSocket);
            throw e;
        }
        sockets.put(listener.id(), opened);
        pendingStarts.put(listener.id(), starts);
        listenerErrors[listener.id()] = null;
    }

    /** Starts reading an {@link #openListener opened} listener's sockets: once the state holding it is published. */
    public void startListener(int listenerId) {
        List<Runnable> starts = pendingStarts.remove(listenerId);
        if (starts != null) {
            starts.forEach(Runnable::run);
        }
        LOG.info("event=listener_opened listener_id={} sockets={}", listenerId,
                sockets.getOrDefault(listenerId, List.of()).size());
    }

    /**
     * Closes a listener's sockets on every worker and removes the workers' send ports for it: once the state that
     * drops it is published (packets the workers already read finish as {@code unknown_tunnel}).
     */
    public void closeListener(int listenerId) throws InterruptedException {
        for (int worker = 0; worker < loops.length; worker++) {
            installPort(worker, listenerId, null);
        }
        sourcePorts.remove(listenerId);
        closeConnected(listenerId);
        pendingStarts.remove(listenerId);
        List<ListenerSocket> closing = sockets.remove(listenerId);
        if (closing != null) {
            closing.forEach(Dataplane::closeSocket);
        }
        listenerErrors[listenerId] = null;
        LOG.info("event=listener_closed listener_id={} sockets={}", listenerId, closing == null ? 0 : closing.size());
    }

    /** Remembers worker {@code worker}'s send port of a listener when it is source-port sockets. */
    private void keepSourcePorts(int listenerId, int worker, TxPort port) {
        if (port instanceof SourcePorts ports) {
            sourcePorts.computeIfAbsent(listenerId, id -> new SourcePorts[loops.length])[worker] = ports;
        }
    }

    /**
     * Brings every GRE-in-UDP and ESP-in-UDP listener's connected sockets in line with {@code state}, the state just
     * published: for each listener with source-port sockets (ESP-in-UDP: its listening socket), the remotes of its
     * live tunnels, distinct, in tunnel-id order, up to its {@code connectedRemotes}, get on every worker as many
     * sockets as it has source ports, each bound to a port of its own from the dynamic range (ESP-in-UDP: one, on
     * the listening address and port, {@link #openConnected}) and {@code connect}ed to the remote; each worker then
     * sends the packets of those tunnels through them ({@link SourcePorts#connect}, installed on the worker's
     * thread). The sockets of remotes no tunnel has any more go first: the workers' tables lose them, then they
     * close, so their files and ports are free for the remotes added. A remote whose sockets cannot be opened
     * (no route to it, no free port), or would leave more than half the process's file limit open
     * ({@code event=connect_skipped}), is logged and keeps the unconnected sockets: nothing fails. Control thread,
     * after each publication (at start and after every reload); one call at a time.
     */
    public synchronized void connectRemotes(ForwardingState state) throws InterruptedException {
        for (Listener listener : state.listeners()) {
            SourcePorts[] ports = sourcePorts.get(listener.id());
            if (ports == null || state.retiredListener(listener.id())) {
                continue;
            }
            Map<InetSocketAddress, SocketQueue[][]> current = connected.computeIfAbsent(listener.id(),
                    id -> new LinkedHashMap<>());
            Set<InetSocketAddress> wanted = remotesToConnect(state, listener);
            List<SocketQueue[][]> removed = new ArrayList<>();
            current.entrySet().removeIf(e -> !wanted.contains(e.getKey()) && removed.add(e.getValue()));
            if (!removed.isEmpty()) {
                // the workers stop using them first, then they close: their files and ports are free for the new
                installConnections(ports, connectionsOf(state, listener, current));
                removed.forEach(Dataplane::closeSockets);
            }
            List<SocketQueue[][]> added = new ArrayList<>();
            int skipped = 0;
            int position = 0;
            for (InetSocketAddress remote : wanted) {
                int receiver = position++ % loops.length;
                if (!current.containsKey(remote)) {
                    if (!fileRoomFor(socketsPerRemote(ports) * loops.length)) {
                        skipped++;
                        continue;
                    }
                    SocketQueue[][] opened = openConnected(listener, remote, ports, receiver);
                    if (opened != null) {
                        current.put(remote, opened);
                        added.add(opened);
                    }
                }
            }
            if (!added.isEmpty() || removed.isEmpty()) {
                for (int worker = 0; worker < loops.length; worker++) {
                    for (SocketQueue[][] sockets : added) {
                        if (sockets[worker] != null) {
                            for (SocketQueue socket : sockets[worker]) {
                                socket.start(paths[worker]);
                            }
                        }
                    }
                }
                installConnections(ports, connectionsOf(state, listener, current));
            }
            connectedCounts.put(listener.id(), current.size());
            if (skipped > 0) {
                LOG.warn("event=connect_skipped listener={} remotes={} reason=file_limit open_files={} max_files={} "
                        + "action=unconnected_sockets", listener.name(), skipped, openFiles(), maxFiles());
            }
            if (!added.isEmpty() || !removed.isEmpty()) {
                LOG.info("event=remotes_connected listener={} remotes={} added={} removed={} sockets_per_worker={}",
                        listener.name(), current.size(), added.size(), removed.size(),
                        current.size() * socketsPerRemote(ports));
            }
        }
    }

    /**
     * Whether {@code sockets} more connected sockets leave the process at most half its file limit open: the other
     * half stays for what must open later (listeners a reload adds, admin connections, the flow table's file).
     * Where the limit cannot be read, yes.
     */
    private static boolean fileRoomFor(int sockets) {
        long max = maxFiles();
        return max <= 0 || openFiles() + sockets <= max / 2;
    }

    private static long maxFiles() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount() : -1;
    }

    private static long openFiles() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof UnixOperatingSystemMXBean unix ? unix.getOpenFileDescriptorCount() : -1;
    }

    /** Sockets per connected remote on a worker: as many as its unconnected source-port sockets. */
    private static int socketsPerRemote(SourcePorts[] ports) {
        for (SourcePorts p : ports) {
            if (p != null) {
                return p.size();
            }
        }
        return 0;
    }

    /** The remotes of {@code listener}'s live tunnels, distinct, in tunnel-id order, at most its connectedRemotes. */
    private static Set<InetSocketAddress> remotesToConnect(ForwardingState state, Listener listener) {
        Set<InetSocketAddress> remotes = new LinkedHashSet<>();
        if (listener.type() != ListenerType.GRE_UDP && listener.type() != ListenerType.ESP_UDP) {
            return remotes;
        }
        for (Tunnel t : state.tunnels()) {
            if (remotes.size() == listener.connectedRemotes()) {
                break;
            }
            if (connectable(state, listener, t)) {
                remotes.add(t.remote());
            }
        }
        return remotes;
    }

    /** Whether {@code t} is a live tunnel of {@code listener} with a remote: one that connected sockets may serve. */
    private static boolean connectable(ForwardingState state, Listener listener, Tunnel t) {
        return t.listener().id() == listener.id() && t.remote() != null && !state.retiredTunnel(t.id());
    }

    /**
     * Opens, on every worker, {@code ports}' number of sockets connected to {@code remote}; returns them by worker,
     * or null (logged, what was opened closed) when one fails. GRE-in-UDP's are each on a random port of the dynamic
     * range. ESP-in-UDP's, one per worker, are on the listening address and port (SO_REUSEPORT), since NAT-T peers
     * expect their packets from it: there the kernel also gives the remote's own datagrams to one of them, the one
     * connected last (measured on Linux 6.18), so the workers connect in turn and worker {@code receiver} last: it
     * reads that remote's stream, and the remotes' streams spread over the workers in the order of their tunnels.
     */
    private SocketQueue[][] openConnected(Listener listener, InetSocketAddress remote, SourcePorts[] ports,
                                          int receiver) throws InterruptedException {
        SocketQueue[][] opened = new SocketQueue[loops.length][];
        boolean onListeningPort = listener.type() == ListenerType.ESP_UDP;
        try {
            for (int turn = 1; turn <= loops.length; turn++) {
                int worker = (receiver + turn) % loops.length;
                if (ports[worker] == null) {
                    continue; // the listener did not open on this worker
                }
                EventLoop loop = loops[worker];
                WorkerCounters workerCounters = counters[worker];
                opened[worker] = new SocketQueue[ports[worker].size()];
                for (int i = 0; i < opened[worker].length; i++) {
                    opened[worker][i] = onListeningPort
                            ? openUdp(loop, listener, listener.address(), true, remote, workerCounters)
                            : openSourcePort(listener,
                                    address -> openUdp(loop, listener, address, false, remote, workerCounters));
                }
            }
            return opened;
        } catch (IOException | RuntimeException e) {
            closeSockets(opened);
            LOG.warn("event=connect_failed listener={} remote={} error=\"{}\" action=unconnected_sockets",
                    listener.name(), remote, e.getMessage());
            return null;
        }
    }

    /**
     * Each worker's connected sockets by tunnel id (by worker, then tunnel id), for each live tunnel of
     * {@code listener} whose remote has them.
     */
    private SourcePorts.Connection[][] connectionsOf(ForwardingState state, Listener listener,
                                                     Map<InetSocketAddress, SocketQueue[][]> current) {
        SourcePorts.Connection[][] byWorker = new SourcePorts.Connection[loops.length][state.tunnels().length];
        for (Tunnel t : state.tunnels()) {
            SocketQueue[][] sockets = connectable(state, listener, t) ? current.get(t.remote()) : null;
            for (int worker = 0; sockets != null && worker < loops.length; worker++) {
                if (sockets[worker] != null) {
                    byWorker[worker][t.id()] = new SourcePorts.Connection(t.remote(), sockets[worker]);
                }
            }
        }
        return byWorker;
    }

    /** Installs each worker's table on its thread, and waits until every worker took it. */
    private void installConnections(SourcePorts[] ports, SourcePorts.Connection[][] byWorker)
            throws InterruptedException {
        for (int worker = 0; worker < loops.length; worker++) {
            if (ports[worker] == null) {
                continue;
            }
            SourcePorts port = ports[worker];
            SourcePorts.Connection[] table = byWorker[worker];
            var done = loops[worker].submit(() -> port.connect(table)).await();
            if (!done.isSuccess()) {
                throw new IllegalStateException("worker " + worker + " did not take the connected sockets",
                        done.cause());
            }
        }
    }

    /** Closes the connected sockets of listener {@code listenerId} (its send ports already removed). */
    private synchronized void closeConnected(int listenerId) {
        connectedCounts.remove(listenerId);
        Map<InetSocketAddress, SocketQueue[][]> closing = connected.remove(listenerId);
        if (closing != null) {
            closing.values().forEach(Dataplane::closeSockets);
        }
    }

    private static void closeSockets(SocketQueue[][] byWorker) {
        for (SocketQueue[] sockets : byWorker) {
            if (sockets != null) {
                for (SocketQueue socket : sockets) {
                    if (socket != null) {
                        socket.closeQueue();
                    }
                }
            }
        }
    }

    /** How many remotes listener {@code listenerId} sends to from connected sockets; any thread, no lock. */
    public int connectedRemotes(int listenerId) {
        return connectedCounts.getOrDefault(listenerId, 0);
    }

    /**
     * The sockets connected to a remote that listener {@code listenerId} has, each worker's in turn (for tests and
     * diagnostics). Any thread.
     */
    public synchronized List<ListenerSocket> connectedSockets(int listenerId) {
        List<ListenerSocket> all = new ArrayList<>();
        for (SocketQueue[][] byWorker : connected.getOrDefault(listenerId, Map.of()).values()) {
            for (SocketQueue[] sockets : byWorker) {
                if (sockets != null) {
                    all.addAll(List.of(sockets));
                }
            }
        }
        return all;
    }

    /** Installs (or removes, with null) worker {@code worker}'s send port for a listener, on the worker's thread. */
    private void installPort(int worker, int listenerId, TxPort port) throws InterruptedException {
        PacketPath path = paths[worker];
        var done = loops[worker].submit(() -> path.txPort(listenerId, port)).await();
        if (!done.isSuccess()) {
            throw new IllegalStateException("worker " + worker + " did not take the port", done.cause());
        }
    }

    /**
     * The sockets listener {@code listenerId} has open on the workers, each worker's listening socket before its
     * source-port sockets, worker by worker (for tests and diagnostics). Any thread.
     */
    public List<ListenerSocket> sockets(int listenerId) {
        return List.copyOf(sockets.getOrDefault(listenerId, List.of()));
    }

    /** Listener ids the workers' send ports have room for. */
    public int listenerCapacity() {
        return listenerErrors.length;
    }

    /**
     * Sets up the link of every TUN attachment whose queues opened (MTU, addresses, up, host routes): the device
     * exists once its first queue does. A failure counts as the attachment's listener failing.
     */
    private void configureTunLinks(Listener[] listeners) throws InterruptedException {
        for (Listener listener : listeners) {
            if (!listener.type().tun() || listenerErrors[listener.id()] != null) {
                continue;
            }
            try {
                TunLink.configure(listener.tun());
                LOG.info("event=tun_up device={} mtu={} addresses={} host_routes={} queues={}",
                        listener.tun().device(), listener.tun().mtu(), listener.tun().addresses(),
                        listener.tun().hostRoutes(), workers());
            } catch (IOException e) {
                tunFailed(listener, e.getMessage());
            }
        }
    }

    /** Records a TUN attachment's failure and closes the queues it has on any worker. */
    private void tunFailed(Listener listener, String error) {
        listenerErrors[listener.id()] = error;
        LOG.error("event=listener_failed listener={} type=tun device={} error=\"{}\"", listener.name(),
                listener.tun().device(), error);
        for (TunQueue queue : tunQueues) {
            if (queue.listenerId() == listener.id()) {
                queue.closeQueue();
            }
        }
    }

    /** Opens a socket bound to an address, throwing IOException when the address is taken. */
    @FunctionalInterface
    private interface Binder<T> {
        T bind(InetSocketAddress address) throws IOException, InterruptedException;
    }

    /**
     * Opens one of a listener's source-port sockets with {@code binder}: the listener's address, a random port from
     * the dynamic range 49152-65535 that RFC 8086 section 3.2 recommends for GRE-in-UDP source ports.
     */
    private static <T> T openSourcePort(Listener listener, Binder<T> binder) throws IOException, InterruptedException {
        IOException last = null;
        for (int attempt = 0; attempt < SOURCE_PORT_ATTEMPTS; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(DYNAMIC_PORTS_FIRST, DYNAMIC_PORTS_LAST + 1);
            try {
                return binder.bind(new InetSocketAddress(listener.address().getAddress(), port));
            } catch (IOException e) {
                last = e;
            }
        }
        throw new IOException("no free source port in " + DYNAMIC_PORTS_FIRST + "-" + DYNAMIC_PORTS_LAST
                + " after " + SOURCE_PORT_ATTEMPTS + " attempts", last);
    }

    private Channel openNioUdp(EventLoop loop, InetSocketAddress address, boolean reusePort, ListenerHandler handler)
            throws IOException, InterruptedException {
        SocketProtocolFamily family = address.getAddress() instanceof Inet4Address
                ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
        Bootstrap bootstrap = OuterFragmentation.allow(new Bootstrap(), transport, family)
                .group(loop)
                .channelFactory(() -> transport.newDatagramChannel(family))
                .option(transport.reusePortOption(), reusePort)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_DATAGRAM))
                .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER)
                .handler(handler);
        var future = bootstrap.bind(address).await();
        if (!future.isSuccess()) {
            throw new IOException("bind " + address + ": " + future.cause().getMessage(), future.cause());
        }
        return future.channel();
    }

    private SocketQueue openRaw(EventLoop loop, Listener listener, int worker, int workers, WorkerCounters counters)
            throws IOException, InterruptedException {
        if (!transport.supportsRawSockets()) {
            throw new IOException("plain " + listener.type().configName() + " (IP protocol "
                    + listener.type().ipProtocol() + ") needs raw sockets, which the " + transport.configName()
                    + " transport cannot carry (" + transport.rawSocketLimitation()
                    + "); use transport auto, epoll or io_uring");
        }
        SocketQueue queue = SocketQueue.openRaw(listener.name(), listener.id(), listener.address().getAddress(),
                listener.type().ipProtocol(), worker, workers, (IoEventLoop) loop, transport,
                PooledByteBufAllocator.DEFAULT, MAX_DATAGRAM, SOCKET_BUFFER, counters);
        socketDrops.add(listener.id(), queue.fileDescriptor());
        return queue;
    }

    /** The transport in use. */
    public TransportKind transport() {
        return transport;
    }

    /** Counters of every worker, by worker index. */
    public WorkerCounters[] counters() {
        return counters.clone();
    }

    /** The health probes the workers send and whose replies they record. */
    public HealthProbes probes() {
        return probes;
    }

    /**
     * Has a worker send a health probe into tunnel {@code tunnelId} (see {@link PacketPath#sendProbe}): the worker
     * {@code tunnelId % workers}, through its event loop's task queue (Netty's multi-producer single-consumer queue,
     * drained by the worker between read batches), so the path stays single-threaded. Any thread; returns at once.
     */
    public void sendProbe(int tunnelId, boolean request, int target, int sequence) {
        int worker = Math.floorMod(tunnelId, paths.length);
        PacketPath path = paths[worker];
        loops[worker].execute(() -> path.sendProbe(tunnelId, request, target, sequence));
    }

    /**
     * Counts the kernel's receive-buffer drops at {@code channel}, a socket opened outside this class (a MASQUE
     * listener's or client's QUIC socket), toward listener {@code listenerId} in {@link #socketReceiveDrops(int)}.
     * Any thread.
     */
    public void watchSocketDrops(int listenerId, Channel channel) {
        socketDrops.add(listenerId, channel);
    }

    /**
     * Datagrams the kernel dropped at the sockets of listener {@code listenerId} because their receive buffer was full
     * (epoll and io_uring transports; 0 with NIO). Reads {@code /proc}: call from the metrics scraper, not a worker.
     */
    public long socketReceiveDrops(int listenerId) {
        return socketDrops.drops(listenerId);
    }

    /** For each listener id, why it could not be opened, or null when it runs. */
    public String[] listenerErrors() {
        return listenerErrors.clone();
    }

    /** Worker {@code worker}'s path: to be called only on {@link #loop(int) its event loop}. */
    public PacketPath path(int worker) {
        return paths[worker];
    }

    /** Worker {@code worker}'s event loop. */
    public EventLoop loop(int worker) {
        return loops[worker];
    }

    /** The MASQUE sessions of every worker, by tunnel id. */
    public MasqueSessions masqueSessions() {
        return masqueSessions;
    }

    /** Records that listener {@code listenerId} could not be opened by a service other than the workers'. */
    public void listenerFailed(int listenerId, String error) {
        listenerErrors[listenerId] = error;
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

    /** Whether every worker thread has finished (after {@link #close()}). */
    public boolean stopped() {
        return group.isTerminated();
    }

    /** Number of workers. */
    public int workers() {
        return counters.length;
    }

    /** Closes every socket and stops the workers, letting in-flight batches finish. */
    @Override
    public void close() {
        for (TunQueue queue : tunQueues) {
            queue.closeQueue();
        }
        for (List<ListenerSocket> listener : sockets.values()) {
            listener.forEach(Dataplane::closeSocket);
        }
        synchronized (this) {
            connected.values().forEach(remotes -> remotes.values().forEach(Dataplane::closeSockets));
            connected.clear();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
        return "Dataplane[transport=" + transport.configName() + ", workers=" + counters.length
                + ", listenerErrors=" + Arrays.toString(listenerErrors) + "]";
    }
}
