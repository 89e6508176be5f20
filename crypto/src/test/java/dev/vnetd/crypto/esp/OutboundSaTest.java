package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OutboundSaTest {
    @Test
    void shouldDocumentHeadroomAndTailroomPerTransform() {
        OutboundSa gcm = EspFixtures.outbound(EspTransform.AES_GCM_128, false);
        OutboundSa cbc = EspFixtures.outbound(EspTransform.AES_CBC_HMAC_SHA256, false);

        assertEquals(16, gcm.headroom());
        assertEquals(18, gcm.tailroom(1398));
        assertEquals(21, gcm.tailroom(1399));
        assertEquals(24, cbc.headroom());
        assertEquals(18, cbc.tailroom(1406));
        assertEquals(33, cbc.tailroom(1407));
    }

    @ParameterizedTest
    @EnumSource(EspTransform.class)
    void shouldWriteSpiSequenceAndPaddingAndNeverRepeatAnIv(EspTransform transform) {
        OutboundSa out = EspFixtures.outbound(transform, false);
        EspContext context = new EspContext(EspProvider.BOUNCY_CASTLE);
        Set<String> ivs = new HashSet<>();
        for (int i = 1; i <= 100; i++) {
            byte[] packet = EspFixtures.withRoom(out, new byte[50]);
            out.encrypt(context, ByteBuffer.wrap(packet), out.headroom(), 50, 4);

            assertEquals(EspFixtures.SPI, EspHeader.getInt(packet, 0));
            assertEquals(i, EspHeader.getInt(packet, 4));
            ivs.add(EspFixtures.hex(packet, EspHeader.IV_OFFSET, transform.ivLength()));
        }
        assertEquals(100, ivs.size());
    }

    @Test
    void shouldStopAtTheLastSequenceNumberAndAskForARekeyOnce() {
        List<RekeyListener.Reason> reasons = new ArrayList<>();
        OutboundSa out = new OutboundSa(EspFixtures.SPI, EspFixtures.material(EspTransform.AES_GCM_256, 1), false,
                EspLifetime.UNLIMITED, (spi, inbound, reason) -> reasons.add(reason), 0xFFFF_FFFFL);
        EspContext context = new EspContext();
        byte[] packet = EspFixtures.withRoom(out, new byte[20]);

        assertEquals(EspResult.OK, out.encrypt(context, ByteBuffer.wrap(packet), out.headroom(), 20, 4));
        assertEquals(-1, EspHeader.getInt(packet, 4));
        assertEquals(EspResult.SEQ_EXHAUSTED, out.encrypt(context, ByteBuffer.wrap(packet), out.headroom(), 20, 4));
        assertEquals(EspResult.SEQ_EXHAUSTED, out.encrypt(context, ByteBuffer.wrap(packet), out.headroom(), 20, 4));
        assertEquals(List.of(RekeyListener.Reason.SEQUENCE_EXHAUSTED), reasons);
        assertEquals(1, out.packets());
    }

    @Test
    void shouldCarryOnPastTwoToTheThirtyTwoWithEsn() {
        OutboundSa out = new OutboundSa(EspFixtures.SPI, EspFixtures.material(EspTransform.AES_GCM_128, 1), true,
                EspLifetime.UNLIMITED, RekeyListener.NONE, 0xFFFF_FFFFL);
        EspContext context = new EspContext();
        byte[] packet = EspFixtures.withRoom(out, new byte[20]);

        assertEquals(EspResult.OK, out.encrypt(context, ByteBuffer.wrap(packet), out.headroom(), 20, 4));
        assertEquals(EspResult.OK, out.encrypt(context, ByteBuffer.wrap(packet), out.headroom(), 20, 4));
        assertEquals(1L << 32, context.sequence());
        assertEquals(0, EspHeader.getInt(packet, 4));
    }

    @Test
    void shouldRefuseBuffersWithoutRoom() {
        OutboundSa out = EspFixtures.outbound(EspTransform.AES_GCM_128, false);
        EspContext context = new EspContext();
        ByteBuffer buffer = ByteBuffer.allocate(100);

        assertEquals(EspResult.NO_ROOM, out.encrypt(context, buffer, 15, 10, 4));
        assertEquals(EspResult.NO_ROOM, out.encrypt(context, buffer, 16, 70, 4));
        assertEquals(1, out.nextSequence());
    }

    @Test
    void shouldRejectReservedSpis() {
        KeyMaterial material = EspFixtures.material(EspTransform.AES_GCM_128, 1);

        assertThrows(IllegalArgumentException.class,
                () -> new OutboundSa(0, material, false, EspLifetime.UNLIMITED, RekeyListener.NONE));
        assertThrows(IllegalArgumentException.class,
                () -> new OutboundSa(255, material, false, EspLifetime.UNLIMITED, RekeyListener.NONE));
        assertNotEquals(null, new OutboundSa(-1, material, false, EspLifetime.UNLIMITED, RekeyListener.NONE));
    }
}
