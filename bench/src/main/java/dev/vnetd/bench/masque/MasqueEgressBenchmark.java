package dev.vnetd.bench.masque;

import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.path.PacketPath;
import dev.vnetd.dataplane.path.TxPort;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.transport.WorkerClock;
import dev.vnetd.dataplane.transport.masque.MasqueSession;
import dev.vnetd.dataplane.transport.masque.MasqueSessions;
import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
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

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A GRE-in-UDP packet from the data centre through a worker's whole path into a MASQUE tunnel owned by the same
 * worker: GRE decap, tunnel lookup, inner checks, LPM, TTL, the HTTP/3 datagram header written in front of the
 * packet in place, and the write and flush on the session's channel (an {@code EmbeddedChannel} standing in for the
 * QUIC connection, whose encryption and socket send are quiche's and not measured here). The receive buffer is
 * reused, as the socket's would be. {@code size} is the inner packet's length.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MasqueEgressBenchmark {
    /** Inner packet length in bytes. */
    @Param({"64", "1200"})
    public int size;

    private PacketPath path;
    private FlowTable flows;
    private WorkerCounters counters;
    private EmbeddedChannel connection;
    private ByteBuf receiveBuffer;
    private byte[] datagram;
    private InetSocketAddress sender;

    /** The state of {@link MasqueFixture}, a session for the laptop, and a GRE packet from dc to the laptop. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        ForwardingState state = MasqueFixture.state();
        TxPort unused = new TxPort() {
            @Override
            public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
                packet.release();
                return true;
            }

            @Override
            public void flush() {
            }
        };
        counters = new WorkerCounters(state.tunnels().length);
        flows = FlowTable.allocate(1 << 16, FlowTimeouts.DEFAULTS);
        path = new PacketPath(new ForwardingStateHolder(state), counters, new TxPort[] {unused, null},
                PooledByteBufAllocator.DEFAULT, System::nanoTime, flows, new WorkerClock());
        MasqueSessions sessions = new MasqueSessions(state.tunnels().length);
        path.masqueEgress(sessions.egress());
        connection = new EmbeddedChannel();
        sessions.register(new MasqueSession(MasqueFixture.LAPTOP, "laptop", connection, 0, null,
                MasqueSessions.HANDOFF_CAPACITY));
        ByteBuf packet = new PacketBuilder().gre(-1).ip("10.200.0.7", "10.1.0.5", 64)
                .udp(443, 40000, new byte[size - 28]).build(UnpooledByteBufAllocator.DEFAULT);
        datagram = ByteBufUtil.getBytes(packet);
        packet.release();
        sender = state.tunnel("dc").remote();
        receiveBuffer = PooledByteBufAllocator.DEFAULT.directBuffer(9216);
        forward();
        if (counters.txPackets(MasqueFixture.LAPTOP) != 1) {
            throw new IllegalStateException("the packet was not sent into the MASQUE tunnel");
        }
    }

    /** Releases the buffers. */
    @TearDown(Level.Trial)
    public void tearDown() {
        connection.finishAndReleaseAll();
        receiveBuffer.release();
        flows.close();
    }

    /** One GRE packet in, one HTTP/3 datagram out (the channel keeps no reference, so the buffer is reused). */
    @Benchmark
    public void forward() {
        ByteBuf buf = receiveBuffer;
        buf.setBytes(0, datagram);
        buf.setIndex(0, datagram.length);
        path.receive(0, buf, sender);
        path.flush();
        connection.outboundMessages().clear();
    }
}
