package dev.vnetd.bench.health;

import dev.vnetd.dataplane.path.PacketPath;
import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A health probe's reply through the path: decapsulated, validated, recognised (ICMP checksum included), recorded
 * in the shared reply table and released — never forwarded.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ProbeReplyBenchmark {
    private PacketPath path;
    private FlowTable flows;
    private ByteBuf receiveBuffer;
    private byte[] datagram;
    private InetSocketAddress sender;

    /** The probed path and a reply probe coming back to site-a's interface address. */
    @Setup(Level.Trial)
    public void setUp(Blackhole blackhole) throws Exception {
        flows = FlowTable.allocate(1 << 16, FlowTimeouts.DEFAULTS);
        path = ProbedPaths.path(blackhole, flows);
        sender = ProbedPaths.siteA();
        datagram = ProbedPaths.echoReply("169.254.77.1", ProbedPaths.LOCAL, ProbedPaths.IDENTIFIER);
        receiveBuffer = PooledByteBufAllocator.DEFAULT.directBuffer(2048);
    }

    /** Releases the receive buffer and the flow table. */
    @TearDown(Level.Trial)
    public void tearDown() {
        receiveBuffer.release();
        flows.close();
    }

    /** One reply in, consumed; the path releases the buffer, so it is retained first to be reused. */
    @Benchmark
    public void consume() {
        ByteBuf buf = receiveBuffer.retain();
        buf.setBytes(0, datagram);
        buf.setIndex(0, datagram.length);
        path.receive(0, buf, sender);
        path.flush();
    }
}
