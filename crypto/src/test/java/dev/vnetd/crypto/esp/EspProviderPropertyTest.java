package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Every provider against a reference model, the JDK's JCE (Bouncy Castle where the JCE lacks 8-byte GCM ICVs): the
 * IV is derived from the sequence number, so for the same SA, sequence number and inner packet every provider must
 * send exactly the same bytes; each must decrypt what the others sent; and one flipped byte in IV, ciphertext or ICV
 * must be ICV_FAILED for all of them. Sequence numbers start near 1 and around 2^32, so ESN high halves 0 and 1
 * both reach the AAD (AEADs) and the implicit ICV trailer (AES-CBC + HMAC); heap and direct buffers.
 */
class EspProviderPropertyTest {
    @Provide
    Arbitrary<Long> firstSequences() {
        return Arbitraries.oneOf(Arbitraries.longs().between(1, 1000),
                Arbitraries.longs().between((1L << 32) - 5, (1L << 32) + 5));
    }

    @Property(tries = 80)
    void shouldSendTheSameBytesAndAcceptExactlyWhatTheReferenceAccepts(
            @ForAll EspTransform transform, @ForAll boolean esn, @ForAll("firstSequences") long first,
            @ForAll @IntRange(max = 1500) int innerLength, @ForAll int seed, @ForAll @IntRange(max = 2000) int flip,
            @ForAll boolean direct) {
        if (!esn && first > 0xFFFF_FFFFL) {
            first = 1;
        }
        byte[] inner = EspFixtures.innerPacket(innerLength, seed);
        byte[] reference = seal(transform, esn, first, inner, EspProvider.JDK, false);
        for (EspProvider sender : EspProvider.values()) {
            assertArrayEquals(reference, seal(transform, esn, first, inner, sender, direct),
                    sender + " sent other bytes");
        }
        int flipped = EspHeader.IV_OFFSET + flip % (reference.length - EspHeader.IV_OFFSET);
        for (EspProvider receiver : EspProvider.values()) {
            byte[] packet = reference.clone();
            InboundSa in = receiverAt(transform, esn, first);
            EspContext context = new EspContext(receiver);

            ByteBuffer buffer = buffer(packet, direct);
            assertEquals(EspResult.OK, in.decrypt(context, buffer, 0, packet.length), "" + receiver);
            byte[] decrypted = new byte[innerLength];
            buffer.get(context.offset(), decrypted);
            assertArrayEquals(inner, decrypted);
            assertEquals(first, context.sequence());

            byte[] tampered = reference.clone();
            tampered[flipped] ^= 0x40;
            InboundSa fresh = receiverAt(transform, esn, first);
            assertEquals(EspResult.ICV_FAILED, fresh.decrypt(context, buffer(tampered, direct), 0, tampered.length),
                    receiver + " flipped byte " + flipped);
        }
    }

    /** An inbound SA that has seen {@code first - 1}, so that it places {@code first} beyond 2^32 too. */
    private static InboundSa receiverAt(EspTransform transform, boolean esn, long first) {
        InboundSa in = new InboundSa(EspFixtures.SPI, EspFixtures.material(transform, 1), esn, 64,
                EspLifetime.UNLIMITED, RekeyListener.NONE);
        if (first > 1) {
            in.replayWindow().accept(first - 1);
        }
        return in;
    }

    private static byte[] seal(EspTransform transform, boolean esn, long first, byte[] inner, EspProvider provider,
                               boolean direct) {
        OutboundSa out = new OutboundSa(EspFixtures.SPI, EspFixtures.material(transform, 1), esn,
                EspLifetime.UNLIMITED, RekeyListener.NONE, first);
        byte[] packet = EspFixtures.withRoom(out, inner);
        ByteBuffer buffer = buffer(packet, direct);
        assertEquals(EspResult.OK, out.encrypt(new EspContext(provider), buffer, out.headroom(), inner.length,
                EspFixtures.IPV4));
        buffer.get(0, packet);
        return packet;
    }

    /** The packet in a heap buffer, or copied into a direct one (where OpenSSL works in the buffer's memory). */
    private static ByteBuffer buffer(byte[] packet, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(packet.length).put(0, packet) : ByteBuffer.wrap(packet);
    }
}
