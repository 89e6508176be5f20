package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The whole receive path against a reference model, with ESN: after a first packet at 2^32 - 50 (a receiver can only
 * place numbers within 2^32 of what it has seen), packets sealed at chosen 64-bit sequence numbers across 2^32
 * arrive in random order, duplicated, far old and far ahead; the receiver sees only the low 32 bits on
 * the wire and must accept exactly what RFC 4303 3.4.3 accepts (a far-old packet may be dropped as ICV_FAILED
 * rather than OUTSIDE_WINDOW, since Appendix A infers it into the next epoch, but it is dropped either way).
 * A duplicate is the same sealed bytes again, as a replaying attacker sends them.
 */
class InboundSaReplayPropertyTest {
    private static final int WINDOW = 64;
    private static final EspTransform TRANSFORM = EspTransform.AES_GCM_128;

    @Provide
    Arbitrary<List<Long>> steps() {
        return Arbitraries.frequencyOf(
                Tuple.of(10, Arbitraries.longs().between(-70, 40)),
                Tuple.of(1, Arbitraries.longs().between(-100_000, -65)),
                Tuple.of(1, Arbitraries.longs().between(41, 1_000_000)))
                .list().ofMinSize(1).ofMaxSize(150);
    }

    @Property(tries = 60)
    void shouldAcceptExactlyWhatTheReferenceModelAccepts(@ForAll("steps") List<Long> steps) {
        InboundSa in = EspFixtures.inbound(TRANSFORM, true, WINDOW);
        EspCipher sender = EspProvider.JDK.newCipher(TRANSFORM, EspFixtures.material(TRANSFORM, 1), new EspContext());
        EspContext context = new EspContext(EspProvider.JDK);
        Map<Long, byte[]> sealed = new HashMap<>();
        Set<Long> seen = new HashSet<>();
        long cursor = (1L << 32) - 50;
        byte[] first = seal(sender, cursor);
        sealed.put(cursor, first.clone());
        assertEquals(EspResult.OK, in.decrypt(context, ByteBuffer.wrap(first), 0, first.length));
        seen.add(cursor);
        long top = cursor;
        for (long step : steps) {
            long sequence = Math.max(1, cursor + step);
            cursor = Math.max(cursor, sequence);
            boolean expected = !seen.contains(sequence) && (sequence > top || top - sequence < WINDOW);
            byte[] packet = sealed.computeIfAbsent(sequence, s -> seal(sender, s)).clone();

            EspResult result = in.decrypt(context, ByteBuffer.wrap(packet), 0, packet.length);

            assertEquals(expected, result == EspResult.OK, () -> "sequence " + sequence + " got " + result);
            if (expected) {
                seen.add(sequence);
                top = Math.max(top, sequence);
                assertEquals(sequence, context.sequence());
            }
        }
        assertEquals(top, in.replayWindow().top());
    }

    private static byte[] seal(EspCipher cipher, long sequence) {
        int headroom = EspHeader.LENGTH + TRANSFORM.ivLength();
        int payloadLength = 12;
        byte[] packet = new byte[headroom + payloadLength + TRANSFORM.icvLength()];
        EspHeader.putInt(packet, EspHeader.SPI_OFFSET, EspFixtures.SPI);
        EspHeader.putInt(packet, EspHeader.SEQUENCE_OFFSET, (int) sequence);
        packet[headroom + payloadLength - 1] = EspFixtures.IPV4;
        cipher.writeIv(packet, EspHeader.IV_OFFSET, sequence);
        cipher.seal(packet, 0, payloadLength, (int) (sequence >>> 32), true, new byte[packet.length]);
        return packet;
    }
}
