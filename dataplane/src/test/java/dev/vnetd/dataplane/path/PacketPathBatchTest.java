package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.flowtable.FlowTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link PacketPath#receiveBatch} against the reference it must equal: the same datagrams through
 * {@link PacketPath#receive(int, ByteBuf, long, long)} one by one, on a second network with the same configuration
 * and clocks. Random batches of valid and malformed datagrams from a small set of addresses and ports (so that a
 * batch opens flows that later datagrams of the same batch hit, answers them through ARR, translates colliding
 * ports, runs into TTL, MTU and unknown-tunnel drops, and mixes in datagrams of the plain GRE listener) must give
 * the same packets on every port in the same order, the same counters and the same flow table.
 */
class PacketPathBatchTest {
    private static final int[] SENDERS = {TestNetwork.SITE_A, TestNetwork.SITE_A, TestNetwork.SITE_B,
        TestNetwork.DC_PROD, TestNetwork.V6_SITE, TestNetwork.RAW_SITE};
    private static final String[] V4_HOSTS = {"192.168.10.5", "192.168.10.6", "10.1.2.3", "10.9.9.9",
        "198.51.100.1"};
    private static final String[] V6_HOSTS = {"fd00:a::5", "fd00:10::5", "fd00:10::6", "2001:db8::1"};
    private static final int[] PORTS = {1000, 1001, 53};
    private static final long[] KEYS = {100, 200, -1, 100, 7};
    private static final int[] TTLS = {64, 64, 64, 64, 2, 1};

    @Property(tries = 60)
    void shouldSendDropCountAndRecordFlowsAsDatagramsOneByOneDo(@ForAll long seed,
                                                                @ForAll @IntRange(min = 1, max = 64) int batchSize,
                                                                @ForAll @IntRange(min = 1, max = 4) int batches) {
        SplittableRandom random = new SplittableRandom(seed);
        TestNetwork oneByOne = new TestNetwork();
        TestNetwork batched = new TestNetwork();
        for (int b = 0; b < batches; b++) {
            for (int i = 0; i < batchSize; i++) {
                Tunnel from = oneByOne.tunnels[SENDERS[random.nextInt(SENDERS.length)]];
                ByteBuf datagram = datagram(random);
                long high = senderHigh(from);
                long low = senderLow(from);
                oneByOne.path.receive(from.listener().id(), datagram.copy(), high, low);
                if (random.nextBoolean()) {
                    // as a socket reader stages its slots' direct buffers: with the address it gave the kernel
                    ByteBuf direct = Unpooled.directBuffer(datagram.readableBytes()).writeBytes(datagram);
                    datagram.release();
                    batched.path.stage(from.listener().id(), direct, direct.memoryAddress(), high, low);
                } else {
                    batched.path.stage(from.listener().id(), datagram, 0L, high, low);
                }
            }
            oneByOne.path.flush();
            batched.path.receiveBatch();
            batched.path.flush();
            oneByOne.millis += 1000;
            batched.millis += 1000;
        }
        try {
            for (int p = 0; p < oneByOne.ports.length; p++) {
                assertEquals(sent(oneByOne.ports[p]), sent(batched.ports[p]), "packets sent on port " + p);
            }
            assertEquals(counters(oneByOne), counters(batched), "counters");
            assertEquals(flows(oneByOne.flows), flows(batched.flows), "flow table");
        } finally {
            for (int p = 0; p < oneByOne.ports.length; p++) {
                oneByOne.ports[p].releaseAll();
                batched.ports[p].releaseAll();
            }
            oneByOne.flows.close();
            batched.flows.close();
        }
    }

    @Test
    void shouldProcessNothingWhenNothingIsStaged() {
        TestNetwork net = new TestNetwork();
        net.path.receiveBatch();
        net.path.flush();
        assertEquals(0, net.ports[0].total);
        net.flows.close();
    }

    @Test
    void shouldRunTheStagedBatchWhenItIsFull() {
        TestNetwork net = new TestNetwork();
        Tunnel siteA = net.tunnels[TestNetwork.SITE_A];
        for (int i = 0; i <= PacketPath.MAX_BATCH; i++) {
            net.path.stage(0, new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64)
                    .udp(1000 + i, 53, new byte[8]).build(UnpooledByteBufAllocator.DEFAULT), 0L, senderHigh(siteA),
                    senderLow(siteA));
        }
        assertEquals(PacketPath.MAX_BATCH, net.counters.rxPackets(TestNetwork.SITE_A), "the first 64 ran");
        net.path.receiveBatch();
        assertEquals(PacketPath.MAX_BATCH + 1, net.counters.txPackets(TestNetwork.DC_PROD));
        net.ports[0].releaseAll();
        net.flows.close();
    }

    private static ByteBuf datagram(SplittableRandom random) {
        boolean v6 = random.nextInt(4) == 0;
        String[] hosts = v6 ? V6_HOSTS : V4_HOSTS;
        PacketBuilder builder = new PacketBuilder().gre(KEYS[random.nextInt(KEYS.length)])
                .ip(hosts[random.nextInt(hosts.length)], hosts[random.nextInt(hosts.length)],
                        TTLS[random.nextInt(TTLS.length)])
                .dontFragment(random.nextBoolean());
        byte[] payload = new byte[random.nextInt(8) == 0 ? 1400 : 16];
        if (random.nextInt(5) == 0) {
            builder.icmpEcho(PORTS[random.nextInt(PORTS.length)], 1, payload);
        } else {
            builder.udp(PORTS[random.nextInt(PORTS.length)], PORTS[random.nextInt(PORTS.length)], payload);
        }
        ByteBuf datagram = builder.build(UnpooledByteBufAllocator.DEFAULT);
        if (random.nextInt(6) == 0 && datagram.readableBytes() > 0) {
            int at = random.nextInt(Math.min(48, datagram.readableBytes()));
            datagram.setByte(at, datagram.getByte(at) ^ (1 << random.nextInt(8)));
        }
        if (random.nextInt(20) == 0) {
            datagram.writerIndex(random.nextInt(datagram.readableBytes() + 1));
        }
        return datagram;
    }

    private static long senderHigh(Tunnel from) {
        InetAddress address = from.remote().getAddress();
        return address instanceof Inet4Address ? 0L : Tunnel.ipv6High(address);
    }

    private static long senderLow(Tunnel from) {
        InetAddress address = from.remote().getAddress();
        return address instanceof Inet4Address ? Tunnel.ipv4ToInt(address) & 0xFFFF_FFFFL : Tunnel.ipv6Low(address);
    }

    private static List<String> sent(TestNetwork.CapturingTxPort port) {
        List<String> sent = new ArrayList<>();
        for (TestNetwork.CapturingTxPort.Sent s : port.sent) {
            sent.add(s.remote() + " " + ByteBufUtil.hexDump(s.packet()));
        }
        return sent;
    }

    private static List<Long> counters(TestNetwork net) {
        WorkerCounters c = net.counters;
        List<Long> all = new ArrayList<>();
        for (DropReason reason : DropReason.values()) {
            all.add(c.drops(reason));
        }
        for (int t = 0; t < c.tunnels(); t++) {
            all.addAll(List.of(c.rxPackets(t), c.rxBytes(t), c.txPackets(t), c.txBytes(t), c.arrReturns(t),
                    c.flowQuotaRefusals(t), c.peerUnreachables(t)));
        }
        all.addAll(List.of(c.portTranslations(), c.flowCollisions(), c.flowFailovers(), c.icmpErrorsSent(),
                c.icmpErrorsRateLimited(), c.mssClampedTotal()));
        return all;
    }

    private static TreeSet<String> flows(FlowTable table) {
        TreeSet<String> flows = new TreeSet<>();
        table.forEach(handle -> {
            int s = FlowTable.slot(handle);
            flows.add(String.join(" ", String.valueOf(table.vn(s)), String.valueOf(table.family(s)),
                    String.valueOf(table.proto(s)), Long.toHexString(table.srcHigh(s)),
                    Long.toHexString(table.srcLow(s)), Long.toHexString(table.dstHigh(s)),
                    Long.toHexString(table.dstLow(s)), String.valueOf(table.sport(s)), String.valueOf(table.dport(s)),
                    "origin=" + table.originTunnel(s), "egress=" + table.egressTunnel(s),
                    "original=" + table.originalPort(s), "replied=" + table.replied(s),
                    "tcp=" + table.tcpState(s), "created=" + table.createdMillis(s),
                    "fwd=" + table.packetsFromOrigin(s) + "/" + table.bytesFromOrigin(s),
                    "rev=" + table.packetsToOrigin(s) + "/" + table.bytesToOrigin(s)));
            return true;
        });
        return flows;
    }
}
