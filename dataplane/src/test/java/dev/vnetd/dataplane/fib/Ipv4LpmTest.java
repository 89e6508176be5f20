package dev.vnetd.dataplane.fib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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

class Ipv4LpmTest {

    /** The reference model: every route in a map, a lookup scans them all for the longest match. */
    static final class Reference {
        final Map<Long, Integer> routes = new HashMap<>();

        static long key(int prefix, int length) {
            return (long) (prefix & Ipv4Lpm.mask(length)) << 8 | length;
        }

        void add(int prefix, int length, int value) {
            routes.put(key(prefix, length), value);
        }

        boolean remove(int prefix, int length) {
            return routes.remove(key(prefix, length)) != null;
        }

        int lookup(int address) {
            int bestLength = -1;
            int best = Ipv4Lpm.NO_ROUTE;
            for (Map.Entry<Long, Integer> e : routes.entrySet()) {
                int length = (int) (e.getKey() & 0xFF);
                int prefix = (int) (e.getKey() >>> 8);
                if (length > bestLength && ((address ^ prefix) & Ipv4Lpm.mask(length)) == 0) {
                    bestLength = length;
                    best = e.getValue();
                }
            }
            return best;
        }
    }

    record Route(int prefix, int length, int value) {
    }

    record Op(boolean add, Route route) {
    }

    /** Prefixes clustered under a few /8s and /16s so that routes nest and share nodes, plus uniform ones. */
    @Provide
    Arbitrary<Integer> addresses() {
        return Arbitraries.oneOf(
                Arbitraries.integers().between(0, 3).map(i -> 0x0A00_0000 | i << 16),
                Arbitraries.integers().between(0, 0xFFFF).map(low -> 0x0A01_0000 | low),
                Arbitraries.integers().between(0, 0xFF_FFFF).map(low -> 0xC000_0000 | low),
                Arbitraries.integers());
    }

    @Provide
    Arbitrary<Route> routes() {
        return Combinators.combine(addresses(), Arbitraries.integers().between(0, 32),
                Arbitraries.integers().between(0, Ipv4Lpm.MAX_VALUE)).as(Route::new);
    }

    @Provide
    Arbitrary<List<Route>> tables() {
        return Arbitraries.oneOf(routes().list().ofMaxSize(40), routes().list().ofMinSize(100).ofMaxSize(400));
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        return Combinators.combine(Arbitraries.of(true, true, false), routes()).as(Op::new).list().ofMaxSize(300);
    }

    @Property(tries = 60)
    void shouldAnswerLikeTheReferenceWhenBuiltInBulk(@ForAll("tables") List<Route> table,
            @ForAll("addresses") int probe) {
        Reference reference = new Reference();
        int[] prefixes = new int[table.size()];
        int[] lengths = new int[table.size()];
        int[] values = new int[table.size()];
        for (int i = 0; i < table.size(); i++) {
            Route r = table.get(i);
            prefixes[i] = r.prefix();
            lengths[i] = r.length();
            values[i] = r.value();
            reference.add(r.prefix(), r.length(), r.value());
        }
        Ipv4Lpm lpm = Ipv4Lpm.build(prefixes, lengths, values, table.size());
        assertEquals(reference.routes.size(), lpm.size());
        List<Integer> probes = probesFor(table, probe);
        int[] batch = probes.stream().mapToInt(Integer::intValue).toArray();
        int[] results = new int[batch.length];
        lpm.lookup(batch, results, batch.length);
        for (int i = 0; i < batch.length; i++) {
            int address = batch[i];
            int expected = reference.lookup(address);
            assertEquals(expected, lpm.lookup(address), () -> "address " + Integer.toHexString(address));
            assertEquals(expected, results[i], () -> "batch lookup of " + Integer.toHexString(address));
            assertEquals(expected, lpm.view().lookup(address), () -> "view lookup of " + Integer.toHexString(address));
        }
    }

