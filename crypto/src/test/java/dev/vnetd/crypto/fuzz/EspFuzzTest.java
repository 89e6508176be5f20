package dev.vnetd.crypto.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vnetd.crypto.esp.EspContext;
import dev.vnetd.crypto.esp.EspLifetime;
import dev.vnetd.crypto.esp.EspProvider;
import dev.vnetd.crypto.esp.EspResult;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.crypto.esp.InboundSa;
import dev.vnetd.crypto.esp.KeyMaterial;
import dev.vnetd.crypto.esp.OutboundSa;
import dev.vnetd.crypto.esp.RekeyListener;
import dev.vnetd.crypto.esp.SaTable;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ESP decryption with a live SA, every transform and both providers. The fuzzer picks the transform, ESN, replay
 * window, first sequence number, next header and inner packet; the packet is sealed by an outbound SA with the same
 * keys, so decryption, the ICV, padding and the replay window are reached; then it is decrypted as sent (it must
 * come back identical, and be refused as a replay the second time) or with one byte changed (it must be refused).
 * In raw mode the bytes are decrypted as they are. Nothing may escape.
 *
 * <pre>
 * input: transform | flags (0 esn, 1 raw, 2 bc, 3 direct buffer, 4-5 window) | first sequence (4) |
 *        mutate at (2) | mutate xor (1) | next header (1) | inner packet or raw ESP packet
 * </pre>
 * Corpus: {@code EspFuzzTestInputs/}.
 */
class EspFuzzTest {
    private static final int SPI = 0x0000_1001;
    private static final int HEADER = 10;
    private static final int MAX_INNER = 2048;
    private static final int[] WINDOWS = {64, 0, 1024, 4096};
    private static final EspTransform[] TRANSFORMS = EspTransform.values();
    private static final EspContext AUTO = new EspContext();
    private static final EspContext BC = new EspContext(EspProvider.BOUNCY_CASTLE);
    private static final int NEXT_HEADER_DUMMY = 59;

    @FuzzTest(maxDuration = "10s")
    void shouldDecryptSealedPacketsAndRefuseAltered(byte[] input) {
        if (input.length < HEADER) {
            return;
        }
        EspTransform transform = TRANSFORMS[(input[0] & 0xFF) % TRANSFORMS.length];
        int flags = input[1] & 0xFF;
        boolean esn = (flags & 1) != 0;
        boolean raw = (flags & 2) != 0;
        EspContext context = (flags & 4) != 0 ? BC : AUTO;
        boolean direct = (flags & 8) != 0;
        int window = WINDOWS[(flags >>> 4) & 3];
        long firstSequence = Math.max(1, ByteBuffer.wrap(input, 2, 4).getInt() & 0xFFFF_FFFFL);
        int mutateAt = (input[6] & 0xFF) << 8 | (input[7] & 0xFF);
        int mutateXor = input[8] & 0xFF;
        int nextHeader = input[9] & 0xFF;
        byte[] body = Arrays.copyOfRange(input, HEADER, Math.min(input.length, HEADER + MAX_INNER));

        KeyMaterial material = material(transform, input[0]);
        InboundSa inbound = new InboundSa(SPI, material, esn, window, EspLifetime.UNLIMITED, RekeyListener.NONE);
        SaTable table = SaTable.of(List.of(inbound));
        if (raw) {
            ByteBuffer buffer = buffer(body, 0, body.length, direct);
            EspResult result = table.decrypt(context, buffer, 0, body.length);
            if (result == EspResult.OK) {
                assertTrue(context.offset() >= 0 && context.offset() + context.length() <= body.length,
                        "inner packet within the ESP packet");
            }
            return;
        }
        OutboundSa outbound = new OutboundSa(SPI, material, esn, EspLifetime.UNLIMITED, RekeyListener.NONE,
                firstSequence);
        int headroom = outbound.headroom();
        byte[] sealed = new byte[headroom + body.length + outbound.tailroom(body.length)];
        System.arraycopy(body, 0, sealed, headroom, body.length);
        ByteBuffer out = buffer(sealed, 0, sealed.length, direct);
        EspResult encrypted = outbound.encrypt(context, out, headroom, body.length, nextHeader);
        if (encrypted != EspResult.OK) {
            assertEquals(EspResult.SEQ_EXHAUSTED, encrypted, "only a full sequence space stops encryption");
            return;
        }
        int espLength = context.length();
        byte[] esp = new byte[espLength];
        out.get(context.offset(), esp, 0, espLength);
        if (mutateXor != 0) {
            esp[mutateAt % espLength] ^= (byte) mutateXor;
            EspResult result = table.decrypt(context, buffer(esp, 0, espLength, direct), 0, espLength);
            assertNotEquals(EspResult.OK, result, "an altered packet was accepted");
            assertNotEquals(EspResult.DUMMY_PACKET, result, "an altered packet was accepted");
            return;
        }
        ByteBuffer in = buffer(esp, 0, espLength, direct);
        EspResult result = table.decrypt(context, in, 0, espLength);
        assertEquals(nextHeader == NEXT_HEADER_DUMMY ? EspResult.DUMMY_PACKET : EspResult.OK, result);
        assertEquals(nextHeader, context.nextHeader(), "next header");
        byte[] inner = new byte[context.length()];
        in.get(context.offset(), inner, 0, inner.length);
        if (result == EspResult.OK) {
            assertArrayEquals(body, inner, "the inner packet comes back as sealed");
        }
        EspResult again = table.decrypt(context, buffer(esp, 0, espLength, direct), 0, espLength);
        if (window > 0) {
            assertEquals(EspResult.REPLAYED, again, "the same packet twice");
        }
    }

    private static KeyMaterial material(EspTransform transform, byte seed) {
        byte[] bytes = new byte[transform.minimumMaterialLength()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31 + seed);
        }
        return KeyMaterial.of(transform, bytes);
    }

    private static ByteBuffer buffer(byte[] bytes, int offset, int length, boolean direct) {
        if (!direct) {
            return ByteBuffer.wrap(bytes, offset, length).slice();
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(length);
        buffer.put(0, bytes, offset, length);
        return buffer;
    }
}
