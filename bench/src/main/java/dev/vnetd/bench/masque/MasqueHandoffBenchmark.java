package dev.vnetd.bench.masque;

import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.MasqueEgress;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.transport.masque.MasqueSession;
import dev.vnetd.dataplane.transport.masque.MasqueSessions;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.util.ReferenceCountUtil;
import org.openjdk.jmh.annotations.AuxCounters;
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

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one hand-off of the design: a worker (the benchmark thread) sends packets into a MASQUE tunnel whose
 * connection another event loop owns. Per packet: a pooled receive buffer, the datagram header framed in place, the
 * offer to the session's bounded MPSC queue (a drain task scheduled once per burst); on the owner: poll, write on
 * the connection's channel (a local channel standing in for the QUIC connection; a handler at its end releases what
 * is written, where quiche would encrypt and send), flush once per drain. The benchmark thread flushes its egress
 * every {@code batch} packets, as a worker does per read batch. Reported: packets offered per second, and among them {@code delivered} and {@code dropped} (queue full)
 * as auxiliary rates, so the hand-off's capacity is the delivered rate. The pool's thread cache is on for the
 * benchmark thread, as for the workers' event loop threads.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(jvmArgsAppend = "-Dio.netty.allocator.useCacheForAllThreads=true")
public class MasqueHandoffBenchmark {
    /** Inner packet length in bytes. */
    @Param({"1200"})
    public int size;

    /** Packets between flushes of the sending worker's egress (a read batch). */
    @Param({"32"})
    public int batch;

    private MultiThreadIoEventLoopGroup owner;
    private Channel server;
    private Channel connection;
    private MasqueEgress egress;
    private Tunnel tunnel;
    private WorkerCounters counters;
    private final AtomicLong received = new AtomicLong();
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private int inBatch;
    private long lastReceived;

    /** What happened to the offered packets. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Outcome {
        /** Packets the queue refused. */
        public long dropped;
        /** Packets the owner's channel got. */
        public long delivered;

        /** Counts from zero every iteration. */
        @Setup(Level.Iteration)
        public void reset() {
            dropped = 0;
            delivered = 0;
        }
    }

    /** An owner loop with a connected local channel pair, and a session of the laptop's tunnel on it. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        ForwardingState state = MasqueFixture.state();
        tunnel = state.tunnels()[MasqueFixture.LAPTOP];
        counters = new WorkerCounters(state.tunnels().length);
        owner = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        LocalAddress address = new LocalAddress("masque-handoff-" + System.nanoTime());
        server = new ServerBootstrap().group(owner).channel(LocalServerChannel.class)
                .childHandler(new ChannelInboundHandlerAdapter()).bind(address).sync().channel();
        connection = new Bootstrap().group(owner).channel(LocalChannel.class)
                .handler(new ChannelOutboundHandlerAdapter() {
                    @Override
                    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                        received.incrementAndGet();
                        ReferenceCountUtil.release(msg);
                    }
                }).connect(address).sync().channel();
        MasqueSessions sessions = new MasqueSessions(state.tunnels().length);
        sessions.register(new MasqueSession(tunnel.id(), tunnel.name(), connection, 0, null,
                MasqueSessions.HANDOFF_CAPACITY));
        egress = sessions.egress();
    }

    /** Closes the channels and the owner loop. */
    @TearDown(Level.Trial)
    public void tearDown() {
        connection.close().syncUninterruptibly();
        server.close().syncUninterruptibly();
        owner.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One packet handed to the owner (or dropped when its queue is full). */
    @Benchmark
    public void handOff(Outcome outcome) {
        long droppedBefore = counters.drops(DropReason.MASQUE_HANDOFF_FULL);
        ByteBuf buf = alloc.directBuffer(size + 16);
        buf.writerIndex(16 + size);
        egress.send(tunnel, buf, 16, size, counters);
        if (++inBatch == batch) {
            inBatch = 0;
            egress.flush();
        }
        outcome.dropped += counters.drops(DropReason.MASQUE_HANDOFF_FULL) - droppedBefore;
        long now = received.get();
        outcome.delivered += now - lastReceived;
        lastReceived = now;
    }
}
