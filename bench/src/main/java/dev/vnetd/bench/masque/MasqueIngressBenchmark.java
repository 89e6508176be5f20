package dev.vnetd.bench.masque;

import dev.vnetd.dataplane.masque.Cidr;
import dev.vnetd.dataplane.masque.HttpDatagram;
import dev.vnetd.dataplane.masque.SourceFilter;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.path.PacketPath;
import dev.vnetd.dataplane.path.TxPort;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.transport.WorkerClock;
import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A CONNECT-IP datagram (as quiche hands it over, decrypted) from a MASQUE client through a worker's path into a
 * GRE-in-UDP tunnel: the steps of {@code MasqueDatagramHandler} (HTTP/3 datagram header, context 0, the source
 * against the client's assigned prefix), then {@code PacketPath.receiveMasque}: inner checks, LPM, TTL, GRE header
 * and the worker's transmit port. {@code headroom} 0 is the datagram as the QUIC codec hands it over: a pooled buffer
 * per datagram with the packet 2 bytes in (the HTTP/3 datagram header), fewer than GRE-in-UDP's 4, so the packet is
 * copied into a second pooled buffer, which the port releases. {@code headroom} 16 reuses one buffer with room in
 * front: the GRE header goes in place, the cost without the copy and the two allocations. The pool's thread cache is
 * on for the benchmark thread, as it is for the workers' event loop threads. {@code size} is the inner packet's
 * length.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(jvmArgsAppend = "-Dio.netty.allocator.useCacheForAllThreads=true")
public class MasqueIngressBenchmark {
    /** Inner packet length in bytes. */
    @Param({"64", "1200"})
    public int size;

    /** Free bytes in front of the datagram: 0 as received from QUIC (copy), 16 (in place). */
    @Param({"0", "16"})
    public int headroom;

    private PacketPath path;
    private FlowTable flows;
    private WorkerCounters counters;
    private final HttpDatagram header = new HttpDatagram();
    private SourceFilter sources;
    private byte[] datagram;
    private ByteBuf reused;
    private Blackhole blackhole;

    /** The state of {@link MasqueFixture} and a datagram on stream 0 from the laptop to the data centre. */
    @Setup(Level.Trial)
    public void setUp(Blackhole bh) throws Exception {
        this.blackhole = bh;
        ForwardingState state = MasqueFixture.state();
        TxPort port = new TxPort() {
            @Override
            public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
                blackhole.consume(packet.readerIndex());
                if (packet != reused) {
                    packet.release();
                }
                return true;
            }

            @Override
            public void flush() {
            }
        };
        counters = new WorkerCounters(state.tunnels().length);
        flows = FlowTable.allocate(1 << 16, FlowTimeouts.DEFAULTS);
        path = new PacketPath(new ForwardingStateHolder(state), counters, new TxPort[] {port, null},
                PooledByteBufAllocator.DEFAULT, System::nanoTime, flows, new WorkerClock());
        sources = new SourceFilter(List.of(new Cidr(InetAddress.getByName("10.1.0.0"), 16)));
        ByteBuf packet = new PacketBuilder().ip("10.1.0.5", "10.200.0.7", 64).udp(40000, 443, new byte[size - 28])
                .build(UnpooledByteBufAllocator.DEFAULT);
        datagram = new byte[2 + size];
        packet.getBytes(0, datagram, 2, size);
        packet.release();
        reused = PooledByteBufAllocator.DEFAULT.directBuffer(9216);
        forward();
        if (counters.txPackets(MasqueFixture.DC) != 1) {
            throw new IllegalStateException("the packet was not forwarded into GRE");
        }
    }

    /** Releases the reused buffer, closes the flow table. */
    @TearDown(Level.Trial)
    public void tearDown() {
        reused.release();
        flows.close();
    }

    /** One datagram in, one GRE packet out (the port keeps no reference: the reused buffer stays ours). */
    @Benchmark
    public void forward() {
        ByteBuf buf;
        if (headroom == 0) {
            buf = PooledByteBufAllocator.DEFAULT.directBuffer(datagram.length);
            buf.writeBytes(datagram);
        } else {
            buf = reused;
            buf.setBytes(headroom, datagram);
            buf.setIndex(headroom, headroom + datagram.length);
        }
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        if (header.wrap(buf, start, end) != HttpDatagram.OK || header.contextId() != HttpDatagram.CONTEXT_IP_PACKET
                || !sources.allows(buf, header.payloadOffset(), end - header.payloadOffset())) {
            throw new IllegalStateException("datagram refused");
        }
        path.receiveMasque(MasqueFixture.LAPTOP, buf, header.payloadOffset(), end, end - start);
        path.flush();
    }
}
