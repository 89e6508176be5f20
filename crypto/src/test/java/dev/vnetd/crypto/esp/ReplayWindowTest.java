package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class ReplayWindowTest {
    /** The reference model: RFC 4303 3.4.3 with a set instead of a bitmap. */
    private static final class Model {
        private final int size;
        private final Set<Long> seen = new HashSet<>();
        private long top;

        Model(int size) {
            this.size = size;
        }

        EspResult check(long sequence) {
            if (size == 0) {
                return EspResult.OK;
            }
            if (sequence == 0 || sequence <= top && top - sequence >= size) {
                return EspResult.OUTSIDE_WINDOW;
            }
            return seen.contains(sequence) ? EspResult.REPLAYED : EspResult.OK;
        }

        EspResult accept(long sequence) {
            EspResult result = check(sequence);
            if (result == EspResult.OK) {
                seen.add(sequence);
                top = Math.max(top, sequence);
            }
            return result;
        }
    }

    /** A step relative to the model's top: near, duplicate-prone, far old or far future. */
    @Provide
    Arbitrary<List<Long>> steps() {
        Arbitrary<Long> near = Arbitraries.longs().between(-80, 80);
        Arbitrary<Long> farOld = Arbitraries.longs().between(-10_000, -4_000);
        Arbitrary<Long> farFuture = Arbitraries.longs().between(1_000, 1_000_000);
        return Arbitraries.frequencyOf(
                Tuple.of(8, near),
                Tuple.of(1, farOld),
                Tuple.of(1, farFuture))
                .list().ofMinSize(1).ofMaxSize(400);
    }

    @Property(tries = 300)
    void shouldAgreeWithTheReferenceModel(@ForAll("steps") List<Long> steps,
                                          @ForAll("sizes") int size,
                                          @ForAll @LongRange(min = 0, max = 1L << 40) long start) {
        ReplayWindow window = new ReplayWindow(size);
        Model model = new Model(size);
        for (long step : steps) {
            long sequence = Math.max(0, model.top + step + (model.top == 0 ? start : 0));
            assertEquals(model.check(sequence), window.check(sequence), () -> "check " + sequence);
            assertEquals(model.accept(sequence), window.accept(sequence), () -> "accept " + sequence);
            assertEquals(model.top, window.top());
        }
    }

    @Provide
    Arbitrary<Integer> sizes() {
        return Arbitraries.of(0, 1, 31, 32, 33, 64, 100, 1024, 4096);
    }

    @Property(tries = 300)
    void shouldInferTheHighHalfAcrossTheEsnWrap(@ForAll @IntRange(min = 1, max = 4096) int size,
                                                @ForAll @LongRange(min = -5_000, max = 5_000) long topFromWrap,
                                                @ForAll @IntRange(min = -4095, max = 100_000) int delta) {
        long top = (3L << 32) + topFromWrap;
        ReplayWindow window = new ReplayWindow(size);
        window.accept(top);
        long sent = top + Math.max(delta, -(size - 1));

        assertEquals(sent, window.infer((int) sent, true));
    }

    @Test
    void shouldTreatPacketsLeftOfAWindowThatSpansTheWrapAsTheEarlierEpoch() {
        ReplayWindow window = new ReplayWindow(64);
        window.accept((1L << 32) + 5);

        assertEquals((1L << 32) - 3, window.infer(-3, true));
        assertEquals((1L << 32) + 2, window.infer(2, true));
        assertEquals((1L << 32) + 1000, window.infer(1000, true));
        assertEquals(EspResult.OK, window.check((1L << 32) - 3));
    }

    @Test
    void shouldUseTheLowBitsAloneWithoutEsn() {
        ReplayWindow window = new ReplayWindow(64);
        window.accept(0xFFFF_FFF0L);

        assertEquals(0xFFFF_FFFFL, window.infer(-1, false));
        assertEquals(3L, window.infer(3, false));
    }

    @Test
    void shouldAcceptEachNumberExactlyOnceWhenTwoThreadsReceiveTheSameStream() throws InterruptedException {
        int count = 200_000;
        ReplayWindow window = new ReplayWindow(64);
        AtomicIntegerArray accepted = new AtomicIntegerArray(count + 1);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                awaitQuietly(start);
                for (int sequence = 1; sequence <= count; sequence++) {
                    if (window.check(sequence) == EspResult.OK && window.accept(sequence) == EspResult.OK) {
                        accepted.incrementAndGet(sequence);
                    }
                }
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }

        for (int sequence = 1; sequence <= count; sequence++) {
            assertEquals(1, accepted.get(sequence), "sequence " + sequence);
        }
        assertEquals(count, window.top());
    }

    @Test
    void shouldNeverAcceptANumberTwiceWhenTwoThreadsReceiveReorderedDuplicates() throws InterruptedException {
        int count = 100_000;
        ReplayWindow window = new ReplayWindow(128);
        AtomicIntegerArray accepted = new AtomicIntegerArray(count + 200);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int seed = t;
            threads.add(Thread.ofPlatform().start(() -> {
                awaitQuietly(start);
                java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
                for (int i = 1; i <= count; i++) {
                    long sequence = Math.max(1, i + random.nextInt(-150, 150));
                    if (window.accept(sequence) == EspResult.OK) {
                        accepted.incrementAndGet((int) sequence);
                    }
                }
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }

        for (int sequence = 1; sequence < accepted.length(); sequence++) {
            assertEquals(true, accepted.get(sequence) <= 1, "sequence " + sequence + " accepted twice");
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
