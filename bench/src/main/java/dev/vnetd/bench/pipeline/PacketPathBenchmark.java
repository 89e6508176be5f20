package dev.vnetd.bench.pipeline;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.path.PacketPath;
import dev.vnetd.dataplane.path.TxPort;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.transport.WorkerClock;
import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One GRE-in-UDP packet through a worker's whole path — decap, tunnel lookup, inner checks, LPM in the virtual
 * network, next hop, TTL, re-encapsulation in place — on the default configuration, with a transmit port that only
 * consumes the result. Each operation first writes the received datagram into the worker's reused receive buffer,
 * as the socket would. {@code -prof gc} shows what the path allocates per packet.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PacketPathBenchmark {
    /** Inner packet family. */
    @Param({"ipv4", "ipv6"})
    public String family;

    /**
     * How the path decides the next hop: {@code arr}, from site-a (key 100, production, {@code arr: true}), whose
     * flow is in the flow table after the first packet (flow lookup, pinned next hop); {@code lpm}, from site-b (key
     * 200, staging, no ARR), where every packet is a longest-prefix match and a next-hop selection.
     */
    @Param({"arr", "lpm"})
    public String decision;

    private PacketPath path;
    private FlowTable flows;
    private ByteBuf receiveBuffer;
    private byte[] datagram;
    /** Site A's address as the socket reader hands it over: (0, IPv4) or the IPv6 halves. */
    private long senderHigh;
    private long senderLow;
    private Blackhole blackhole;

    /**
     * A worker's path on the default configuration and one datagram from site-a (key 100) to production's data
     * centre, or from site-b (key 200) to staging's.
     */
    @Setup(Level.Trial)
    public void setUp(Blackhole bh) throws Exception {
        this.blackhole = bh;
        ForwardingState state = ForwardingStateBuilder.build(ConfigLoader.loadEmbedded());
        TxPort port = new TxPort() {
            @Override
            public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
                blackhole.consume(packet.readerIndex());
                return true;
            }

            @Override
            public boolean spreadsFlows() {
                return true; // as the default GRE-in-UDP listener's 8 source ports: every packet's flow hash is read
            }

            @Override
            public void flush() {
            }
        };
        flows = FlowTable.allocate(1 << 16, FlowTimeouts.DEFAULTS);
        path = new PacketPath(new ForwardingStateHolder(state), new WorkerCounters(state.tunnels().length),
                new TxPort[] {port}, PooledByteBufAllocator.DEFAULT, System::nanoTime, flows,
                new WorkerClock());
        boolean lpm = "lpm".equals(decision);
        InetAddress sender = state.tunnel(lpm ? "site-b" : "site-a").remote().getAddress();
        senderHigh = sender instanceof Inet4Address ? 0L : Tunnel.ipv6High(sender);
        senderLow = sender instanceof Inet4Address ? Tunnel.ipv4ToInt(sender) & 0xFFFF_FFFFL : Tunnel.ipv6Low(sender);
        ByteBuf packet = "ipv4".equals(family)
                ? new PacketBuilder().gre(lpm ? 200 : 100).ip("192.168.10.5", "10.1.2.3", 64)
                        .udp(40000, 443, new byte[64])
                        .build(UnpooledByteBufAllocator.DEFAULT)
                : new PacketBuilder().gre(lpm ? 200 : 100).ip("fd00:a::5", "fd00:10::5", 64)
                        .udp(40000, 443, new byte[64])
                        .build(UnpooledByteBufAllocator.DEFAULT);
        datagram = new byte[packet.readableBytes()];
        packet.getBytes(0, datagram);
        packet.release();
        receiveBuffer = PooledByteBufAllocator.DEFAULT.directBuffer(2048);
        ageAsInADaemon();
    }

    /** Releases the receive buffer. */
    @TearDown(Level.Trial)
    public void tearDown() {
        receiveBuffer.release();
        flows.close();
    }

    /** One packet in, one packet out. */
    @Benchmark
    public void forward() {
        ByteBuf buf = receiveBuffer;
        buf.setBytes(0, datagram);
        buf.setIndex(0, datagram.length);
        path.receive(0, buf, senderHigh, senderLow);
        path.flush();
    }

    /**
     * Ends a set-up: a daemon's path objects are old after its first minutes, a fork's would stay young for the whole
     * run (nothing is collected after set-up), and a young object's reference stores skip part of some collectors'
     * write barriers (G1's fence). One collection, so the measurement sees the barriers a running daemon pays.
     */
    static void ageAsInADaemon() {
        System.gc();
    }
}
