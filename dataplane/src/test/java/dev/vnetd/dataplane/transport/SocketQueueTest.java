package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.TestNetwork;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** vnetd's own UDP sockets on epoll and io_uring: batched sends counted once each, batched receives forwarded. */
class SocketQueueTest {
    private static final int TUNNEL = 1;

    @ParameterizedTest
    @CsvSource({"EPOLL, 127.0.0.1", "IO_URING, 127.0.0.1", "EPOLL, ::1", "IO_URING, ::1"})
    void shouldCountEachQueuedPacketOnceAsTxOrDropAndSendTheRestAfterARefusedOne(TransportKind kind, String host)
            throws Exception {
        InetAddress local = InetAddress.ofLiteral(host);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, kind.ioHandlerFactory());
        WorkerCounters counters = new WorkerCounters(4);
        try (DatagramChannel peer = DatagramChannel.open().bind(new InetSocketAddress(local, 0))) {
            IoEventLoop loop = (IoEventLoop) group.next();
            SocketQueue queue = SocketQueue.open("test", 0, new InetSocketAddress(local, 0), false, null, loop, kind,
                    PooledByteBufAllocator.DEFAULT, Dataplane.MAX_DATAGRAM, 64 * 1024, counters);
            InetSocketAddress to = (InetSocketAddress) peer.getLocalAddress();
            InetSocketAddress refused = new InetSocketAddress(local, 0); // port 0: the kernel refuses (EINVAL)
            List<ByteBuf> packets = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                packets.add(PooledByteBufAllocator.DEFAULT.directBuffer().writeInt(i).writeZero(96));
            }
            packets.forEach(ByteBuf::retain);
            boolean[] accepted = new boolean[3];
            loop.submit(() -> {
                accepted[0] = queue.send(packets.get(0), to, 7, TUNNEL);
                accepted[1] = queue.send(packets.get(1), refused, 7, TUNNEL);
                accepted[2] = queue.send(packets.get(2), to, 7, TUNNEL);
                queue.flush();
            }).sync();

