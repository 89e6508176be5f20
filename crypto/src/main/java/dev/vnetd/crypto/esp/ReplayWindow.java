package dev.vnetd.crypto.esp;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The anti-replay window of one inbound SA (RFC 4303 3.4.3), after RFC 6479 "IPsec Anti-Replay Algorithm without
 * Bit Shifting", made lock-free so several workers can receive on one SA.
 *
 * <pre>
 *   sequence number s (64 bits with ESN)      block b = s >>> 4, bit = s & 15, slot = b & (slots - 1)
 *
 *   slots (AtomicLongArray, a power of two >= window/16 + 2, a ring as in RFC 6479)
 *   +------------------------------------------------+--------------------------------+
 *   | tag: low 48 bits of block number b             | bitmap: bit i = b*16+i received |  one long per slot
 *   +------------------------------------------------+--------------------------------+
 *    63                                            16 15                              0
 *
 *   top (AtomicLong): highest sequence number accepted so far; the window is (top - window, top].
 * </pre>
 *
 * Invariants that make it safe without a lock:
 * <ul>
 *   <li>A slot's tag only moves forward: a block replaces a slot's older block with one CAS that both writes the new
 *       tag and sets the packet's bit, so there is no moment where a stale bitmap looks fresh (RFC 6479 clears the
 *       block when the right edge advances; here clearing and setting are the same CAS).</li>
 *   <li>A sequence number is accepted only by the CAS that sets its bit in a slot tagged with its own block. After
 *       that the bit stays set until a newer block takes the slot, and from then on the older tag marks the number
 *       as left of the window. So each number is accepted at most once, whatever the threads interleave.</li>
 *   <li>With at least window/16 + 2 slots, a block can only be replaced by one at least {@code slots * 16} numbers
 *       newer, which puts the replaced numbers left of the window: the ring never forgets a number in the window.</li>
 *   <li>{@code top} moves only by a CAS to a larger value, and only in {@link #accept}, which callers invoke after
 *       the ICV verified: forged packets cannot move the window. It is raised before the slot is written, so a slot
 *       never holds a block beyond the top read after it.</li>
 * </ul>
 * Tags keep 48 bits of the block number, so they are exact below sequence number 2^52 (14 years at 10 Mpps). A tag
 * that reads as newer than the packet's block but lies beyond the top is stale and is replaced. Past 2^52 a slot
 * untouched for 2^48 blocks can at worst make a packet look replayed (a drop), never accept a replay.
 *
 * <p>Window 0 turns replay protection off (anycast edges where many servers share one SA): every number is accepted
 * and only {@code top} is tracked, for ESN inference.
 */
public final class ReplayWindow {
    /** Largest window accepted; RFC 4303 recommends 64 at least, Linux allows 4096 with its bitmap. */
    public static final int MAX_SIZE = 4096;

    private static final int BLOCK_SHIFT = 4;
    private static final int BLOCK_MASK = (1 << BLOCK_SHIFT) - 1;
    private static final int TAG_SHIFT = 1 << BLOCK_SHIFT;
    private static final long SEQ_LOW_MASK = 0xFFFF_FFFFL;
    private static final long ESN_INFERENCE_WINDOW_WHEN_OFF = 1L << 31;

    private final int size;
    private final int slotMask;
    private final AtomicLongArray slots;
    private final AtomicLong top = new AtomicLong();

    /**
     * A window of {@code size} sequence numbers.
     *
     * @param size 0 (off) to {@link #MAX_SIZE}
     */
    public ReplayWindow(int size) {
        if (size < 0 || size > MAX_SIZE) {
            throw new IllegalArgumentException("replay window must be 0.." + MAX_SIZE + ", got " + size);
        }
        this.size = size;
        int slotCount = size == 0 ? 1 : Integer.highestOneBit((size >>> BLOCK_SHIFT) + 2) << 1;
        this.slotMask = slotCount - 1;
        this.slots = new AtomicLongArray(slotCount);
    }

    /** The window size; 0 means off. */
    public int size() {
        return size;
    }

    /** The highest sequence number accepted so far, 0 before the first. */
    public long top() {
        return top.get();
    }

    /**
     * The full sequence number of a received packet (RFC 4303 Appendix A2.2): without ESN the 32 bits themselves;
     * with ESN the high half that puts it in or just right of the window. With the window off, half the 32-bit space
     * behind the top counts as behind.
     */
    public long infer(int sequenceLow, boolean esn) {
        long low = sequenceLow & SEQ_LOW_MASK;
        if (!esn) {
            return low;
        }
        long current = top.get();
        long topHigh = current >>> 32;
        long topLow = current & SEQ_LOW_MASK;
        long width = size == 0 ? ESN_INFERENCE_WINDOW_WHEN_OFF : size;
        long high;
        if (topLow >= width - 1) {
            high = low >= topLow - width + 1 ? topHigh : topHigh + 1;
        } else {
            high = low >= ((topLow - width + 1) & SEQ_LOW_MASK) && topHigh > 0 ? topHigh - 1 : topHigh;
        }
        return high << 32 | low;
    }

    /**
     * Whether a packet with this sequence number may be processed: the cheap check before the ICV. Reads only.
     *
     * @return {@link EspResult#OK}, {@link EspResult#REPLAYED} or {@link EspResult#OUTSIDE_WINDOW}
     */
    public EspResult check(long sequence) {
        if (size == 0) {
            return EspResult.OK;
        }
        if (sequence == 0) {
            return EspResult.OUTSIDE_WINDOW;
        }
        long current = top.get();
        if (sequence > current) {
            return EspResult.OK;
        }
        if (current - sequence >= size) {
            return EspResult.OUTSIDE_WINDOW;
        }
        long block = sequence >>> BLOCK_SHIFT;
        long slot = slots.get((int) block & slotMask);
        long age = age(block, slot);
        if (age == 0) {
            return (slot & bit(sequence)) != 0 ? EspResult.REPLAYED : EspResult.OK;
        }
        return holdsNewerBlock(block, age) ? EspResult.OUTSIDE_WINDOW : EspResult.OK;
    }

    /**
     * Records a packet whose ICV verified, moving the right edge if it is the newest. Of several threads accepting
     * the same number, exactly one gets {@link EspResult#OK}.
     *
     * @return {@link EspResult#OK}, or {@link EspResult#REPLAYED} / {@link EspResult#OUTSIDE_WINDOW} when another
     *         thread won the race or moved the window past it
     */
    public EspResult accept(long sequence) {
        if (size == 0) {
            raiseTop(sequence);
            return EspResult.OK;
        }
        if (sequence == 0) {
            return EspResult.OUTSIDE_WINDOW;
        }
        long current = top.get();
        if (sequence <= current && current - sequence >= size) {
            return EspResult.OUTSIDE_WINDOW;
        }
        raiseTop(sequence);
        long block = sequence >>> BLOCK_SHIFT;
        int index = (int) block & slotMask;
        long bit = bit(sequence);
        long fresh = block << TAG_SHIFT | bit;
        while (true) {
            long slot = slots.get(index);
            long age = age(block, slot);
            if (age != 0 && holdsNewerBlock(block, age)) {
                return EspResult.OUTSIDE_WINDOW;
            }
            if (age == 0) {
                if ((slot & bit) != 0) {
                    return EspResult.REPLAYED;
                }
                if (slots.compareAndSet(index, slot, slot | bit)) {
                    break;
                }
            } else if (slots.compareAndSet(index, slot, fresh)) {
                break;
            }
        }
        return EspResult.OK;
    }

    /**
     * Whether a slot whose tag differs from {@code block} by {@code age} (48-bit wrap) holds a newer block. A newer
     * block is never beyond the top read after the slot, because {@link #accept} raises the top before it writes a
     * slot; a tag that would lie beyond it is stale (the initial 0, or from before a jump of 2^47 blocks).
     */
    private boolean holdsNewerBlock(long block, long age) {
        return age < 0 && block - age <= top.get() >>> BLOCK_SHIFT;
    }

    private void raiseTop(long sequence) {
        long current = top.get();
        while (sequence > current && !top.compareAndSet(current, sequence)) {
            current = top.get();
        }
    }

    /** How many blocks the slot's tag lies behind {@code block}, from 48-bit tags with wrap-around. */
    private static long age(long block, long slot) {
        return (block - (slot >>> TAG_SHIFT)) << TAG_SHIFT >> TAG_SHIFT;
    }

    private static long bit(long sequence) {
        return 1L << (sequence & BLOCK_MASK);
    }
}