    @Property(tries = 60)
    void shouldAnswerLikeTheReferenceAfterEveryAddAndRemove(@ForAll("operations") List<Op> ops,
            @ForAll("addresses") int probe) {
        Reference reference = new Reference();
        Ipv4Lpm lpm = new Ipv4Lpm();
        List<Route> seen = new ArrayList<>();
        for (Op op : ops) {
            Route r = op.route();
            seen.add(r);
            if (op.add()) {
                reference.add(r.prefix(), r.length(), r.value());
                lpm.add(r.prefix(), r.length(), r.value());
            } else {
                Route victim = seen.get(Math.floorMod(r.value(), seen.size()));
                assertEquals(reference.remove(victim.prefix(), victim.length()),
                        lpm.remove(victim.prefix(), victim.length()));
            }
            assertEquals(reference.routes.size(), lpm.size());
            int address = r.prefix() ^ probe >>> r.length();
            assertEquals(reference.lookup(address), lpm.lookup(address));
            assertEquals(reference.lookup(address), lpm.view().lookup(address));
        }
        Ipv4Lpm.View view = lpm.view();
        for (int address : probesFor(seen, probe)) {
            assertEquals(reference.lookup(address), lpm.lookup(address),
                    () -> "address " + Integer.toHexString(address));
            assertEquals(reference.lookup(address), view.lookup(address),
                    () -> "view lookup of " + Integer.toHexString(address));
        }
    }

    @Test
    void shouldStayCorrectAcrossEveryDirectArrayTier() {
        Random random = new Random(7);
        Reference reference = new Reference();
        Ipv4Lpm lpm = new Ipv4Lpm();
        List<Route> added = new ArrayList<>();
        for (int i = 0; i < 40_000; i++) {
            int length = 8 + random.nextInt(25);
            Route r = new Route(random.nextInt(), length, random.nextInt(1000));
            added.add(r);
            reference.add(r.prefix(), r.length(), r.value());
            lpm.add(r.prefix(), r.length(), r.value());
        }
        for (int i = 0; i < 39_000; i++) {
            Route r = added.get(random.nextInt(added.size()));
            reference.remove(r.prefix(), r.length());
            lpm.remove(r.prefix(), r.length());
        }
        assertEquals(reference.routes.size(), lpm.size());
        for (Route r : added.subList(0, 3000)) {
            int address = r.prefix() ^ random.nextInt() >>> r.length();
            assertEquals(reference.lookup(address), lpm.lookup(address));
        }
    }

    @Test
    void shouldKeepAnsweringFromAHeldViewAcrossWholeTableRebuilds() {
        Random random = new Random(5);
        Reference reference = new Reference();
        Ipv4Lpm lpm = new Ipv4Lpm();
        for (int i = 0; i < 1000; i++) {
            Route r = new Route(0x0A00_0000 | random.nextInt(1 << 24), 9 + random.nextInt(24), i);
            reference.add(r.prefix(), r.length(), r.value());
            lpm.add(r.prefix(), r.length(), r.value());
        }
        Ipv4Lpm.View held = lpm.view();
        for (int i = 0; i < 50_000; i++) {
            lpm.add(0x0B00_0000 | random.nextInt(1 << 24), 9 + random.nextInt(24), 1000 + i);
        }
        assertTrue(lpm.view() != held, "the table was rebuilt into new arrays");
        for (int i = 0; i < 10_000; i++) {
            int address = 0x0A00_0000 | random.nextInt(1 << 24);
            assertEquals(reference.lookup(address), held.lookup(address));
            assertEquals(reference.lookup(address), lpm.view().lookup(address));
        }
    }

    @Test
    void shouldAnswerNoRouteWhenEmptyAndTheDefaultRouteOtherwise() {
        Ipv4Lpm lpm = new Ipv4Lpm();
        assertEquals(Ipv4Lpm.NO_ROUTE, lpm.lookup(0x0A00_0001));
        lpm.add(0, 0, 5);
        assertEquals(5, lpm.lookup(0x0A00_0001));
        lpm.add(0x0A00_0000, 8, 6);
        lpm.add(0x0A00_0001, 32, 7);
        assertEquals(7, lpm.lookup(0x0A00_0001));
        assertEquals(6, lpm.lookup(0x0A00_0002));
        assertTrue(lpm.remove(0x0A00_0000, 8));
        assertFalse(lpm.remove(0x0A00_0000, 8));
        assertEquals(5, lpm.lookup(0x0A00_0002));
        assertEquals(2, lpm.size());
    }

    @Test
    void shouldLookInTheFallbackTableOnlyWhenNothingMatches() {
        Ipv4Lpm vn = new Ipv4Lpm();
        Ipv4Lpm fallback = new Ipv4Lpm();
        vn.add(0x0A00_0000, 8, 1);
        fallback.add(0, 0, 2);
        assertEquals(1, vn.lookup(0x0A01_0203, fallback));
        assertEquals(2, vn.lookup(0xC0A8_0001, fallback));
        assertEquals(Ipv4Lpm.NO_ROUTE, vn.lookup(0xC0A8_0001, null));
    }

