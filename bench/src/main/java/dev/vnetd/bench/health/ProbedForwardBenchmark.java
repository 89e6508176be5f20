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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A forwarded packet on a path where every tunnel is health-checked: {@code udp} leaves the reply check at its
 * first comparison (not an echo reply), {@code echo_reply} (a site's ping answer to a host behind the data centre)
 * goes through the table lookup and address comparison before it is forwarded. Compare with
 * {@code pipeline.PacketPathBenchmark} (ipv4), the same path and packet without probes, in the same run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ProbedForwardBenchmark {
    /** The forwarded packet. */
    @Param({"udp", "echo_reply"})
    public String packet;

    private PacketPath path;
    private FlowTable flows;
    private ByteBuf receiveBuffer;
    private byte[] datagram;
    private InetSocketAddress sender;

    /** The probed path and the datagram. */
    @Setup(Level.Trial)
    public void setUp(Blackhole blackhole) throws Exception {
        flows = FlowTable.allocate(1 << 16, FlowTimeouts.DEFAULTS);
        path = ProbedPaths.path(blackhole, flows);
        sender = ProbedPaths.siteA();
        datagram = "udp".equals(packet) ? ProbedPaths.udp()
                : ProbedPaths.echoReply("192.168.10.5", "10.1.2.3", ProbedPaths.IDENTIFIER);
        receiveBuffer = PooledByteBufAllocator.DEFAULT.directBuffer(2048);
    }

    /** Releases the receive buffer and the flow table. */
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
        path.receive(0, buf, sender);
        path.flush();
    }
}
