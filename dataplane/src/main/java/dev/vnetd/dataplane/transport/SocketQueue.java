package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.TxPort;
import dev.vnetd.dataplane.path.WorkerCounters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * One worker's socket of a listener, opened by vnetd itself and registered on the worker's event loop as a custom
 * Netty I/O handle: steps 1 and 8 of the path, with no Netty object per datagram. A UDP socket (GRE-in-UDP,
 * ESP-in-UDP: the listening socket or one of its source-port sockets; {@link UdpSocket}) or a raw IP socket (plain
 * GRE, plain ESP; {@link RawIpSocket}): the same system calls move both. What a datagram's bytes are is the path's
 * business: the UDP payload, or a raw socket's IP packet, with its IPv4 header (IPv6 raw sockets deliver none).
 *
 * <pre>
 *  readiness ({@link PolledDescriptor}: epoll level-triggered, or an io_uring POLL_ADD re-armed each time)
 *    └─ recvmmsg(up to RX_BATCH) into the slots' pooled buffers at RX_HEADROOM
 *         └─ PacketPath.stage(listener, buf, slot's address, senderHigh, senderLow) per datagram
 *              ─▶ PacketPath.receiveBatch() ─▶ PacketPath.flush()
 *  PacketPath ─▶ send(packet, remote): address, length, sockaddr into the next tx mmsghdr, buffer held
 *  flush()    ─▶ sendmmsg(all queued); a partial send continues after the entry the kernel refused;
 *                EAGAIN drops the rest (tx_buffer_full); each packet counted once: tx, or a drop with its reason
 *  error readiness (EPOLLERR / POLLERR: IP_RECVERR queued an ICMP error about something this socket sent)
 *    └─ recvmsg(MSG_ERRQUEUE) until empty: the original destination ─▶ its tunnel's peer-unreachable counter
 *       (raw: every worker's socket of the protocol gets each error; the worker whose share the remote is counts it)
 * </pre>
 *
 * <p>Receive slots own a pooled direct buffer each, reused while the path is done with it (its reference count is
 * back to ours alone: the packet was encapsulated into another buffer, dropped, or sent by the last flush); a packet
 * still held elsewhere (a TUN write never holds, an other socket's queue releases at the same flush) makes the slot
 * take a fresh buffer. The {@code mmsghdr}, {@code iovec} and {@code sockaddr} arrays are made once, off-heap.
 *
 * <p>Not thread-safe: everything runs on the worker's thread; {@link #open}, {@link #openRaw}, {@link #start} and
 * {@link #closeQueue} may be called from others and hand their work to it.
 */
final class SocketQueue extends PolledDescriptor implements TxPort, ListenerSocket {
    /**
     * Datagrams per {@code recvmmsg}: 64 bounds the time one busy socket holds the worker (about 64 x 1 us) and
     * matches the batch {@code udpblast relay} reads, the yardstick of issue 10.
     */
    static final int RX_BATCH = 64;
    /**
     * Packets queued for one {@code sendmmsg}: one receive batch can queue at most {@link #RX_BATCH} packets and as
     * many ICMP errors, so a batch is flushed in one call; a fuller queue is flushed early.
     */
    static final int TX_CAPACITY = 2 * RX_BATCH;
    /** Tunnel id of a packet queued through {@link #send(ByteBuf, InetSocketAddress, int)}: counted, no tunnel. */
    private static final int NO_TUNNEL = -1;
    private static final int EINTR_RESULT = -4;
    /** Error-queue messages read per error readiness: the kernel rate-limits the ICMP errors that fill it. */
    private static final int ERROR_BUDGET = 64;
    private static final int ERROR_CONTROL_SIZE = 128;
    private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;
    private static final long IPV4_MASK = 0xFFFF_FFFFL;
    /** Entries of the IPv6 destination cache, a power of two. */
    private static final int REMOTES6 = 16;

    private static final Logger LOG = LoggerFactory.getLogger(SocketQueue.class);

    private final String listenerName;
    private final int listenerId;
    /** What the socket is, for messages: "UDP socket ADDRESS", "raw socket for IP protocol N on ADDRESS". */
    private final String description;
    /**
     * This socket's share of the ICMP errors it reads, as in {@link RawIpSocket#isShareOf}: (0, 1) for UDP, whose
     * error queue holds only errors about what this socket sent; (worker, workers) for a raw socket.
     */
    private final int errorShare;
    private final int errorShares;
    private final InetSocketAddress localAddress;
    /** The one remote this socket is {@code connect}ed to, which its datagrams go to without a name; else null. */
    private final InetSocketAddress connectedTo;
    private final ByteBufAllocator alloc;
    private final int bufferSize;
    private final MemorySegment errnoState;
    private final MemorySegment rxMsgs;
    private final MemorySegment rxIovecs;
    private final MemorySegment rxNames;
    private final ByteBuf[] rxBufs = new ByteBuf[RX_BATCH];
    /** The native address of each receive slot's buffer (its byte 0), for the path: see {@link PacketPath#stage}. */
    private final long[] rxAddresses = new long[RX_BATCH];
    private final MemorySegment txMsgs;
    private final MemorySegment txIovecs;
    private final MemorySegment txNames;
    private final ByteBuf[] txBufs = new ByteBuf[TX_CAPACITY];
    private final MemorySegment errorMsg;
    private final MemorySegment errorName;
    private final MemorySegment errorControl;
    private final int[] txTunnels = new int[TX_CAPACITY];
    private int txCount;
    private final WorkerCounters counters;
    /**
     * IPv6 destinations whose address bytes were read, with those bytes as two longs: a direct-mapped cache of
     * {@link #REMOTES6} entries by identity (tunnels' remotes are objects that live as long as their state), so that
     * a worker sending to several IPv6 tunnels in turn reads each address once, not per packet.
     */
    private final InetAddress[] remotes6 = new InetAddress[REMOTES6];
    private final long[] remotes6High = new long[REMOTES6];
    private final long[] remotes6Low = new long[REMOTES6];
    private long lastLogNanos = System.nanoTime() - LOG_INTERVAL_NANOS;
    private long suppressed;

    private SocketQueue(Opening opening, InetSocketAddress localAddress, IoEventLoop loop, TransportKind transport,
                        ByteBufAllocator alloc, int maxDatagram, WorkerCounters counters) {
        super(opening.fd(), loop, transport);
        this.counters = counters;
        this.listenerName = opening.listenerName();
        this.listenerId = opening.listenerId();
        this.description = opening.description();
        this.errorShare = opening.errorShare();
        this.errorShares = opening.errorShares();
        this.connectedTo = opening.connectedTo();
        this.localAddress = localAddress;
        this.alloc = alloc;
        this.bufferSize = TunQueue.RX_HEADROOM + maxDatagram;
        Arena arena = Arena.ofAuto();
        this.errnoState = TunDevice.newErrnoState(arena);
        this.rxMsgs = arena.allocate((long) RX_BATCH * UdpSocket.MMSGHDR_SIZE, 8);
        this.rxIovecs = arena.allocate((long) RX_BATCH * UdpSocket.IOVEC_SIZE, 8);
        this.rxNames = arena.allocate((long) RX_BATCH * UdpSocket.SOCKADDR_SIZE, 8);
        this.txMsgs = arena.allocate((long) TX_CAPACITY * UdpSocket.MMSGHDR_SIZE, 8);
        this.txIovecs = arena.allocate((long) TX_CAPACITY * UdpSocket.IOVEC_SIZE, 8);
        this.txNames = arena.allocate((long) TX_CAPACITY * UdpSocket.SOCKADDR_SIZE, 8);
        this.errorMsg = arena.allocate(UdpSocket.MSGHDR_SIZE, 8);
        this.errorName = arena.allocate(UdpSocket.SOCKADDR_SIZE, 8);
        this.errorControl = arena.allocate(ERROR_CONTROL_SIZE, 8);
        link(rxMsgs, rxIovecs, rxNames, RX_BATCH);
        link(txMsgs, txIovecs, txNames, TX_CAPACITY);
        for (int i = 0; i < RX_BATCH; i++) {
            rxIovecs.set(ValueLayout.JAVA_LONG, (long) i * UdpSocket.IOVEC_SIZE + UdpSocket.IOV_LEN_OFFSET,
                    bufferSize - TunQueue.RX_HEADROOM);
        }
    }

    /** Points every {@code mmsghdr} of an array at its own {@code iovec} and {@code sockaddr}, one buffer each. */
    private static void link(MemorySegment msgs, MemorySegment iovecs, MemorySegment names, int count) {
        for (int i = 0; i < count; i++) {
            long msg = (long) i * UdpSocket.MMSGHDR_SIZE;
            msgs.set(ValueLayout.JAVA_LONG, msg + UdpSocket.MSG_NAME_OFFSET,
                    names.address() + (long) i * UdpSocket.SOCKADDR_SIZE);
            msgs.set(ValueLayout.JAVA_INT, msg + UdpSocket.MSG_NAMELEN_OFFSET, UdpSocket.SOCKADDR_SIZE);
            msgs.set(ValueLayout.JAVA_LONG, msg + UdpSocket.MSG_IOV_OFFSET,
                    iovecs.address() + (long) i * UdpSocket.IOVEC_SIZE);
            msgs.set(ValueLayout.JAVA_LONG, msg + UdpSocket.MSG_IOVLEN_OFFSET, 1L);
            msgs.set(ValueLayout.JAVA_LONG, msg + UdpSocket.MSG_CONTROL_OFFSET, 0L);
            msgs.set(ValueLayout.JAVA_LONG, msg + UdpSocket.MSG_CONTROLLEN_OFFSET, 0L);
            msgs.set(ValueLayout.JAVA_INT, msg + UdpSocket.MSG_FLAGS_OFFSET, 0);
        }
    }

    /**
     * Opens a UDP socket bound to {@code address} for listener {@code listenerId} on the worker of {@code loop}
     * (SO_REUSEPORT when {@code reusePort}: every worker binds the listening address) and registers it there;
     * datagrams are read once {@link #start} gives it the worker's path. Its sends count in {@code counters}, the
     * worker's.
     *
     * <p>With a {@code remote} the socket is also {@code connect}ed to it: a sending socket for the packets of the
     * tunnels whose remote that is, which names no destination per datagram (the kernel keeps the route; see
     * {@link UdpSocket#connect}). It is then given only packets to {@code remote}. Sharing a listening address
     * (SO_REUSEPORT), it also reads that remote's datagrams to the address, which the kernel gives a connected socket
     * before the listening ones.
     *
     * @param remote the remote to connect to, or null for an unconnected socket
     * @throws IOException when the socket cannot be opened, bound ("bind ADDRESS: reason"), connected ("connect
     *                     REMOTE: reason") or registered
     */
    static SocketQueue open(String listenerName, int listenerId, InetSocketAddress address, boolean reusePort,
                            InetSocketAddress remote, IoEventLoop loop, TransportKind transport,
                            ByteBufAllocator alloc, int maxDatagram, int socketBuffer, WorkerCounters counters)
            throws IOException, InterruptedException {
        checkTransport(transport);
        int fd = UdpSocket.open(address, reusePort, socketBuffer);
        if (remote != null) {
            try {
                UdpSocket.connect(fd, remote);
            } catch (IOException | RuntimeException e) {
                TunDevice.close(fd);
                throw e;
            }
        }
        String description = "UDP socket " + address + (remote == null ? "" : " connected to " + remote);
        return register(new Opening(listenerName, listenerId, description, 0, 1, fd, remote), loop, transport, alloc,
                maxDatagram, counters);
    }

    /**
     * Opens a raw IP socket for {@code protocol} bound to {@code address} for listener {@code listenerId} on worker
     * {@code worker} of {@code workers} (its share of the protocol's packets: {@link RawIpSocket}) and registers it
     * on that worker's {@code loop}, as {@link #open} does for UDP. Needs CAP_NET_RAW.
     *
     * @throws IOException when the socket cannot be opened (permission: "needs CAP_NET_RAW"), bound or registered
     */
    static SocketQueue openRaw(String listenerName, int listenerId, InetAddress address, int protocol, int worker,
                               int workers, IoEventLoop loop, TransportKind transport, ByteBufAllocator alloc,
                               int maxDatagram, int socketBuffer, WorkerCounters counters)
            throws IOException, InterruptedException {
        checkTransport(transport);
        int fd = RawIpSocket.open(address, protocol, worker, workers, socketBuffer);
        return register(new Opening(listenerName, listenerId, "raw socket for IP protocol " + protocol + " on "
                + address.getHostAddress(), worker, workers, fd, null), loop, transport, alloc, maxDatagram, counters);
    }

    /**
     * An opened socket not yet a queue: whose, what, its share of the ICMP errors it reads, its descriptor, the
     * remote it is connected to (or null).
     */
    private record Opening(String listenerName, int listenerId, String description, int errorShare, int errorShares,
                           int fd, InetSocketAddress connectedTo) {
    }

    private static void checkTransport(TransportKind transport) throws IOException {
        if (transport == TransportKind.NIO) {
            throw new IOException("vnetd's own sockets need the epoll or io_uring transport");
        }
    }

    /** Makes the queue of an opened socket and registers it on {@code loop}; closes the socket when that fails. */
    private static SocketQueue register(Opening opening, IoEventLoop loop, TransportKind transport,
                                        ByteBufAllocator alloc, int maxDatagram, WorkerCounters counters)
            throws IOException, InterruptedException {
        SocketQueue queue;
        try {
            queue = new SocketQueue(opening, UdpSocket.localAddress(opening.fd()), loop, transport, alloc,
                    maxDatagram, counters);
        } catch (IOException | RuntimeException e) {
            TunDevice.close(opening.fd());
            throw e;
        }
        queue.register(opening.description());
        return queue;
    }

    /** The socket's file descriptor (for the socket drop counters). */
    int fileDescriptor() {
        return fd;
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public boolean isOpen() {
        return !isClosed();
    }

    @Override
    public InetSocketAddress connectedTo() {
        return connectedTo;
    }

    /** Whether packets wait for the next {@link #flush()}. */
    boolean queued() {
        return txCount > 0;
    }

    @Override
    void ready(boolean readable, boolean error) {
        if (error) {
            readErrors();
        }
        if (readable) {
            readBatch();
        }
    }

    /**
     * Reads the socket's error queue: each message is an ICMP error (port, host, network or protocol unreachable,
     * ...) about a datagram this socket sent, its name the datagram's destination (port 0 from a raw socket, as a
     * raw tunnel's remote has), counted against the tunnel with that remote and logged at a limited rate; a raw
     * socket counts only the errors in its share, the other workers' sockets count theirs. Then clears the socket's
     * pending error, which the kernel sets with each report and which would otherwise fail the next send (whoever's
     * packet it is) and keep the error readiness raised.
     */
    private void readErrors() {
        for (int i = 0; i < ERROR_BUDGET; i++) {
            errorMsg.fill((byte) 0);
            errorMsg.set(ValueLayout.JAVA_LONG, UdpSocket.MSG_NAME_OFFSET, errorName.address());
            errorMsg.set(ValueLayout.JAVA_INT, UdpSocket.MSG_NAMELEN_OFFSET, UdpSocket.SOCKADDR_SIZE);
            errorMsg.set(ValueLayout.JAVA_LONG, UdpSocket.MSG_CONTROL_OFFSET, errorControl.address());
            errorMsg.set(ValueLayout.JAVA_LONG, UdpSocket.MSG_CONTROLLEN_OFFSET, ERROR_CONTROL_SIZE);
            if (UdpSocket.receiveError(errnoState, fd, errorMsg.address()) < 0) {
                break;
            }
            int level = errorControl.get(ValueLayout.JAVA_INT, UdpSocket.CMSG_LEVEL_OFFSET);
            int type = errorControl.get(ValueLayout.JAVA_INT, UdpSocket.CMSG_TYPE_OFFSET);
            boolean extendedError = level == OuterFragmentation.SOL_IP && type == UdpSocket.IP_RECVERR
                    || level == OuterFragmentation.SOL_IPV6 && type == UdpSocket.IPV6_RECVERR;
            int errno = extendedError ? errorControl.get(ValueLayout.JAVA_INT, UdpSocket.CMSG_DATA_OFFSET) : 0;
            int port = Short.toUnsignedInt(errorName.get(UdpSocket.U16_BE, UdpSocket.SOCKADDR_PORT_OFFSET));
            boolean ipv4 = errorName.get(ValueLayout.JAVA_SHORT, 0) == UdpSocket.AF_INET;
            long high = ipv4 ? 0L : errorName.get(UdpSocket.U64_BE, UdpSocket.SOCKADDR_IN6_ADDR_OFFSET);
            long low = ipv4 ? errorName.get(UdpSocket.U32_BE, UdpSocket.SOCKADDR_IN_ADDR_OFFSET) & IPV4_MASK
                    : errorName.get(UdpSocket.U64_BE, UdpSocket.SOCKADDR_IN6_ADDR_OFFSET + Long.BYTES);
            if (!RawIpSocket.isShareOf(ipv4, low, errorShare, errorShares)) {
                continue;
            }
            String tunnel = path.peerUnreachable(listenerId, high, low, port);
            socketError("peer_error", tunnel == null ? "no_tunnel" : "peer_unreachable tunnel=" + tunnel, errno);
        }
        try {
            UdpSocket.takePendingError(fd);
        } catch (IOException e) {
            socketError("peer_error", "so_error", 0);
        }
    }

    /**
     * Receives up to {@link #RX_BATCH} datagrams with one {@code recvmmsg} and runs them through the path as one
     * batch ({@link PacketPath#receiveBatch}), then flushes what they queued. A fuller socket is read again at its
     * next readiness report, which level-triggered epoll and a re-armed io_uring poll both give at once, after the
     * worker's other handles.
     */
    private void readBatch() {
        fillSlots();
        int received = UdpSocket.receiveBatch(errnoState, fd, rxMsgs.address(), RX_BATCH);
        if (received <= 0) {
            if (received != UdpSocket.EAGAIN_RESULT && received != EINTR_RESULT) {
                socketError("receive", "none", -received);
            }
            return;
        }
        for (int i = 0; i < received; i++) {
            long msg = (long) i * UdpSocket.MMSGHDR_SIZE;
            int length = rxMsgs.get(ValueLayout.JAVA_INT, msg + UdpSocket.MSG_LEN_OFFSET);
            rxMsgs.set(ValueLayout.JAVA_INT, msg + UdpSocket.MSG_NAMELEN_OFFSET, UdpSocket.SOCKADDR_SIZE);
            long name = (long) i * UdpSocket.SOCKADDR_SIZE;
            ByteBuf buf = rxBufs[i].retain().setIndex(TunQueue.RX_HEADROOM, TunQueue.RX_HEADROOM + length);
            if (rxNames.get(ValueLayout.JAVA_SHORT, name) == UdpSocket.AF_INET) {
                path.stage(listenerId, buf, rxAddresses[i], 0L,
                        rxNames.get(UdpSocket.U32_BE, name + UdpSocket.SOCKADDR_IN_ADDR_OFFSET) & IPV4_MASK);
            } else {
                path.stage(listenerId, buf, rxAddresses[i],
                        rxNames.get(UdpSocket.U64_BE, name + UdpSocket.SOCKADDR_IN6_ADDR_OFFSET),
                        rxNames.get(UdpSocket.U64_BE, name + UdpSocket.SOCKADDR_IN6_ADDR_OFFSET + Long.BYTES));
            }
        }
        path.receiveBatch();
        path.flush();
    }

    /** Gives every receive slot a buffer of its own: the one it had when the path is done with it, else a new one. */
    private void fillSlots() {
        for (int i = 0; i < RX_BATCH; i++) {
            ByteBuf buf = rxBufs[i];
            if (buf != null && buf.refCnt() == 1) {
                continue;
            }
            if (buf != null) {
                buf.release();
            }
            buf = alloc.directBuffer(bufferSize, bufferSize);
            if (!buf.hasMemoryAddress()) {
                buf.release();
                throw new IllegalStateException("the allocator's direct buffers expose no memory address; run with "
                        + "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED");
            }
            rxBufs[i] = buf;
            rxAddresses[i] = buf.memoryAddress();
            rxIovecs.set(ValueLayout.JAVA_LONG, (long) i * UdpSocket.IOVEC_SIZE, rxAddresses[i] + TunQueue.RX_HEADROOM);
        }
    }

    /** Queues {@code packet} to {@code remote}, counted without a tunnel (tx counters are per tunnel). */
    @Override
    public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
        return send(packet, remote, flowHash, NO_TUNNEL);
    }

    /**
     * Queues {@code packet} to {@code remote} for the next {@link #flush()}, which counts it as tx of
     * {@code tunnelId} or as a drop; false (and counted as {@code tx_failed}) only when the socket is closed. A
     * {@linkplain #connectedTo connected} socket must be given packets to its remote only: it names none.
     */
    @Override
    public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash, int tunnelId) {
        if (isClosed()) {
            packet.release();
            counters.drop(DropReason.TX_FAILED);
            return false;
        }
        if (txCount == TX_CAPACITY) {
            flush();
        }
        ByteBuf out = packet;
        if (!out.hasMemoryAddress()) {
            out = alloc.directBuffer(packet.readableBytes()).writeBytes(packet);
            packet.release();
        }
        int i = txCount++;
        txBufs[i] = out;
        txTunnels[i] = tunnelId;
        long iov = (long) i * UdpSocket.IOVEC_SIZE;
        txIovecs.set(ValueLayout.JAVA_LONG, iov, out.memoryAddress() + out.readerIndex());
        txIovecs.set(ValueLayout.JAVA_LONG, iov + UdpSocket.IOV_LEN_OFFSET, out.readableBytes());
        // a connected socket's datagram names no destination (length 0: the kernel takes no address)
        txMsgs.set(ValueLayout.JAVA_INT, (long) i * UdpSocket.MMSGHDR_SIZE + UdpSocket.MSG_NAMELEN_OFFSET,
                connectedTo != null ? 0 : destination((long) i * UdpSocket.SOCKADDR_SIZE, remote));
        return true;
    }

    /**
     * Writes {@code remote} as the sockaddr at {@code name} of the tx names without allocating: an IPv4 address's
     * {@code hashCode()} is the address; an IPv6 address's bytes are read once, into the destination cache.
     * Returns the sockaddr's length.
     */
    private int destination(long name, InetSocketAddress remote) {
        InetAddress address = remote.getAddress();
        txNames.set(UdpSocket.U16_BE, name + UdpSocket.SOCKADDR_PORT_OFFSET, (short) remote.getPort());
        if (address instanceof Inet4Address) {
            txNames.set(ValueLayout.JAVA_SHORT, name, UdpSocket.AF_INET);
            txNames.set(UdpSocket.U32_BE, name + UdpSocket.SOCKADDR_IN_ADDR_OFFSET, address.hashCode());
            return UdpSocket.SOCKADDR_IN_SIZE;
        }
        int entry = System.identityHashCode(address) & (REMOTES6 - 1);
        if (remotes6[entry] != address) {
            MemorySegment bytes = MemorySegment.ofArray(address.getAddress());
            remotes6High[entry] = bytes.get(UdpSocket.U64_BE, 0);
            remotes6Low[entry] = bytes.get(UdpSocket.U64_BE, Long.BYTES);
            remotes6[entry] = address;
        }
        txNames.set(ValueLayout.JAVA_SHORT, name, UdpSocket.AF_INET6);
        txNames.set(ValueLayout.JAVA_INT, name + UdpSocket.SOCKADDR_IN_ADDR_OFFSET, 0);
        txNames.set(UdpSocket.U64_BE, name + UdpSocket.SOCKADDR_IN6_ADDR_OFFSET, remotes6High[entry]);
        txNames.set(UdpSocket.U64_BE, name + UdpSocket.SOCKADDR_IN6_ADDR_OFFSET + Long.BYTES, remotes6Low[entry]);
        txNames.set(ValueLayout.JAVA_INT, name + UdpSocket.SOCKADDR_IN6_SIZE - Integer.BYTES, 0);
        return UdpSocket.SOCKADDR_IN6_SIZE;
    }

    /** This port counts every packet it queued: tx when the kernel took it, else a drop. */
    @Override
    public boolean countsSends() {
        return true;
    }

    /**
     * Sends every queued packet with {@code sendmmsg}: when the kernel refuses one, it is tried once more (the
     * refusal may be the socket's pending error from an ICMP report about an earlier datagram, which the refusal
     * cleared), then dropped with the reason, and the rest continue after it; when the send buffer is full
     * (EAGAIN), the rest are dropped as {@code tx_buffer_full}: a worker never waits for a socket.
     */
    @Override
    public void flush() {
        int next = 0;
        int retried = -1;
        while (next < txCount) {
            int sent = UdpSocket.sendBatch(errnoState, fd, txMsgs.address() + (long) next * UdpSocket.MMSGHDR_SIZE,
                    txCount - next);
            if (sent > 0) {
                for (int i = next; i < next + sent; i++) {
                    sentOne(i);
                }
                next += sent;
            } else if (sent == EINTR_RESULT) {
                continue;
            } else if (sent == UdpSocket.EAGAIN_RESULT) {
                for (int i = next; i < txCount; i++) {
                    dropOne(i, DropReason.TX_BUFFER_FULL);
                }
                next = txCount;
            } else if (retried != next) {
                retried = next;
            } else {
                DropReason reason = TxFailures.reason(-sent);
                dropOne(next++, reason);
                socketError("send", reason.metricName(), -sent);
            }
        }
        txCount = 0;
    }

    private void sentOne(int i) {
        ByteBuf buf = txBufs[i];
        txBufs[i] = null;
        if (txTunnels[i] != NO_TUNNEL) {
            counters.tx(txTunnels[i], buf.readableBytes());
        }
        buf.release();
    }

    private void dropOne(int i, DropReason reason) {
        txBufs[i].release();
        txBufs[i] = null;
        counters.drop(reason);
    }

    /**
     * Logs a socket error at most once per ten seconds, with how many were not logged since; {@code reason} is the
     * drop reason of a refused send.
     */
    private void socketError(String operation, String reason, int errno) {
        long now = System.nanoTime();
        if (now - lastLogNanos >= LOG_INTERVAL_NANOS) {
            LOG.warn("event=socket_error listener={} local={} operation={} reason={} error=\"{}\" suppressed={}",
                    listenerName, localAddress, operation, reason, TunDevice.strerror(errno), suppressed);
            lastLogNanos = now;
            suppressed = 0;
        } else {
            suppressed++;
        }
    }

    /** The id of the listener this socket belongs to. */
    int listenerId() {
        return listenerId;
    }

    @Override
    void flushBeforeClose() {
        flush();
    }

    /** Releases the receive slots' buffers (queued packets were sent by {@link #flushBeforeClose}). */
    @Override
    void released() {
        for (int i = 0; i < RX_BATCH; i++) {
            if (rxBufs[i] != null) {
                rxBufs[i].release();
                rxBufs[i] = null;
            }
        }
    }

    @Override
    public String toString() {
        return "SocketQueue[listener=" + listenerName + ", " + description + ", fd=" + fd + "]";
    }
}
