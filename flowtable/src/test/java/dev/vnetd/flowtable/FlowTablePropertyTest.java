package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/** The flow table against a HashMap model, on keys that differ in one field at a time. */
class FlowTablePropertyTest {
    private static final int KEYS = 32;
    private static final long T0 = 1_700_000_000_000L;
    private static final FlowTimeouts TIMEOUTS = new FlowTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(5),
            Duration.ofSeconds(3), Duration.ofSeconds(2));

    sealed interface Op permits Insert, Touch, Remove, Sweep {
    }

    record Insert(int key, int origin) implements Op {
    }

    record Touch(int key, boolean fromOrigin, int bytes) implements Op {
    }

    record Remove(int key) implements Op {
    }

    record Sweep(int advanceMillis) implements Op {
    }

    /** Key number i: bit 0 vn, bit 1 family, bit 2 proto, bits 3-4 source port; addresses equal otherwise. */
    record Key(int vn, int family, int proto, long srcHigh, long srcLow, long dstHigh, long dstLow, int sport,
            int dport) {
        static Key of(int i) {
            int family = (i & 2) == 0 ? FlowTable.FAMILY_IPV4 : FlowTable.FAMILY_IPV6;
            long high = family == FlowTable.FAMILY_IPV6 ? 0x2001_0db8_0000_0000L : 0;
            return new Key(i & 1, family, (i & 4) == 0 ? FlowTable.PROTO_UDP : FlowTable.PROTO_TCP, high,
                    0x0A00_0105L, high, 0xC0A8_0A0AL, 1000 + (i >> 3), 443);
        }

        long lookup(FlowTable table) {
            return table.lookup(vn, family, proto, srcHigh, srcLow, dstHigh, dstLow, sport, dport);
        }

        long insert(FlowTable table, int origin, long now) {
            return table.insert(vn, family, proto, srcHigh, srcLow, dstHigh, dstLow, sport, dport, origin,
                    origin + 1000, FlowTable.NO_PORT, proto == FlowTable.PROTO_TCP ? TcpState.FLAG_ACK : 0, now);
        }

        long timeoutMillis() {
            return TIMEOUTS.millisFor(proto, TcpState.ESTABLISHED);
        }
    }

    static final class Model {
        int origin;
        long lastSeen;
        long packetsForward;
        long bytesForward;
        long packetsReverse;
        long bytesReverse;
        boolean replied;
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Integer> key = Arbitraries.integers().between(0, KEYS - 1);
        Arbitrary<Op> insert = key.flatMap(k -> Arbitraries.integers().between(1, 9).map(o -> new Insert(k, o)));
        Arbitrary<Op> touch = key.flatMap(k -> Arbitraries.of(true, false).flatMap(
                dir -> Arbitraries.integers().between(40, 1500).map(b -> new Touch(k, dir, b))));
        Arbitrary<Op> remove = key.map(Remove::new);
        Arbitrary<Op> sweep = Arbitraries.integers().between(0, 4000).map(Sweep::new);
        return Arbitraries.frequencyOf(
                Tuple.of(4, insert), Tuple.of(4, touch),
                Tuple.of(1, remove), Tuple.of(2, sweep)).list().ofMaxSize(60);
    }

    @Property(tries = 300)
    void shouldBehaveLikeAHashMapWithExpiry(@ForAll("operations") List<Op> ops) {
        Map<Integer, Model> model = new HashMap<>();
        long now = T0;
        try (FlowTable table = FlowTable.allocate(2 * KEYS, TIMEOUTS)) {
            for (Op op : ops) {
                switch (op) {
                    case Insert(int k, int origin) -> {
                        long handle = Key.of(k).insert(table, origin, now);
                        assertEquals(!model.containsKey(k), FlowTable.created(handle), op.toString());
                        if (!model.containsKey(k)) {
                            Model flow = new Model();
                            flow.origin = origin;
                            flow.lastSeen = now;
                            model.put(k, flow);
                        }
                    }
                    case Touch(int k, boolean fromOrigin, int bytes) -> {
                        long handle = Key.of(k).lookup(table);
                        Model flow = model.get(k);
                        assertEquals(flow != null, handle >= 0, op.toString());
                        if (flow != null) {
                            table.touch(FlowTable.slot(handle), fromOrigin, bytes, 0, now);
                            flow.lastSeen = now;
                            flow.replied |= !fromOrigin;
                            if (fromOrigin) {
                                flow.packetsForward++;
                                flow.bytesForward += bytes;
                            } else {
                                flow.packetsReverse++;
                                flow.bytesReverse += bytes;
                            }
                        }
                    }
                    case Remove(int k) -> assertEquals(model.remove(k) != null, table.remove(Key.of(k).lookup(table)));
                    case Sweep(int advance) -> {
                        now += advance;
                        long at = now;
                        int before = model.size();
                        model.entrySet().removeIf(
                                e -> at - e.getValue().lastSeen >= Key.of(e.getKey()).timeoutMillis());
                        assertEquals(before - model.size(), table.sweep(now), op.toString());
                    }
                }
                check(table, model, now);
            }
        }
    }

    private static void check(FlowTable table, Map<Integer, Model> model, long now) {
        assertEquals(model.size(), table.liveFlows());
        FlowLookupBatch batch = new FlowLookupBatch(KEYS);
        for (int k = 0; k < KEYS; k++) {
            Key key = Key.of(k);
            batch.add(key.vn, key.family, key.proto, key.srcHigh, key.srcLow, key.dstHigh, key.dstLow, key.sport,
                    key.dport);
        }
        table.lookup(batch);
        for (int k = 0; k < KEYS; k++) {
            Key key = Key.of(k);
            long handle = key.lookup(table);
            assertEquals(handle, batch.handle(k), "batch lookup of key " + k);
            Model flow = model.get(k);
            if (flow == null) {
                assertEquals(FlowTable.NOT_FOUND, handle, "key " + k);
                continue;
            }
            assertTrue(handle >= 0, "key " + k);
            int slot = FlowTable.slot(handle);
            assertEquals(key, new Key(table.vn(slot), table.family(slot), table.proto(slot), table.srcHigh(slot),
                    table.srcLow(slot), table.dstHigh(slot), table.dstLow(slot), table.sport(slot), table.dport(slot)));
            assertEquals(flow.origin, table.originTunnel(slot));
            assertEquals(flow.origin + 1000, table.egressTunnel(slot));
            assertEquals(now - flow.lastSeen, table.idleMillis(slot, now));
            assertEquals(flow.packetsForward, table.packetsFromOrigin(slot));
            assertEquals(flow.bytesForward, table.bytesFromOrigin(slot));
            assertEquals(flow.packetsReverse, table.packetsToOrigin(slot));
            assertEquals(flow.bytesReverse, table.bytesToOrigin(slot));
            assertEquals(flow.replied, table.replied(slot));
            assertTrue(table.validate(handle));
        }
    }

    @Property(tries = 200)
    void shouldOnlyEvictUnrepliedFlowsWhenFull(@ForAll("operations") List<Op> ops) {
        int capacity = 8;
        Map<Integer, Boolean> replied = new HashMap<>();
        long now = T0;
        try (FlowTable table = FlowTable.allocate(capacity, TIMEOUTS)) {
            long drops = 0;
            for (Op op : ops) {
                if (op instanceof Insert(int k, int origin)) {
                    long handle = Key.of(k).insert(table, origin, now);
                    if (FlowTable.created(handle)) {
                        replied.put(k, false);
                    }
                    if (handle == FlowTable.TABLE_FULL) {
                        assertFalse(replied.containsKey(k));
                    }
                } else if (op instanceof Touch(int k, boolean fromOrigin, int bytes)) {
                    long handle = Key.of(k).lookup(table);
                    if (handle >= 0) {
                        table.touch(FlowTable.slot(handle), fromOrigin, bytes, 0, now);
                        replied.merge(k, !fromOrigin, Boolean::logicalOr);
                    }
                }
                now += 1;
                for (var it = replied.entrySet().iterator(); it.hasNext(); ) {
                    var entry = it.next();
                    if (Key.of(entry.getKey()).lookup(table) < 0) {
                        assertFalse(entry.getValue(), "a flow that saw a reply was evicted: " + entry.getKey());
                        it.remove();
                        drops++;
                    }
                }
                assertTrue(table.liveFlows() <= capacity);
                assertEquals(replied.size(), table.liveFlows());
                assertEquals(drops, table.evictions(EvictionReason.EARLY_DROP));
            }
        }
    }
}
