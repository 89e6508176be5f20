package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SaTableTest {
    @Property(tries = 50)
    void shouldFindExactlyTheSasItWasBuiltWith(@ForAll @IntRange(min = 0, max = 300) int count,
                                               @ForAll int seed) {
        KeyMaterial material = EspFixtures.material(EspTransform.AES_GCM_128, 1);
        Map<Integer, InboundSa> model = new HashMap<>();
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        while (model.size() < count) {
            int spi = random.nextInt(256, Integer.MAX_VALUE);
            model.put(spi, new InboundSa(spi, material, false, 64, EspLifetime.UNLIMITED, RekeyListener.NONE));
        }
        SaTable table = SaTable.of(model.values());

        assertEquals(count, table.size());
        for (Map.Entry<Integer, InboundSa> entry : model.entrySet()) {
            assertSame(entry.getValue(), table.lookup(entry.getKey()));
        }
        for (int i = 0; i < 100; i++) {
            int spi = random.nextInt();
            if (!model.containsKey(spi)) {
                assertNull(table.lookup(spi));
            }
        }
    }

    @Test
    void shouldRejectDuplicateSpis() {
        List<InboundSa> sas = new ArrayList<>();
        sas.add(EspFixtures.inbound(EspTransform.AES_GCM_128, false, 64));
        sas.add(EspFixtures.inbound(EspTransform.CHACHA20_POLY1305, false, 64));

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> SaTable.of(sas));
        assertEquals("duplicate inbound SPI 0x1001", error.getMessage());
    }

    @Test
    void shouldReportUnknownSpisAndDecryptKnownOnes() {
        OutboundSa out = EspFixtures.outbound(EspTransform.AES_GCM_128, false);
        SaTable table = SaTable.of(List.of(EspFixtures.inbound(EspTransform.AES_GCM_128, false, 64)));
        EspContext context = new EspContext();
        byte[] packet = EspFixtures.withRoom(out, new byte[30]);
        out.encrypt(context, ByteBuffer.wrap(packet), out.headroom(), 30, 4);

        assertEquals(EspResult.OK, table.decrypt(context, ByteBuffer.wrap(packet), 0, packet.length));
        EspHeader.putInt(packet, 0, 0x2002);
        assertEquals(EspResult.UNKNOWN_SPI, table.decrypt(context, ByteBuffer.wrap(packet), 0, packet.length));
        assertEquals(EspResult.TRUNCATED, table.decrypt(context, ByteBuffer.wrap(packet), 0, 7));
        EspHeader.putInt(packet, 0, 0);
        assertEquals(EspResult.NON_ESP_MARKER, table.decrypt(context, ByteBuffer.wrap(packet), 0, packet.length));
        EspHeader.putInt(packet, 0, 0x2002);
        assertEquals(EspResult.UNKNOWN_SPI, SaTable.EMPTY.decrypt(context, ByteBuffer.wrap(packet), 0, 40));
    }
}
