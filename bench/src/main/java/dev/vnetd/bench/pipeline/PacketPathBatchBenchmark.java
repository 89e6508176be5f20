package dev.vnetd.bench.pipeline;

import dev.vnetd.dataplane.path.DropReason;
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
import org.agrona.UnsafeApi;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A socket read batch through a worker's path: {@value #BATCH} GRE-in-UDP datagrams of {@link BatchTraffic}'s
 * {@link #flows} flows (half ARR flow-table hits, half LPM lookups in a FIB of
 * {@value BatchTraffic#ROUTES_PER_VN} routes), written into {@value #BATCH} reused receive buffers with the socket
 * reader's headroom and staged with their addresses, run through the path as a batch (or one by one,
 * {@link #entry}), then one flush, as {@code SocketQueue.readBatch} does. The transmit port spreads flows (it asks
 * for every packet's flow hash, as the default listener's source ports do) and holds what it is given until the
 * flush and then releases it, as {@code sendmmsg} does. Scores are
 * packets per second ({@code @OperationsPerInvocation}); {@link PacketPathBenchmark} is the one-packet, all-hot
 * case.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PacketPathBatchBenchmark {
    /** Datagrams per read batch: the socket reader's {@code recvmmsg} batch. */
    static final int BATCH = 64;
    /** Bytes before each datagram in a receive buffer, as the socket reader leaves. */
    private static final int HEADROOM = 64;
    /** Bytes of each receive buffer. */
    private static final int RECEIVE_BUFFER = 2048;
    private static final long BYTE_ARRAY_BASE = UnsafeApi.arrayBaseOffset(byte[].class);

    /** Inner packet family. */
    @Param({"ipv4", "ipv6"})
    public String family;

    /**
     * How the batch enters the path: {@code receiveBatch} stages it ({@link PacketPath#stage}, then
     * {@link PacketPath#receiveBatch}) as the socket reader does; {@code receive} hands over one datagram at a time.
     */
    @Param({"receiveBatch", "receive"})
    public String entry;

    /**
     * The mix: {@code forward} is half ARR packets of site-a's own flows, half LPM packets of site-b;
     * {@code replies} makes half of the ARR packets dc-prod's replies to site-a's flows ({@link BatchTraffic}).
     */
    @Param({"forward", "replies"})
    public String traffic;

    /**
     * Distinct flows the datagrams belong to, sent round-robin: 4096 (the flows' lines stay in the caches; a flow
     * table of 65 536) or more, with a table of at least 16 per flow (131 072 flows: 1 048 576, the daemon's default
     * {@code flow_table} capacity, and flow lines far beyond the caches, as on a busy edge).
     */
    @Param({"4096"})
    public int flows;

    private PacketPath path;
    private FlowTable table;
    private final ByteBuf[] receiveBuffers = new ByteBuf[BATCH];
    /** Each receive buffer's native address, which the socket reader hands the path with each datagram. */
    private final long[] addresses = new long[BATCH];
    private byte[][] datagrams;
    private int next;
    private long[] senders;
    private int siteA;
    private boolean batched;

    /** A worker's path on {@link BatchTraffic}'s state, with a port that releases what it sent at each flush. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        batched = "receiveBatch".equals(entry);
        BatchTraffic mix = BatchTraffic.build("ipv6".equals(family), "replies".equals(traffic), flows);
        ForwardingState state = mix.state();
        datagrams = mix.datagrams();
        senders = mix.senders();
        siteA = state.tunnel("site-a").id();
        ByteBuf[] sent = new ByteBuf[BATCH * 2];
        TxPort port = new TxPort() {
            private int count;

            @Override
            public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
                sent[count++] = packet;
                return true;
            }

            @Override
            public boolean spreadsFlows() {
                return true; // as the default GRE-in-UDP listener's 8 source ports: every packet's flow hash is read
            }

            @Override
            public void flush() {
                for (int i = 0; i < count; i++) {
                    sent[i].release();
                    sent[i] = null;
                }
                count = 0;
            }
        };
        table = FlowTable.allocate(Math.max(1 << 16, Integer.highestOneBit(flows - 1) << 4), FlowTimeouts.DEFAULTS);
        path = new PacketPath(new ForwardingStateHolder(state), new WorkerCounters(state.tunnels().length),
                new TxPort[] {port}, PooledByteBufAllocator.DEFAULT, System::nanoTime, table, new WorkerClock());
        for (int i = 0; i < BATCH; i++) {
            receiveBuffers[i] = PooledByteBufAllocator.DEFAULT.directBuffer(RECEIVE_BUFFER);
            addresses[i] = receiveBuffers[i].memoryAddress();
        }
        for (byte[] datagram : datagrams) {
            if (HEADROOM + datagram.length > RECEIVE_BUFFER) {
                // the refill copies to the address unchecked: a datagram must fit its buffer
                throw new IllegalStateException("a datagram of " + datagram.length + " bytes does not fit");
            }
        }
        PacketPathBenchmark.ageAsInADaemon();
    }

    /**
     * Releases the receive buffers and the flow table; fails the run if the path dropped anything, or with
     * {@code replies} sent no reply back through ARR, since it would then have measured something else.
     */
    @TearDown(Level.Trial)
    public void tearDown() {
        WorkerCounters counters = path.counters();
        for (DropReason reason : DropReason.values()) {
            if (counters.drops(reason) != 0) {
                throw new IllegalStateException("the path dropped " + counters.drops(reason) + " packets: " + reason);
            }
        }
        if ("replies".equals(traffic) && counters.arrReturns(siteA) == 0) {
            throw new IllegalStateException(
                    "no reply went back to site-a through ARR: not the mix this benchmark measures");
        }
        for (ByteBuf buf : receiveBuffers) {
            buf.release();
        }
        table.close();
    }

    /** One read batch in, its packets out, one flush. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void forwardBatch() {
        boolean staged = batched;
        int flow = next;
        for (int i = 0; i < BATCH; i++) {
            byte[] datagram = datagrams[flow];
            long sender = senders[flow];
            flow = flow + 1 == datagrams.length ? 0 : flow + 1;
            ByteBuf buf = receiveBuffers[i];
            UnsafeApi.copyMemory(datagram, BYTE_ARRAY_BASE, null, addresses[i] + HEADROOM, datagram.length);
            buf.retain().setIndex(HEADROOM, HEADROOM + datagram.length);
            if (staged) {
                path.stage(0, buf, addresses[i], 0L, sender);
            } else {
                path.receive(0, buf, 0L, sender);
            }
        }
        next = flow;
        if (staged) {
            path.receiveBatch();
        }
        path.flush();
    }
}
