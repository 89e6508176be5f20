package dev.vnetd.crypto.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vnetd.crypto.esp.EspResult;
import dev.vnetd.crypto.esp.ReplayWindow;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The anti-replay window against a reference model (a set of accepted numbers and the top): any window size, any
 * order of checks and accepts of sequence numbers near the top, behind it and far ahead, and ESN inference.
 *
 * <pre>
 * input: window size (2, mod 4097) | ops: kind (1: bit 0 accept, bit 1 far jump, bit 2 infer) | delta (2, signed)
 * </pre>
 * Sequence numbers stay below 2^52, where the window's tags are exact. Corpus: {@code ReplayWindowFuzzTestInputs/}.
 */
class ReplayWindowFuzzTest {
    private static final long SEQUENCE_LIMIT = 1L << 52;
    private static final int FAR_JUMP = 1 << 20;

    @FuzzTest(maxDuration = "10s")
    void shouldAgreeWithReferenceModel(byte[] input) {
        if (input.length < 2) {
            return;
        }
        int size = ((input[0] & 0xFF) << 8 | (input[1] & 0xFF)) % (ReplayWindow.MAX_SIZE + 1);
        ReplayWindow window = new ReplayWindow(size);
        Set<Long> accepted = new HashSet<>();
        long top = 0;
        for (int i = 2; i + 3 <= input.length; i += 3) {
            int kind = input[i] & 0xFF;
            int delta = (short) ((input[i + 1] & 0xFF) << 8 | (input[i + 2] & 0xFF));
            long sequence = top + ((kind & 2) != 0 ? (long) delta * FAR_JUMP : delta);
            if (sequence < 0 || sequence >= SEQUENCE_LIMIT) {
                continue;
            }
            if ((kind & 4) != 0) {
                long inferred = window.infer((int) sequence, true);
                assertEquals(sequence & 0xFFFF_FFFFL, inferred & 0xFFFF_FFFFL, "low half kept");
                long highDistance = Math.abs((inferred >>> 32) - (top >>> 32));
                assertTrue(highDistance <= 1, "high half next to the top's: " + inferred + " top " + top);
                continue;
            }
            EspResult expected = expected(size, accepted, top, sequence);
            if ((kind & 1) != 0) {
                assertEquals(expected, window.accept(sequence), "accept " + sequence + " top " + top);
                if (expected == EspResult.OK) {
                    accepted.add(sequence);
                    top = Math.max(top, sequence);
                }
            } else {
                assertEquals(expected, window.check(sequence), "check " + sequence + " top " + top);
            }
            assertEquals(top, window.top(), "top");
        }
    }

    private static EspResult expected(int size, Set<Long> accepted, long top, long sequence) {
        if (size == 0) {
            return EspResult.OK;
        }
        if (sequence == 0 || sequence <= top && top - sequence >= size) {
            return EspResult.OUTSIDE_WINDOW;
        }
        return accepted.contains(sequence) ? EspResult.REPLAYED : EspResult.OK;
    }
}
