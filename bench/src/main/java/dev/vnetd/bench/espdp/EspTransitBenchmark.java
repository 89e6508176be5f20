package dev.vnetd.bench.espdp;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.crypto.esp.EspContext;
import dev.vnetd.crypto.esp.EspLifetime;
import dev.vnetd.crypto.esp.EspResult;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.crypto.esp.KeyMaterial;
import dev.vnetd.crypto.esp.OutboundSa;
import dev.vnetd.crypto.esp.RekeyListener;
import dev.vnetd.dataplane.packet.PacketBuilder;
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

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * One ESP-in-UDP packet through a worker's whole path: SPI lookup, remote check, decrypt in place, inner checks,
 * LPM, TTL, re-encrypt in place into another ESP tunnel of the same transform, on a configuration loaded from YAML
 * with key files. Each operation writes the received datagram into the worker's reused pooled direct receive buffer,
 * as the socket would. The ingress SA has {@code replay_window: 0} so that the same datagram can be replayed every
 * operation; the window check it skips is a few loads. {@code size} is the inner packet's length.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class EspTransitBenchmark {
    /** Transform of both tunnels. */
    @Param({"aes-gcm-128", "aes-gcm-256", "chacha20-poly1305", "aes-cbc-hmac-sha256"})
    public String transform;

    /** Inner packet length in bytes. */
    @Param({"64", "512", "1400"})
    public int size;

    private PacketPath path;
    private FlowTable flows;
    private WorkerCounters counters;
    private ByteBuf receiveBuffer;
    private byte[] datagram;
    private InetSocketAddress sender;
    private Blackhole blackhole;

    /** Two ESP tunnels, site-a (10.1.0.0/16, the sender) and site-b (10.2.0.0/16), and one packet from a to b. */
    @Setup(Level.Trial)
    public void setUp(Blackhole bh) throws Exception {
        this.blackhole = bh;
        EspTransform t = EspTransform.fromConfigName(transform);
        int materialLength = t.minimumMaterialLength();
        byte[] peerKey = new byte[materialLength];
        for (int i = 0; i < peerKey.length; i++) {
            peerKey[i] = (byte) (i * 7 + 1);
        }
        Path dir = Files.createTempDirectory("vnetd-espdp");
        for (String name : new String[] {"a.in", "a.out", "b.in", "b.out"}) {
            Path file = dir.resolve(name);
            Files.writeString(file, HexFormat.of().formatHex(peerKey));
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        String yaml = """
                listeners:
                  - {name: esp-udp, type: esp-udp, listen: 127.0.0.1}
                virtual_networks:
                  - {name: corp}
                tunnels:
                  - {name: site-a, type: esp-udp, listener: esp-udp, remote: 127.0.0.2, virtual_network: corp,
                     sa: {transform: %1$s, inbound: {spi: 0x1001, key_file: a.in},
                          outbound: {spi: 0x2001, key_file: a.out}, replay_window: 0}}
                  - {name: site-b, type: esp-udp, listener: esp-udp, remote: 127.0.0.3, virtual_network: corp,
                     sa: {transform: %1$s, inbound: {spi: 0x1002, key_file: b.in},
                          outbound: {spi: 0x2002, key_file: b.out}}}
                routes:
                  - {prefix: 10.1.0.0/16, virtual_network: corp, via: site-a}
                  - {prefix: 10.2.0.0/16, virtual_network: corp, via: site-b}
                """.formatted(transform);
        ForwardingState state = ForwardingStateBuilder.build(ConfigLoader.parse("espdp.yaml", yaml, dir));
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
        counters = new WorkerCounters(state.tunnels().length);
        flows = FlowTable.allocate(1 << 16, FlowTimeouts.DEFAULTS);
        path = new PacketPath(new ForwardingStateHolder(state), counters, new TxPort[] {port},
                PooledByteBufAllocator.DEFAULT, System::nanoTime, flows, new WorkerClock());
        sender = state.tunnel("site-a").remote();
        datagram = encryptFromSiteA(t, peerKey);
        receiveBuffer = PooledByteBufAllocator.DEFAULT.directBuffer(9216);
        forward();
        if (counters.txPackets(1) != 1) {
            throw new IllegalStateException("the packet was not forwarded: " + drops());
        }
    }

    private byte[] encryptFromSiteA(EspTransform t, byte[] key) {
        int udpPayload = size - 28;
        ByteBuf inner = new PacketBuilder().ip("10.1.0.5", "10.2.0.5", 64).udp(40000, 443, new byte[udpPayload])
                .build(UnpooledByteBufAllocator.DEFAULT);
        OutboundSa peer = new OutboundSa(0x1001, KeyMaterial.of(t, key), true, EspLifetime.UNLIMITED,
                RekeyListener.NONE);
        ByteBuffer buffer = ByteBuffer.allocate(size + 128);
        inner.getBytes(0, buffer.array(), peer.headroom(), size);
        inner.release();
        EspContext context = new EspContext();
        if (peer.encrypt(context, buffer, peer.headroom(), size, 4) != EspResult.OK) {
            throw new IllegalStateException("peer encryption failed");
        }
        byte[] out = new byte[context.length()];
        buffer.get(context.offset(), out);
        return out;
    }

    private String drops() {
        StringBuilder s = new StringBuilder();
        for (DropReason reason : DropReason.values()) {
            if (counters.drops(reason) > 0) {
                s.append(reason.metricName()).append('=').append(counters.drops(reason)).append(' ');
            }
        }
        return s.toString();
    }

    /** Releases the receive buffer. */
    @TearDown(Level.Trial)
    public void tearDown() {
        receiveBuffer.release();
        flows.close();
    }

    /** One ESP packet in, one ESP packet out (the transmit port keeps no reference, so the buffer is reused). */
    @Benchmark
    public void forward() {
        ByteBuf buf = receiveBuffer;
        buf.setBytes(0, datagram);
        buf.setIndex(0, datagram.length);
        path.receive(0, buf, sender);
        path.flush();
    }
}
