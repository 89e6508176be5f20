package dev.vnetd.dataplane.fib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class Ipv6LpmTest {

    record Address(long high, long low) {
        Address masked(int length) {
            return new Address(high & Ipv6Lpm.highMask(length), low & Ipv6Lpm.lowMask(length));
        }

        boolean within(Address prefix, int length) {
            return masked(length).equals(prefix.masked(length));
        }
    }

    record Route(Address prefix, int length, int value) {
    }

    record Op(boolean add, Route route) {
    }

    /** The reference model: every route in a map, a lookup scans them all for the longest match. */
    static final class Reference {
        final Map<Route, Integer> routes = new HashMap<>();

        private static Route key(Address prefix, int length) {
            return new Route(prefix.masked(length), length, 0);
        }

        void add(Route r) {
            routes.put(key(r.prefix(), r.length()), r.value());
        }

        boolean remove(Route r) {
            return routes.remove(key(r.prefix(), r.length())) != null;
        }

        int lookup(Address address) {
            int bestLength = -1;
            int best = Ipv6Lpm.NO_ROUTE;
            for (Map.Entry<Route, Integer> e : routes.entrySet()) {
                Route r = e.getKey();
                if (r.length() > bestLength && address.within(r.prefix(), r.length())) {
                    bestLength = r.length();
                    best = e.getValue();
                }
            }
            return best;
        }
    }

    /** Addresses under a few shared /32s and /48s (so routes nest and straddle the two longs), plus uniform ones. */
    @Provide
    Arbitrary<Address> addresses() {
        Arbitrary<Long> anyLong = Arbitraries.longs();
        return Arbitraries.oneOf(
                anyLong.map(low -> new Address(0x2001_0db8_0000_0000L, low)),
                Combinators.combine(Arbitraries.longs().between(0, 0xFFFF), anyLong)
                        .as((mid, low) -> new Address(0x2001_0db8_0000_0000L | mid << 16, low)),
                Combinators.combine(Arbitraries.longs().between(0, 15), anyLong)
                        .as((bits, low) -> new Address(0x2a00_0000_0000_0000L | bits, low >>> 3)),
                Combinators.combine(anyLong, anyLong).as(Address::new));
    }

    @Provide
    Arbitrary<Route> routes() {
        return Combinators.combine(addresses(), Arbitraries.integers().between(0, 128),
                Arbitraries.integers().between(0, Ipv6Lpm.MAX_VALUE)).as(Route::new);
    }

    @Provide
    Arbitrary<List<Route>> tables() {
        return Arbitraries.oneOf(routes().list().ofMaxSize(40), routes().list().ofMinSize(100).ofMaxSize(300));
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        return Combinators.combine(Arbitraries.of(true, true, false), routes()).as(Op::new).list().ofMaxSize(250);
    }

    @Property(tries = 50)
    void shouldAnswerLikeTheReferenceWhenBuiltInBulk(@ForAll("tables") List<Route> table,
            @ForAll("addresses") Address probe) {
        Reference reference = new Reference();
        int n = table.size();
        long[] highs = new long[n];
        long[] lows = new long[n];
        int[] lengths = new int[n];
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            Route r = table.get(i);
            highs[i] = r.prefix().high();
            lows[i] = r.prefix().low();
            lengths[i] = r.length();
            values[i] = r.value();
            reference.add(r);
        }
        Ipv6Lpm lpm = Ipv6Lpm.build(highs, lows, lengths, values, n);
        assertEquals(reference.routes.size(), lpm.size());
        List<Address> probes = probesFor(table, probe);
        long[] batchHighs = probes.stream().mapToLong(Address::high).toArray();
        long[] batchLows = probes.stream().mapToLong(Address::low).toArray();
        int[] results = new int[probes.size()];
        lpm.lookup(batchHighs, batchLows, results, probes.size());
        for (int i = 0; i < probes.size(); i++) {
            Address a = probes.get(i);
            int expected = reference.lookup(a);
            assertEquals(expected, lpm.lookup(a.high(), a.low()), () -> "address " + a);
            assertEquals(expected, results[i], () -> "batch lookup of " + a);
        }
    }

    @Property(tries = 50)
    void shouldAnswerLikeTheReferenceAfterEveryAddAndRemove(@ForAll("operations") List<Op> ops,
            @ForAll("addresses") Address probe) {
        Reference reference = new Reference();
        Ipv6Lpm lpm = new Ipv6Lpm();
        List<Route> seen = new ArrayList<>();
        for (Op op : ops) {
            Route r = op.route();
            seen.add(r);
            if (op.add()) {
                reference.add(r);
                lpm.add(r.prefix().high(), r.prefix().low(), r.length(), r.value());
            } else {
                Route victim = seen.get(Math.floorMod(r.value(), seen.size()));
                assertEquals(reference.remove(victim),
                        lpm.remove(victim.prefix().high(), victim.prefix().low(), victim.length()));
            }
            assertEquals(reference.routes.size(), lpm.size());
        }
        for (Address a : probesFor(seen, probe)) {
            assertEquals(reference.lookup(a), lpm.lookup(a.high(), a.low()), () -> "address " + a);
        }
    }

    @Test
    void shouldStayCorrectAcrossEveryDirectArrayTier() {
        Random random = new Random(5);
        List<Route> routes = new ArrayList<>();
        for (int i = 0; i < 40_000; i++) {
            Address a = new Address(0x2000_0000_0000_0000L | random.nextLong() >>> 3, random.nextLong());
            routes.add(new Route(a, 16 + random.nextInt(49), random.nextInt(1000)));
        }
        Reference grown = new Reference();
        Ipv6Lpm incremental = new Ipv6Lpm();
        for (Route r : routes.subList(0, 5000)) {
            grown.add(r);
            incremental.add(r.prefix().high(), r.prefix().low(), r.length(), r.value());
        }
        assertAgrees(grown, incremental, routes.subList(0, 1000), random);

        Reference shrunk = new Reference();
        int n = routes.size();
        long[] highs = new long[n];
        long[] lows = new long[n];
        int[] lengths = new int[n];
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            Route r = routes.get(i);
            highs[i] = r.prefix().high();
            lows[i] = r.prefix().low();
            lengths[i] = r.length();
            values[i] = r.value();
            shrunk.add(r);
        }
        Ipv6Lpm bulk = Ipv6Lpm.build(highs, lows, lengths, values, n);
        for (Route r : routes.subList(0, 39_000)) {
            assertEquals(shrunk.remove(r), bulk.remove(r.prefix().high(), r.prefix().low(), r.length()));
        }
        assertEquals(shrunk.routes.size(), bulk.size());
        assertAgrees(shrunk, bulk, routes.subList(38_000, 40_000), random);
    }

    private static void assertAgrees(Reference reference, Ipv6Lpm lpm, List<Route> near, Random random) {
        for (Route r : near) {
            Address a = new Address(r.prefix().high() ^ (random.nextLong() & ~Ipv6Lpm.highMask(r.length())),
                    r.prefix().low() ^ (random.nextLong() & ~Ipv6Lpm.lowMask(r.length())));
            assertEquals(reference.lookup(a), lpm.lookup(a.high(), a.low()));
        }
    }

    @Test
    void shouldMatchTheDefaultRouteAndHostRoutes() {
        Ipv6Lpm lpm = new Ipv6Lpm();
        assertEquals(Ipv6Lpm.NO_ROUTE, lpm.lookup(1, 1));
        lpm.add(0, 0, 0, 1);
        lpm.add(0x2001_0db8_0000_0000L, 0, 32, 2);
        lpm.add(0x2001_0db8_0000_0000L, 1, 128, 3);
        assertEquals(3, lpm.lookup(0x2001_0db8_0000_0000L, 1));
        assertEquals(2, lpm.lookup(0x2001_0db8_0000_0000L, 2));
        assertEquals(1, lpm.lookup(0x2001_0db9_0000_0000L, 1));
        assertTrue(lpm.remove(0x2001_0db8_0000_0000L, 1, 128));
        assertFalse(lpm.remove(0x2001_0db8_0000_0000L, 1, 128));
        assertEquals(2, lpm.lookup(0x2001_0db8_0000_0000L, 1));
    }

    @Test
    void shouldLookInTheFallbackTableOnlyWhenNothingMatches() {
        Ipv6Lpm vn = new Ipv6Lpm();
        Ipv6Lpm fallback = new Ipv6Lpm();
        vn.add(0x2001_0db8_0000_0000L, 0, 32, 1);
        fallback.add(0, 0, 0, 2);
        assertEquals(1, vn.lookup(0x2001_0db8_0001_0000L, 5, fallback));
        assertEquals(2, vn.lookup(0x2a00_0000_0000_0000L, 5, fallback));
    }

    /**
     * A writer toggles a /64 (below skip nodes of the sparse table) and a /12 that spans sixteen direct-array blocks
     * while a reader looks up: every answer must be the answer of one of the four versions the writer publishes.
     */
    @Test
    void shouldOnlyAnswerFromPublishedVersionsWhileAWriterChurns() throws InterruptedException {
        Random random = new Random(13);
        int count = 40_000;
        long[] highs = new long[count];
        long[] lows = new long[count];
        int[] lengths = new int[count];
        int[] values = new int[count];
        for (int i = 0; i < count; i++) {
            highs[i] = 0x2000_0000_0000_0000L | random.nextLong() >>> 3;
            lows[i] = random.nextLong();
            lengths[i] = 24 + random.nextInt(105);
            values[i] = i;
        }
        Ipv6Lpm lpm = Ipv6Lpm.build(highs, lows, lengths, values, count);
        Route longRoute = new Route(new Address(highs[7], 0), 64, 900_001);
        Route shortRoute = new Route(new Address(highs[11], 0), 12, 900_002);
        Address[] probes = new Address[2048];
        for (int i = 0; i < probes.length; i++) {
            probes[i] = i % 2 == 0 ? new Address(highs[7], random.nextLong())
                    : new Address(highs[11] & 0xFFF0_0000_0000_0000L | random.nextLong() >>> 12, random.nextLong());
        }
        List<Set<Integer>> allowed = new ArrayList<>();
        for (int i = 0; i < probes.length; i++) {
            allowed.add(new HashSet<>());
        }
        for (int version = 0; version < 4; version++) {
            toggle(lpm, longRoute, (version & 1) != 0);
            toggle(lpm, shortRoute, (version & 2) != 0);
            for (int i = 0; i < probes.length; i++) {
                allowed.get(i).add(lpm.lookup(probes[i].high(), probes[i].low()));
            }
        }
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicReference<String> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            while (running.get() && failure.get() == null) {
                for (int i = 0; i < probes.length; i++) {
                    int answer = lpm.lookup(probes[i].high(), probes[i].low());
                    if (!allowed.get(i).contains(answer)) {
                        failure.set("address " + probes[i] + " answered " + answer);
                    }
                }
            }
        });
        reader.start();
        for (int round = 0; round < 2_000 && failure.get() == null; round++) {
            toggle(lpm, longRoute, (round & 1) != 0);
            toggle(lpm, shortRoute, (round & 2) != 0);
        }
        running.set(false);
        reader.join();
        assertEquals(null, failure.get());
    }

    private static void toggle(Ipv6Lpm lpm, Route route, boolean present) {
        if (present) {
            lpm.add(route.prefix().high(), route.prefix().low(), route.length(), route.value());
        } else {
            lpm.remove(route.prefix().high(), route.prefix().low(), route.length());
        }
    }

    /** Each route's first and last address, the addresses just outside it, and one address within it. */
    private static List<Address> probesFor(List<Route> table, Address probe) {
        List<Address> probes = new ArrayList<>();
        probes.add(probe);
        for (Route r : table) {
            long hm = Ipv6Lpm.highMask(r.length());
            long lm = Ipv6Lpm.lowMask(r.length());
            Address first = r.prefix().masked(r.length());
            Address last = new Address(first.high() | ~hm, first.low() | ~lm);
            probes.add(first);
            probes.add(last);
            probes.add(first.low() == 0 ? new Address(first.high() - 1, -1L) : new Address(first.high(),
                    first.low() - 1));
            probes.add(last.low() == -1L ? new Address(last.high() + 1, 0) : new Address(last.high(), last.low() + 1));
            probes.add(new Address(first.high() | (probe.high() & ~hm), first.low() | (probe.low() & ~lm)));
        }
        return probes;
    }
}