    @Test
    void shouldCostAFewDozenBytesWhenEmptyAndAFewKibWithAHundredRoutes() {
        Ipv4Lpm empty = new Ipv4Lpm();
        assertTrue(empty.lookupBytes() + empty.routeStoreBytes() < 256, "empty table bytes");
        Random random = new Random(3);
        int[] prefixes = new int[100];
        int[] lengths = new int[100];
        int[] values = new int[100];
        for (int i = 0; i < 100; i++) {
            prefixes[i] = random.nextInt();
            lengths[i] = 16 + random.nextInt(9);
            values[i] = i;
        }
        Ipv4Lpm small = Ipv4Lpm.build(prefixes, lengths, values, 100);
        assertTrue(small.lookupBytes() + small.routeStoreBytes() < 16 * 1024, "100-route table bytes");
    }

    /**
     * A writer toggles a long route and a short one that spans many direct-array blocks while readers look up: every
     * answer must be the answer of one of the four versions the writer publishes, never a mix or garbage. One reader
     * looks up through the table, the other through views it takes every 64 lookups, as a worker per receive batch.
     */
    @Test
    void shouldOnlyAnswerFromPublishedVersionsWhileAWriterChurns() throws InterruptedException {
        Random random = new Random(11);
        int count = 40_000;
        int[] prefixes = new int[count];
        int[] lengths = new int[count];
        int[] values = new int[count];
        for (int i = 0; i < count; i++) {
            prefixes[i] = 0x0A00_0000 | random.nextInt(1 << 24);
            lengths[i] = 18 + random.nextInt(15);
            values[i] = i;
        }
        Ipv4Lpm lpm = Ipv4Lpm.build(prefixes, lengths, values, count);
        Route longRoute = new Route(0x0A01_0200, 24, 900_001);
        Route shortRoute = new Route(0x0A00_0000, 12, 900_002);
        int[] probes = new int[4096];
        for (int i = 0; i < probes.length; i++) {
            probes[i] = i % 2 == 0 ? 0x0A01_0200 | random.nextInt(256) : 0x0A00_0000 | random.nextInt(1 << 20);
        }
        List<Set<Integer>> allowed = new ArrayList<>();
        for (int i = 0; i < probes.length; i++) {
            allowed.add(new HashSet<>());
        }
        for (int version = 0; version < 4; version++) {
            toggle(lpm, longRoute, (version & 1) != 0);
            toggle(lpm, shortRoute, (version & 2) != 0);
            for (int i = 0; i < probes.length; i++) {
                allowed.get(i).add(lpm.lookup(probes[i]));
            }
        }
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicReference<String> failure = new AtomicReference<>();
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            boolean views = t == 1;
            Thread reader = new Thread(() -> {
                while (running.get() && failure.get() == null) {
                    Ipv4Lpm.View view = lpm.view();
                    for (int i = 0; i < probes.length; i++) {
                        if (views && i % 64 == 0) {
                            view = lpm.view();
                        }
                        int answer = views ? view.lookup(probes[i]) : lpm.lookup(probes[i]);
                        if (!allowed.get(i).contains(answer)) {
                            failure.set("address " + Integer.toHexString(probes[i]) + " answered " + answer);
                        }
                    }
                }
            });
            reader.start();
            readers.add(reader);
        }
        for (int round = 0; round < 2_000 && failure.get() == null; round++) {
            toggle(lpm, longRoute, (round & 1) != 0);
            toggle(lpm, shortRoute, (round & 2) != 0);
        }
        running.set(false);
        for (Thread reader : readers) {
            reader.join();
        }
        if (failure.get() != null) {
            fail(failure.get());
        }
    }

    private static void toggle(Ipv4Lpm lpm, Route route, boolean present) {
        if (present) {
            lpm.add(route.prefix(), route.length(), route.value());
        } else {
            lpm.remove(route.prefix(), route.length());
        }
    }

    /** Each route's first and last address, the addresses just outside it, and one address within it. */
    private static List<Integer> probesFor(List<Route> table, int probe) {
        List<Integer> probes = new ArrayList<>();
        probes.add(probe);
        for (Route r : table) {
            int first = r.prefix() & Ipv4Lpm.mask(r.length());
            int last = first | ~Ipv4Lpm.mask(r.length());
            probes.add(first);
            probes.add(last);
            probes.add(first - 1);
            probes.add(last + 1);
            probes.add(first | (probe & ~Ipv4Lpm.mask(r.length())));
        }
        return probes;
    }
}
