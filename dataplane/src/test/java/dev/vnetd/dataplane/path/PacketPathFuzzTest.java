package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 100 000 random and mutated packets through the whole path: no exception escapes, no buffer leaks (the leak
 * detector runs at paranoid), and every packet is accounted for: forwarded, or dropped under a reason.
 */
class PacketPathFuzzTest {
    private static final int PACKETS = 100_000;
    private static final long SEED = 0x5EED_2026L;

    @Test
    void shouldSurviveAndAccountForEveryRandomOrMutatedPacket() {
        TestNetwork net = new TestNetwork();
        SplittableRandom random = new SplittableRandom(SEED);
        ByteBuf[] seeds = {
            new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64).udp(1, 2, new byte[32])
                    .build(UnpooledByteBufAllocator.DEFAULT),
            new PacketBuilder().gre(100).ip("fd00:a::5", "fd00:10::5", 64).udp(1, 2, new byte[32])
                    .build(UnpooledByteBufAllocator.DEFAULT),
            new PacketBuilder().gre(200).ip("192.168.10.5", "198.51.100.1", 2).icmpEcho(7, 1, new byte[16])
                    .build(UnpooledByteBufAllocator.DEFAULT),
            new PacketBuilder().gre(-1).ip("10.1.2.3", "192.168.10.5", 1).udp(1, 2, new byte[8])
                    .build(UnpooledByteBufAllocator.DEFAULT),
        };
        int[] senders = {TestNetwork.SITE_A, TestNetwork.SITE_B, TestNetwork.DC_PROD, TestNetwork.RAW_SITE,
            TestNetwork.V6_SITE};
        long forwarded = 0;
        for (int i = 0; i < PACKETS; i++) {
            ByteBuf packet = random.nextInt(4) == 0 ? randomBytes(random) : mutate(seeds[random.nextInt(seeds.length)],
                    random);
            long sentBefore = sent(net);
            long icmpBefore = net.counters.icmpErrorsSent();
            net.receive(senders[random.nextInt(senders.length)], packet);
            forwarded += (sent(net) - sentBefore) - (net.counters.icmpErrorsSent() - icmpBefore);
            if (i % 1000 == 0) {
                releaseSent(net);
                net.nanos += 1_000_000_000L;
            }
        }
        releaseSent(net);
        for (ByteBuf seed : seeds) {
            seed.release();
        }
        long dropped = 0;
        int reasonsSeen = 0;
        for (DropReason reason : DropReason.values()) {
            dropped += net.counters.drops(reason);
            reasonsSeen += net.counters.drops(reason) > 0 ? 1 : 0;
        }
        assertEquals(PACKETS, forwarded + dropped, "every packet forwarded or dropped under a reason");
        assertTrue(forwarded > PACKETS / 100, "mutations leave enough packets valid to reach the end: " + forwarded);
        assertTrue(reasonsSeen >= 10, "the fuzzer reaches most drop reasons: " + reasonsSeen);
    }

    private static long sent(TestNetwork net) {
        long n = 0;
        for (TestNetwork.CapturingTxPort port : net.ports) {
            n += port.total;
        }
        return n;
    }

    private static void releaseSent(TestNetwork net) {
        for (TestNetwork.CapturingTxPort port : net.ports) {
            port.releaseAll();
        }
    }

    private static ByteBuf randomBytes(SplittableRandom random) {
        byte[] bytes = new byte[random.nextInt(0, 200)];
        random.nextBytes(bytes);
        return UnpooledByteBufAllocator.DEFAULT.buffer(bytes.length).writeBytes(bytes);
    }

    private static ByteBuf mutate(ByteBuf seed, SplittableRandom random) {
        ByteBuf packet = UnpooledByteBufAllocator.DEFAULT.buffer(seed.readableBytes() + 16).writeBytes(seed,
                seed.readerIndex(), seed.readableBytes());
        int mutations = 1 + random.nextInt(4);
        for (int m = 0; m < mutations && packet.readableBytes() > 0; m++) {
            switch (random.nextInt(4)) {
                case 0 -> {
                    int at = random.nextInt(packet.readableBytes());
                    packet.setByte(at, packet.getByte(at) ^ (1 << random.nextInt(8)));
                }
                case 1 -> packet.setByte(random.nextInt(packet.readableBytes()), random.nextInt(256));
                case 2 -> packet.writerIndex(random.nextInt(packet.readableBytes() + 1));
                default -> {
                    int at = random.nextInt(Math.min(48, packet.readableBytes()));
                    packet.setByte(at, random.nextBoolean() ? 0 : 0xFF);
                }
            }
        }
        return packet;
    }
}
