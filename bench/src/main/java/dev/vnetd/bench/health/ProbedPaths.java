package dev.vnetd.bench.health;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.path.HealthProbes;
import dev.vnetd.dataplane.path.PacketPath;
import dev.vnetd.dataplane.path.TxPort;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.transport.WorkerClock;
import dev.vnetd.flowtable.FlowTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.openjdk.jmh.infra.Blackhole;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * What the health benchmarks share: a worker's path on the default configuration with every tunnel probed (replies
 * to 169.254.77.0 are watched), and the GRE-in-UDP datagrams site-a sends.
 */
final class ProbedPaths {
    /** The interface address every tunnel's probes come from in these benchmarks. */
    static final String LOCAL = "169.254.77.0";
    /** ICMP identifier of the benchmark's probes. */
    static final int IDENTIFIER = 0x4A7E;

    private ProbedPaths() {
    }

    /** A path whose transmit port only hands the sent packet to {@code blackhole}. */
    static PacketPath path(Blackhole blackhole, FlowTable flows) throws Exception {
        ForwardingState state = ForwardingStateBuilder.build(ConfigLoader.loadEmbedded());
        TxPort port = new TxPort() {
            @Override
            public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
                blackhole.consume(packet.readerIndex());
                return true;
            }

            @Override
            public void flush() {
            }
        };
        HealthProbes probes = new HealthProbes(state.tunnels().length, IDENTIFIER);
        for (Tunnel t : state.tunnels()) {
            probes.watch(t.id(), Tunnel.ipv4ToInt(InetAddress.ofLiteral(LOCAL)));
        }
        return new PacketPath(new ForwardingStateHolder(state), new WorkerCounters(state.tunnels().length),
                new TxPort[] {port}, PooledByteBufAllocator.DEFAULT, System::nanoTime, flows,
                new WorkerClock(), probes);
    }

    /** site-a's remote address. */
    static InetSocketAddress siteA() throws Exception {
        return ForwardingStateBuilder.build(ConfigLoader.loadEmbedded()).tunnel("site-a").remote();
    }

    /** A GRE (key 100) datagram holding an ICMP echo reply from {@code source} to {@code destination}. */
    static byte[] echoReply(String source, String destination, int identifier) {
        ByteBuf packet = new PacketBuilder().gre(100).ip(source, destination, 64)
                .icmpEcho(identifier, 1, "vnetd health probe".getBytes()).build(UnpooledByteBufAllocator.DEFAULT);
        int icmp = 8 + 20;
        packet.setByte(icmp, 0);
        packet.setShort(icmp + 2, 0);
        packet.setShort(icmp + 2, InternetChecksum.compute(packet, icmp, packet.readableBytes() - icmp));
        byte[] bytes = new byte[packet.readableBytes()];
        packet.getBytes(0, bytes);
        packet.release();
        return bytes;
    }

    /** A GRE (key 100) datagram holding a UDP packet from site-a's network to production's data centre. */
    static byte[] udp() {
        ByteBuf packet = new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64).udp(40000, 443, new byte[64])
                .build(UnpooledByteBufAllocator.DEFAULT);
        byte[] bytes = new byte[packet.readableBytes()];
        packet.getBytes(0, bytes);
        packet.release();
        return bytes;
    }
}
