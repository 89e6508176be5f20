package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class InboundSaTest {
    static Stream<Arguments> transformsProvidersAndEsn() {
        List<Arguments> arguments = new ArrayList<>();
        for (EspTransform transform : EspTransform.values()) {
            for (EspProvider sender : EspProvider.values()) {
                for (EspProvider receiver : EspProvider.values()) {
                    arguments.add(Arguments.of(transform, sender, receiver, false));
                    arguments.add(Arguments.of(transform, sender, receiver, true));
                }
            }
        }
        return arguments.stream();
    }

    @ParameterizedTest
    @MethodSource("transformsProvidersAndEsn")
    void shouldDecryptWhatTheOtherProviderEncrypted(EspTransform transform, EspProvider sender,
                                                    EspProvider receiver, boolean esn) {
        OutboundSa out = new OutboundSa(EspFixtures.SPI, EspFixtures.material(transform, 1), esn,
                EspLifetime.UNLIMITED, RekeyListener.NONE, esn ? (1L << 32) - 20 : 1);
        InboundSa in = EspFixtures.inbound(transform, esn, 64);
        EspContext sending = new EspContext(sender);
        EspContext receiving = new EspContext(receiver);
        for (int length = 0; length < 40; length++) {
            byte[] inner = EspFixtures.innerPacket(length, length);
            byte[] packet = EspFixtures.withRoom(out, inner);
            ByteBuffer buffer = ByteBuffer.wrap(packet);

            assertEquals(EspResult.OK, out.encrypt(sending, buffer, out.headroom(), length, EspFixtures.IPV4));
            assertEquals(0, sending.offset());
            assertEquals(packet.length, sending.length());
            assertEquals(EspResult.OK, in.decrypt(receiving, buffer, 0, packet.length), "length " + length);
            assertEquals(out.headroom(), receiving.offset());
            assertArrayEquals(inner, Arrays.copyOfRange(packet, receiving.offset(), receiving.offset() + length));
            assertEquals(EspFixtures.IPV4, receiving.nextHeader());
            assertEquals(sending.sequence(), receiving.sequence());
        }
        assertEquals(esn ? (1L << 32) + 19 : 40, in.replayWindow().top());
    }

    static Stream<Arguments> transformsAndProviders() {
        List<Arguments> arguments = new ArrayList<>();
        for (EspTransform transform : EspTransform.values()) {
            for (EspProvider provider : EspProvider.values()) {
                arguments.add(Arguments.of(transform, provider));
            }
        }
        return arguments.stream();
    }

    @ParameterizedTest
    @MethodSource("transformsAndProviders")
    void shouldWorkInPlaceInDirectBuffersAtAnOffset(EspTransform transform, EspProvider provider) {
        OutboundSa out = EspFixtures.outbound(transform, true);
        InboundSa in = EspFixtures.inbound(transform, true, 64);
        EspContext context = new EspContext(provider);
        byte[] inner = EspFixtures.innerPacket(1400, 3);
        int innerOffset = 100 + out.headroom();
        ByteBuffer buffer = ByteBuffer.allocateDirect(innerOffset + 1400 + out.tailroom(1400) + 7);
        buffer.put(innerOffset, inner);

        assertEquals(EspResult.OK, out.encrypt(context, buffer, innerOffset, 1400, 41));
        assertEquals(100, context.offset());
        assertEquals(EspResult.OK, in.decrypt(context, buffer, 100, context.length()));

        byte[] decrypted = new byte[1400];
        buffer.get(context.offset(), decrypted);
        assertArrayEquals(inner, decrypted);
        assertEquals(41, context.nextHeader());
        assertEquals(0, buffer.position());
    }

    @ParameterizedTest
    @EnumSource(EspProvider.class)
    void shouldRefuseReadOnlyBuffersWithoutWritingThroughThem(EspProvider provider) {
        OutboundSa out = EspFixtures.outbound(EspTransform.AES_GCM_128, false);
        InboundSa in = EspFixtures.inbound(EspTransform.AES_GCM_128, false, 64);
        EspContext context = new EspContext(provider);
        byte[] packet = EspFixtures.withRoom(out, EspFixtures.innerPacket(100, 1));
        assertEquals(EspResult.OK, out.encrypt(context, ByteBuffer.wrap(packet), out.headroom(), 100, 4));
        byte[] sealed = packet.clone();
        ByteBuffer direct = ByteBuffer.allocateDirect(packet.length).put(0, packet);

        assertThrows(ReadOnlyBufferException.class,
                () -> in.decrypt(context, ByteBuffer.wrap(packet).asReadOnlyBuffer(), 0, packet.length));
        assertThrows(ReadOnlyBufferException.class,
                () -> in.decrypt(context, direct.asReadOnlyBuffer(), 0, packet.length));
        assertArrayEquals(sealed, packet);
        byte[] directBytes = new byte[packet.length];
        direct.get(0, directBytes);
        assertArrayEquals(sealed, directBytes);
    }

    @ParameterizedTest
    @EnumSource(EspTransform.class)
    void shouldDropReplaysAndKeepWorking(EspTransform transform) {
        Pair pair = new Pair(transform, 64);
        byte[] first = pair.encrypt(20);
        byte[] copy = first.clone();

        assertEquals(EspResult.OK, pair.decrypt(first));
        assertEquals(EspResult.REPLAYED, pair.decrypt(copy));
        assertEquals(EspResult.OK, pair.decrypt(pair.encrypt(21)));
    }

    @ParameterizedTest
    @EnumSource(EspTransform.class)
    void shouldDropPacketsLeftOfTheWindow(EspTransform transform) {
        Pair pair = new Pair(transform, 32);
        byte[] old = pair.encrypt(10);
        for (int i = 0; i < 40; i++) {
            assertEquals(EspResult.OK, pair.decrypt(pair.encrypt(10)));
        }

        assertEquals(EspResult.OUTSIDE_WINDOW, pair.decrypt(old));
    }

    @ParameterizedTest
    @MethodSource("transformsAndProviders")
    void shouldDropFlippedBitsInIcvCiphertextAndHeaderWithoutMovingTheWindow(EspTransform transform,
                                                                            EspProvider receiver) {
        Pair pair = new Pair(transform, 64, receiver);
        for (int position : new int[] {-1, -17, 30, 4}) {
            byte[] packet = pair.encrypt(60);
            int index = position < 0 ? packet.length + position : position;
            packet[index] ^= 0x01;

            assertEquals(EspResult.ICV_FAILED, pair.decrypt(packet), "flipped byte " + index);
        }
        assertEquals(0, pair.in.replayWindow().top());
        assertEquals(EspResult.OK, pair.decrypt(pair.encrypt(60)));
    }

    @ParameterizedTest
    @MethodSource("transformsAndProviders")
    void shouldDropBadPaddingThatAuthenticates(EspTransform transform, EspProvider receiver) {
        Pair pair = new Pair(transform, 64, receiver);
        int payloadLength = transform.isAead() ? 12 : 32;
        int headroom = pair.out.headroom();
        byte[] packet = new byte[headroom + payloadLength + transform.icvLength()];
        EspHeader.putInt(packet, EspHeader.SPI_OFFSET, EspFixtures.SPI);
        EspHeader.putInt(packet, EspHeader.SEQUENCE_OFFSET, 7);
        packet[headroom + payloadLength - 4] = 1;
        packet[headroom + payloadLength - 3] = 9;
        packet[headroom + payloadLength - 2] = 2;
        packet[headroom + payloadLength - 1] = 4;
        EspCipher cipher = EspProvider.JDK.newCipher(transform, EspFixtures.material(transform, 1), pair.sending);
        cipher.writeIv(packet, EspHeader.IV_OFFSET, 7);
        cipher.seal(packet, 0, payloadLength, 0, false, new byte[packet.length]);

        assertEquals(EspResult.BAD_PADDING, pair.decrypt(packet));
        assertEquals(7, pair.in.replayWindow().top());
        assertEquals(EspResult.OK, pair.decrypt(pair.encrypt(8)));
    }

    @ParameterizedTest
    @EnumSource(EspTransform.class)
    void shouldReportDummyPacketsAfterCountingTheirSequenceNumber(EspTransform transform) {
        Pair pair = new Pair(transform, 64);
        byte[] dummy = EspFixtures.withRoom(pair.out, new byte[8]);
        pair.out.encrypt(pair.sending, ByteBuffer.wrap(dummy), pair.out.headroom(), 8, 59);

        assertEquals(EspResult.DUMMY_PACKET, pair.decrypt(dummy));
        assertEquals(59, pair.receiving.nextHeader());
        assertEquals(1, pair.in.replayWindow().top());
    }

    @ParameterizedTest
    @EnumSource(EspTransform.class)
    void shouldDropTruncatedAndMisalignedPackets(EspTransform transform) {
        Pair pair = new Pair(transform, 64);
        byte[] packet = pair.encrypt(100);

        assertEquals(EspResult.TRUNCATED, pair.in.decrypt(pair.receiving, ByteBuffer.wrap(packet), 0, 20));
        assertEquals(EspResult.MALFORMED,
                pair.in.decrypt(pair.receiving, ByteBuffer.wrap(packet), 0, packet.length - 1));
    }

    @Test
    void shouldStopAtTheHardLifetimeAndAskForARekeyAtTheSoftOne() {
        List<RekeyListener.Reason> reasons = new ArrayList<>();
        EspTransform transform = EspTransform.AES_GCM_128;
        InboundSa in = new InboundSa(EspFixtures.SPI, EspFixtures.material(transform, 1), false, 64,
                new EspLifetime(2, 3, Long.MAX_VALUE, Long.MAX_VALUE), (spi, inbound, reason) -> reasons.add(reason));
        Pair pair = new Pair(transform, 64);

        assertEquals(EspResult.OK, decrypt(in, pair, pair.encrypt(10)));
        assertEquals(List.of(), reasons);
        assertEquals(EspResult.OK, decrypt(in, pair, pair.encrypt(10)));
        assertEquals(List.of(RekeyListener.Reason.SOFT_LIFETIME), reasons);
        assertEquals(EspResult.OK, decrypt(in, pair, pair.encrypt(10)));
        assertEquals(EspResult.LIFETIME_EXPIRED, decrypt(in, pair, pair.encrypt(10)));
        assertEquals(EspResult.LIFETIME_EXPIRED, decrypt(in, pair, pair.encrypt(10)));
        assertEquals(List.of(RekeyListener.Reason.SOFT_LIFETIME, RekeyListener.Reason.HARD_LIFETIME), reasons);
        assertEquals(3, in.packets());
        assertEquals(30, in.bytes());
    }

    @Test
    void shouldAcceptEverythingAuthenticWithTheWindowOff() {
        Pair pair = new Pair(EspTransform.CHACHA20_POLY1305, 0);
        byte[] first = pair.encrypt(10);
        byte[] copy = first.clone();

        assertEquals(EspResult.OK, pair.decrypt(first));
        assertEquals(EspResult.OK, pair.decrypt(copy));
    }

    @Test
    void shouldAcceptEachPacketOnceWhenTwoWorkersReceiveCopiesOnOneSa() throws InterruptedException {
        Pair pair = new Pair(EspTransform.AES_GCM_128, 1024);
        List<byte[]> packets = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            packets.add(pair.encrypt(40));
        }
        java.util.concurrent.atomic.AtomicIntegerArray accepted =
                new java.util.concurrent.atomic.AtomicIntegerArray(packets.size() + 1);
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (EspProvider provider : EspProvider.values()) {
            workers.add(Thread.ofPlatform().start(() -> {
                EspContext context = new EspContext(provider);
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (byte[] original : packets) {
                    byte[] copy = original.clone();
                    if (pair.in.decrypt(context, ByteBuffer.wrap(copy), 0, copy.length) == EspResult.OK) {
                        accepted.incrementAndGet((int) context.sequence());
                    }
                }
            }));
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }

        for (int sequence = 1; sequence <= packets.size(); sequence++) {
            assertEquals(1, accepted.get(sequence), "sequence " + sequence);
        }
        assertEquals(packets.size(), pair.in.packets());
    }

    private static EspResult decrypt(InboundSa in, Pair pair, byte[] packet) {
        return in.decrypt(pair.receiving, ByteBuffer.wrap(packet), 0, packet.length);
    }

    /** An outbound SA and the inbound SA that receives from it, with one context each. */
    private static final class Pair {
        final OutboundSa out;
        final InboundSa in;
        final EspContext sending = new EspContext(EspProvider.JDK);
        final EspContext receiving;

        Pair(EspTransform transform, int window) {
            this(transform, window, EspProvider.BOUNCY_CASTLE);
        }

        Pair(EspTransform transform, int window, EspProvider receiver) {
            out = EspFixtures.outbound(transform, false);
            in = EspFixtures.inbound(transform, false, window);
            receiving = new EspContext(receiver);
        }

        byte[] encrypt(int innerLength) {
            byte[] packet = EspFixtures.withRoom(out, EspFixtures.innerPacket(innerLength, 5));
            assertEquals(EspResult.OK,
                    out.encrypt(sending, ByteBuffer.wrap(packet), out.headroom(), innerLength, EspFixtures.IPV4));
            return packet;
        }

        EspResult decrypt(byte[] packet) {
            return in.decrypt(receiving, ByteBuffer.wrap(packet), 0, packet.length);
        }
    }
}
