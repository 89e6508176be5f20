package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.vnetd.flowtable.FlowTablePropertyTest.Key;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Per-origin flow counts and quotas ({@code max_flows}) against a model: a map from key to (origin, last seen). The
 * count of an origin follows inserts, removals, sweeps and early drops; a new flow is refused exactly when its
 * origin holds its limit, an existing one is found whatever the count.
 */
class FlowTableQuotaPropertyTest {
    private static final int KEYS = 32;
    private static final int ORIGINS = 3;
    private static final long T0 = 1_700_000_000_000L;
    private static final FlowTimeouts TIMEOUTS = new FlowTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(5),
            Duration.ofSeconds(3), Duration.ofSeconds(2));

    sealed interface Op permits Insert, Remove, Sweep {
    }

    record Insert(int key, int origin) implements Op {
    }

    record Remove(int key) implements Op {
    }

    record Sweep(int advanceMillis) implements Op {
    }

    record Flow(int origin, long lastSeen) {
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Integer> key = Arbitraries.integers().between(0, KEYS - 1);
        Arbitrary<Op> insert = key.flatMap(k -> Arbitraries.integers().between(0, ORIGINS - 1)
                .map(o -> new Insert(k, o)));
        Arbitrary<Op> remove = key.map(Remove::new);
        Arbitrary<Op> sweep = Arbitraries.integers().between(0, 4000).map(Sweep::new);
        return Arbitraries.frequencyOf(Tuple.of(6, insert), Tuple.of(1, remove), Tuple.of(2, sweep)).list()
                .ofMaxSize(80);
    }

    @Property(tries = 300)
    void shouldCountLiveFlowsPerOriginAndRefuseNewFlowsAtTheLimit(@ForAll("operations") List<Op> ops,
                                                                  @ForAll @IntRange(min = 0, max = 6) int limit) {
        Map<Integer, Flow> model = new HashMap<>();
        long now = T0;
        try (FlowTable table = FlowTable.allocate(4 * KEYS, TIMEOUTS)) {
            for (Op op : ops) {
                switch (op) {
                    case Insert(int k, int origin) -> {
                        Key key = Key.of(k);
                        long handle = table.insert(key.vn(), key.family(), key.proto(), key.srcHigh(), key.srcLow(),
                                key.dstHigh(), key.dstLow(), key.sport(), key.dport(), origin, 0, FlowTable.NO_PORT,
                                0, now, limit);
                        if (model.containsKey(k)) {
                            assertTrue(handle >= 0 && !FlowTable.created(handle), op + ": existing flow found");
                        } else if (count(model, origin) >= limit) {
                            assertEquals(FlowTable.QUOTA_EXCEEDED, handle, op.toString());
                        } else {
                            assertTrue(FlowTable.created(handle), op.toString());
                            model.put(k, new Flow(origin, now));
                        }
                    }
                    case Remove(int k) -> assertEquals(model.remove(k) != null,
                            table.remove(Key.of(k).lookup(table)), op.toString());
                    case Sweep(int advance) -> {
                        now += advance;
                        long at = now;
                        model.entrySet().removeIf(e -> at - e.getValue().lastSeen()
                                >= Key.of(e.getKey()).timeoutMillis());
                        table.sweep(now);
                    }
                }
                for (int origin = 0; origin < ORIGINS; origin++) {
                    assertEquals(count(model, origin), table.liveFlows(origin), "origin " + origin + " after " + op);
                }
                assertEquals(model.size(), table.liveFlows());
            }
        }
    }

    private static long count(Map<Integer, Flow> model, int origin) {
        return model.values().stream().filter(f -> f.origin() == origin).count();
    }

    @Test
    void shouldGiveBackTheQuotaOfAFlowEvictedToMakeRoom() {
        try (FlowTable table = FlowTable.allocate(8, TIMEOUTS)) {
            for (int k = 0; k < 8; k++) {
                Key key = Key.of(k);
                table.insert(key.vn(), key.family(), key.proto(), key.srcHigh(), key.srcLow(), key.dstHigh(),
                        key.dstLow(), key.sport(), key.dport(), 1, 0, FlowTable.NO_PORT, 0, T0 + k, 8);
            }
            assertEquals(8, table.liveFlows(1));
            Key ninth = Key.of(8);
            long handle = table.insert(ninth.vn(), ninth.family(), ninth.proto(), ninth.srcHigh(), ninth.srcLow(),
                    ninth.dstHigh(), ninth.dstLow(), ninth.sport(), ninth.dport(), 2, 0, FlowTable.NO_PORT, 0,
                    T0 + 9, FlowTable.NO_QUOTA);

            assertTrue(FlowTable.created(handle), "an unreplied flow of origin 1 made room");
            assertEquals(7, table.liveFlows(1));
            assertEquals(1, table.liveFlows(2));
            assertEquals(1, table.evictions(EvictionReason.EARLY_DROP));
        }
    }
}
