package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IcmpErrorsTest {
    private static final long SECOND = 1_000_000_000L;
    private static final String[] SOURCES = {"192.168.10.5", "192.168.10.6", "10.9.8.7", "fd00::5", "fd00::6",
        "fd00:1::5"};

    /** One packet that wants an error: its source (index into {@link #SOURCES}) and the time since the last. */
    record Event(int source, long gapNanos) {
    }

    @Test
    void shouldGiveEachSourceItsBurstThenItsRate() {
        IcmpErrors limiter = new IcmpErrors();
        InnerPacket a = packet(SOURCES[0]);
        long now = 5 * SECOND;
        for (int i = 0; i < IcmpErrors.SOURCE_BURST; i++) {
            assertTrue(limiter.allow(a, now), "burst " + i);
        }
        assertFalse(limiter.allow(a, now));
        assertTrue(limiter.allow(packet(SOURCES[3]), now), "an IPv6 source has its own bucket");
        assertTrue(limiter.allow(a, now + SECOND / IcmpErrors.SOURCE_RATE_PER_SECOND), "one token a tenth second");
        assertFalse(limiter.allow(a, now + SECOND / IcmpErrors.SOURCE_RATE_PER_SECOND));
    }

    @Test
    void shouldHashIpv6SourcesOverTheWholeAddress() {
        assertTrue(IcmpErrors.sourceIndex(packet("fd00::5")) != IcmpErrors.sourceIndex(packet("fd00::6"))
                || IcmpErrors.sourceIndex(packet("fd00::5")) != IcmpErrors.sourceIndex(packet("fd00:1::5")));
    }

    @Property
    void shouldDecideAsIndependentTokenBucketsPerSourceAndOverall(@ForAll("events") List<Event> events) {
        IcmpErrors limiter = new IcmpErrors();
        Model model = new Model();
        InnerPacket[] packets = new InnerPacket[SOURCES.length];
        for (int i = 0; i < SOURCES.length; i++) {
            packets[i] = packet(SOURCES[i]);
        }
        long now = 1000 * SECOND;
        for (Event e : events) {
            now += e.gapNanos();
            int bucket = IcmpErrors.sourceIndex(packets[e.source()]);
            assertEquals(model.allow(bucket, now), limiter.allow(packets[e.source()], now), "at " + now);
        }
    }

    @Provide
    Arbitrary<List<Event>> events() {
        Arbitrary<Integer> source = Arbitraries.integers().between(0, SOURCES.length - 1);
        Arbitrary<Long> gap = Arbitraries.oneOf(Arbitraries.just(0L),
                Arbitraries.longs().between(0, SECOND / 100),
                Arbitraries.longs().between(0, 2 * SECOND));
        return Combinators.combine(source, gap).as(Event::new).list().ofMaxSize(300);
    }

    /**
     * The reference: token buckets counting whole tokens and the nanoseconds towards the next one, refilled lazily,
     * capped at the burst; one per source bucket index and one overall; an error takes a token from both or none.
     */
    static final class Model {
        private final Map<Integer, long[]> sources = new HashMap<>();
        private final long[] global = {IcmpErrors.BURST, 0, -1};

        boolean allow(int bucket, long now) {
            long[] source = sources.computeIfAbsent(bucket, b -> new long[] {IcmpErrors.SOURCE_BURST, 0, -1});
            refill(source, now, SECOND / IcmpErrors.SOURCE_RATE_PER_SECOND, IcmpErrors.SOURCE_BURST);
            refill(global, now, SECOND / IcmpErrors.RATE_PER_SECOND, IcmpErrors.BURST);
            if (source[0] == 0 || global[0] == 0) {
                return false;
            }
            source[0]--;
            global[0]--;
            return true;
        }

        /** bucket = {tokens, nanos accumulated towards the next token, time of the last refill}. */
        private static void refill(long[] bucket, long now, long interval, int burst) {
            if (bucket[2] >= 0) {
                bucket[1] += now - bucket[2];
                long whole = bucket[1] / interval;
                bucket[0] += whole;
                bucket[1] -= whole * interval;
                if (bucket[0] >= burst) {
                    bucket[0] = burst;
                    bucket[1] = 0;
                }
            }
            bucket[2] = now;
        }
    }

    private static InnerPacket packet(String source) {
        String destination = source.contains(":") ? "fd00:10::3" : "10.1.2.3";
        ByteBuf buf = new PacketBuilder().ip(source, destination, 1).udp(1, 2, new byte[4])
                .build(UnpooledByteBufAllocator.DEFAULT);
        InnerPacket packet = new InnerPacket();
        assertTrue(packet.parse(buf, 0, buf.writerIndex(), source.contains(":")));
        buf.release();
        return packet;
    }
}