            assertTrue(accepted[0] && accepted[1] && accepted[2], "queued; the kernel's verdict comes at flush");
            assertEquals(0, receiveFirstInt(peer));
            assertEquals(2, receiveFirstInt(peer), "the packet after the refused one still went");
            assertEquals(2, counters.txPackets(TUNNEL));
            assertEquals(200, counters.txBytes(TUNNEL));
            assertEquals(1, counters.drops(DropReason.TX_FAILED), "the refused packet is a drop, not tx");
            packets.forEach(p -> assertEquals(1, p.refCnt(), "the queue released its reference"));
            packets.forEach(ByteBuf::release);
            assertEquals(local, queue.localAddress().getAddress());
            queue.closeQueue();
            assertFalse(queue.isOpen());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A socket connected to one peer sends without naming it (IPv4 and IPv6): the datagrams arrive from the socket's
     * own port and count as the tunnel's tx.
     */
    @ParameterizedTest
    @CsvSource({"EPOLL, 127.0.0.1", "IO_URING, 127.0.0.1", "EPOLL, ::1", "IO_URING, ::1"})
    void shouldSendToItsOnePeerFromAConnectedSocket(TransportKind kind, String host) throws Exception {
        InetAddress local = InetAddress.ofLiteral(host);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, kind.ioHandlerFactory());
        WorkerCounters counters = new WorkerCounters(4);
        try (DatagramChannel peer = DatagramChannel.open().bind(new InetSocketAddress(local, 0))) {
            IoEventLoop loop = (IoEventLoop) group.next();
            InetSocketAddress to = (InetSocketAddress) peer.getLocalAddress();
            SocketQueue queue = SocketQueue.open("test", 0, new InetSocketAddress(local, 0), false, to, loop, kind,
                    PooledByteBufAllocator.DEFAULT, Dataplane.MAX_DATAGRAM, 64 * 1024, counters);
            assertEquals(to, queue.connectedTo());
            loop.submit(() -> {
                for (int i = 0; i < 2; i++) {
                    queue.send(PooledByteBufAllocator.DEFAULT.directBuffer().writeInt(i).writeZero(96), to, 7, TUNNEL);
                }
                queue.flush();
            }).sync();

            peer.socket().setSoTimeout(2000);
            for (int i = 0; i < 2; i++) {
                java.net.DatagramPacket datagram = new java.net.DatagramPacket(new byte[256], 256);
                peer.socket().receive(datagram);
                assertEquals(queue.localAddress().getPort(), datagram.getPort(), "from the connected socket");
                assertEquals(i, ByteBuffer.wrap(datagram.getData()).getInt(0));
            }
            assertEquals(2, counters.txPackets(TUNNEL));
            assertEquals(List.of(), Arrays.stream(DropReason.values()).filter(r -> counters.drops(r) > 0).toList());
            queue.closeQueue();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * IPv6 destinations in turn, more distinct ones than the destination cache holds: each packet reaches its own
     * peer. The peers are IPv4 sockets reached as IPv4-mapped IPv6 addresses from a dual-stack socket, so every
     * destination has different address bytes on loopback (an address served from the wrong cache entry would
     * reach the wrong peer).
     */
    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
    void shouldSendToManyIpv6DestinationsInTurnEachToItsOwnPeer(TransportKind kind) throws Exception {
        int peers = 20;
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, kind.ioHandlerFactory());
        List<DatagramChannel> sinks = new ArrayList<>();
        try {
            List<InetSocketAddress> destinations = new ArrayList<>();
            for (int i = 0; i < peers; i++) {
                DatagramChannel sink = DatagramChannel.open(java.net.StandardProtocolFamily.INET)
                        .bind(new InetSocketAddress("127.0.0." + (10 + i), 0));
                sinks.add(sink);
                byte[] mapped = new byte[16];
                mapped[10] = (byte) 0xff;
                mapped[11] = (byte) 0xff;
                System.arraycopy(((InetSocketAddress) sink.getLocalAddress()).getAddress().getAddress(), 0, mapped,
                        12, 4);
                destinations.add(new InetSocketAddress(java.net.Inet6Address.getByAddress(null, mapped, -1),
                        ((InetSocketAddress) sink.getLocalAddress()).getPort()));
            }
            IoEventLoop loop = (IoEventLoop) group.next();
            SocketQueue queue = SocketQueue.open("test", 0, new InetSocketAddress(InetAddress.ofLiteral("::"), 0),
                    false, null, loop, kind, PooledByteBufAllocator.DEFAULT, Dataplane.MAX_DATAGRAM, 1024 * 1024,
                    new WorkerCounters(4));
            int rounds = 3;
            loop.submit(() -> {
                for (int round = 0; round < rounds; round++) {
                    for (int i = 0; i < peers; i++) {
                        queue.send(PooledByteBufAllocator.DEFAULT.directBuffer().writeInt(i).writeInt(round).writeZero(92),
                                destinations.get(i), 0, TUNNEL);
                    }
                    queue.flush();
                }
            }).sync();
            for (int i = 0; i < peers; i++) {
                for (int round = 0; round < rounds; round++) {
                    assertEquals(i, receiveFirstInt(sinks.get(i)), "peer " + i + " got another peer's packet");
                }
            }
            queue.closeQueue();
        } finally {
            for (DatagramChannel sink : sinks) {
                sink.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
    void shouldForwardMoreDatagramsThanOneBatchReusingTheReceiveBuffers(TransportKind kind) throws Exception {
        TestNetwork net = new TestNetwork();
        int port = 47541 + 2 * kind.ordinal(); // its own port per transport: no SO_REUSEPORT group with the last
        int datagrams = 3 * SocketQueue.RX_BATCH + 5;
        InetSocketAddress vnetd = new InetSocketAddress(net.tunnels[0].listener().address().getAddress(), port);
        ForwardingStateHolder holder = TestNetwork.withUdpPort(net, port);
        try (DatagramChannel site = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.2", 0));
             DatagramChannel dc = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.3", 4754));
             Dataplane dataplane = Dataplane.start(holder, 1, kind, 16, net.flows)) {
            assertNull(dataplane.listenerErrors()[0]);
            List<InetSocketAddress> sockets = dataplane.sockets(0).stream().map(ListenerSocket::localAddress).toList();
            assertEquals(vnetd, sockets.getFirst(), "the listening socket, then its source-port sockets");
            assertEquals(1 + holder.get().listeners()[0].sourcePorts(), sockets.size());
            assertTrue(sockets.stream().skip(1).allMatch(a -> a.getPort() >= Dataplane.DYNAMIC_PORTS_FIRST));
            // Rounds drained before the next, so the receiving test socket never overflows: with the kernel's
            // default 208 KiB it holds some 56-67 of these datagrams (each costs its skb's truesize), fewer than a
            // batch of 64 that vnetd's sendmmsg delivers at once. Slots are reused across the rounds' batches.
            int round = SocketQueue.RX_BATCH / 2;
            dc.socket().setSoTimeout(5000);
            for (int sent = 0; sent < datagrams; sent += round) {
                int count = Math.min(round, datagrams - sent);
                for (int i = 0; i < count; i++) {
                    ByteBuf packet = new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64)
                            .udp(1000, 2000, new byte[100]).build(UnpooledByteBufAllocator.DEFAULT);
                    site.send(packet.nioBuffer(), vnetd);
                    packet.release();
                }
                for (int i = 0; i < count; i++) {
                    try {
                        dc.socket().receive(new java.net.DatagramPacket(new byte[2048], 2048));
                    } catch (SocketTimeoutException e) {
                        throw new AssertionError((sent + i) + " of " + datagrams + " forwarded on " + kind
                                + ", vnetd's drops " + drops(dataplane) + ", kernel " + udpErrors(), e);
                    }
                }
            }
            // the worker counts a batch once sendmmsg has returned, which can be after the sink has its datagrams
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            long tx = txToDc(dataplane);
            while (tx < datagrams && System.nanoTime() < deadline) {
                Thread.sleep(10);
                tx = txToDc(dataplane);
            }
            assertEquals(datagrams, tx, "each forwarded packet counted once");
        }
    }

    private static long txToDc(Dataplane dataplane) {
        return Arrays.stream(dataplane.counters()).mapToLong(c -> c.txPackets(TestNetwork.DC_PROD)).sum();
    }

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
    void shouldCountAVanishedPeerAgainstItsTunnelAndKeepForwarding(TransportKind kind) throws Exception {
        TestNetwork net = new TestNetwork();
        int port = 47542 + 2 * kind.ordinal();
        InetSocketAddress vnetd = new InetSocketAddress(net.tunnels[0].listener().address().getAddress(), port);
        ForwardingStateHolder holder = TestNetwork.withUdpPort(net, port);
        try (DatagramChannel site = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.2", 0));
             Dataplane dataplane = Dataplane.start(holder, 1, kind, 16, net.flows)) {
            // Nothing listens at the data centre's 127.0.0.3:4754: the kernel answers each datagram vnetd sends
            // there with an ICMP port unreachable, which IP_RECVERR queues on vnetd's socket.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (unreachable(dataplane) == 0 && System.nanoTime() < deadline) {
                send(site, vnetd);
                Thread.sleep(50);
            }
            assertTrue(unreachable(dataplane) > 0, "the peer's port unreachable counted against dc-prod");
            assertTrue(txToDc(dataplane) > 0, "the datagrams left: the kernel took them");
            try (DatagramChannel dc = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.3", 4754))) {
                dc.socket().setSoTimeout(5000);
                send(site, vnetd);
                dc.socket().receive(new java.net.DatagramPacket(new byte[2048], 2048));
            }
            assertEquals(List.of(), drops(dataplane), "nothing dropped: the socket's pending errors cost no packet");
        }
    }

    /** The kernel's UDP error counters (whole machine), to tell a test socket's overflow from a loss in vnetd. */
    private static String udpErrors() throws Exception {
        List<String> lines = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/snmp")).stream()
                .filter(l -> l.startsWith("Udp:")).toList();
        return lines.size() < 2 ? "?" : lines.get(0) + " / " + lines.get(1);
    }

    private static long unreachable(Dataplane dataplane) {
        return Arrays.stream(dataplane.counters()).mapToLong(c -> c.peerUnreachables(TestNetwork.DC_PROD)).sum();
    }

    private static void send(DatagramChannel site, InetSocketAddress vnetd) throws Exception {
        ByteBuf packet = new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64)
                .udp(1000, 2000, new byte[100]).build(UnpooledByteBufAllocator.DEFAULT);
        site.send(packet.nioBuffer(), vnetd);
        packet.release();
    }

    private static List<String> drops(Dataplane dataplane) {
        return Arrays.stream(DropReason.values())
                .map(r -> r.metricName() + "=" + Arrays.stream(dataplane.counters()).mapToLong(c -> c.drops(r)).sum())
                .filter(d -> !d.endsWith("=0")).toList();
    }

    private static int receiveFirstInt(DatagramChannel peer) throws Exception {
        ByteBuffer buf = ByteBuffer.allocate(256);
        peer.socket().setSoTimeout(2000);
        java.net.DatagramPacket datagram = new java.net.DatagramPacket(buf.array(), buf.capacity());
        peer.socket().receive(datagram);
        assertEquals(100, datagram.getLength());
        return buf.getInt(0);
    }
}
