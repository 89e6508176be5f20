package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded multi-threaded stress against a reference: two workers insert the same keys in the same order (so they race
 * on every insert) and count packets, a reader checks that every flow it finds, one key at a time and in batches, is
 * whole, a control thread removes and the workers re-insert a quarter of the keys. Afterwards no key is duplicated, no stable key is lost, exactly one
 * insert created each stable key and no packet count is lost. A second run keeps a small table full while a sweep
 * expires it, and checks that every insert is accounted for as live or evicted. A thread that fails ends the
 * workload early and the checks after it fail; {@code @Timeout} guards against a hang.
 */
class FlowTableConcurrencyTest {
    private static final int KEYS = 2000;
    private static final int ROUNDS = 12;
    private static final int EGRESS_MASK = 0x5A5A_5A5A;
    private static final long NOW = 1_700_000_000_000L;
    private static final long SEED = 20261123L;

    private static boolean removable(int key) {
        return key % 4 == 0;
    }

    private static long insert(FlowTable table, int key) {
        return table.insert(key % 3, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, key, 0, key * 31L, key, 53, key,
                key ^ EGRESS_MASK, FlowTable.NO_PORT, 0, NOW);
    }

    private static long lookup(FlowTable table, int key) {
        return table.lookup(key % 3, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, key, 0, key * 31L, key, 53);
    }

    /** Reads the flow of {@code handle} and, when the handle is still valid, checks it is key's flow and whole. */
    private static void checkWhole(FlowTable table, int key, long handle, AtomicReference<String> torn,
            AtomicLong validatedReads) {
        if (handle < 0) {
            return;
        }
        int slot = FlowTable.slot(handle);
        int origin = table.originTunnel(slot);
        int egress = table.egressTunnel(slot);
        long src = table.srcLow(slot);
        int sport = table.sport(slot);
        if (table.validate(handle)) {
            validatedReads.incrementAndGet();
            if (origin != key || egress != (key ^ EGRESS_MASK) || src != key || sport != key) {
                torn.compareAndSet(null, "key " + key + " read origin " + origin + " egress " + egress + " src "
                        + src + " sport " + sport);
            }
        }
    }

    @Test
    @Timeout(60)
    void shouldNeitherLoseNorDuplicateNorTearFlowsUnderConcurrentInsertsLookupsAndRemovals() throws Exception {
        try (FlowTable table = FlowTable.allocate(2 * KEYS, FlowTimeouts.DEFAULTS)) {
            AtomicLongArray created = new AtomicLongArray(KEYS);
            AtomicLongArray touches = new AtomicLongArray(KEYS);
            AtomicReference<String> torn = new AtomicReference<>();
            AtomicLong validatedReads = new AtomicLong();
            CountDownLatch start = new CountDownLatch(1);
            CountDownLatch workersDone = new CountDownLatch(2);
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                threads.add(new Thread(() -> {
                    await(start);
                    Random random = new Random(SEED);
                    int[] order = new int[KEYS];
                    for (int i = 0; i < KEYS; i++) {
                        order[i] = i;
                    }
                    for (int round = 0; round < ROUNDS; round++) {
                        shuffle(order, random);
                        for (int key : order) {
                            long handle = insert(table, key);
                            if (FlowTable.created(handle)) {
                                created.incrementAndGet(key);
                            }
                            if (handle >= 0 && !removable(key)) {
                                table.touch(FlowTable.slot(handle), true, 100, 0, NOW);
                                touches.incrementAndGet(key);
                            }
                        }
                    }
                    workersDone.countDown();
                }, "worker-" + w));
            }
            threads.add(new Thread(() -> {
                await(start);
                Random random = new Random(SEED + 1);
                FlowLookupBatch batch = new FlowLookupBatch(8);
                int[] keys = new int[batch.capacity()];
                while (workersDone.getCount() > 0) {
                    batch.clear();
                    for (int i = 0; i < keys.length; i++) {
                        keys[i] = random.nextInt(KEYS);
                        batch.add(keys[i] % 3, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, keys[i], 0,
                                keys[i] * 31L, keys[i], 53);
                    }
                    table.lookup(batch);
                    for (int i = 0; i < keys.length; i++) {
                        checkWhole(table, keys[i], batch.handle(i), torn, validatedReads);
                        checkWhole(table, keys[i], lookup(table, keys[i]), torn, validatedReads);
                    }
                }
            }, "reader"));
            threads.add(new Thread(() -> {
                await(start);
                Random random = new Random(SEED + 2);
                while (workersDone.getCount() > 0) {
                    table.remove(lookup(table, 4 * random.nextInt(KEYS / 4)));
                }
            }, "control"));
            threads.forEach(thread -> {
                thread.setDaemon(true);
                thread.start();
            });
            start.countDown();
            for (Thread thread : threads) {
                thread.join();
            }

            assertNull(torn.get());
            assertTrue(validatedReads.get() > 0, "the reader found flows");
            assertEquals(0, table.evictions(EvictionReason.EARLY_DROP), "precondition: no eviction for room");
            int[] copies = new int[KEYS];
            int visited = table.forEach(handle -> {
                copies[(int) table.srcLow(FlowTable.slot(handle))]++;
                return true;
            });
            assertEquals(table.liveFlows(), visited);
            long expectedPackets = 0;
            long packets = 0;
            for (int key = 0; key < KEYS; key++) {
                assertTrue(copies[key] <= 1, "key " + key + " has " + copies[key] + " copies");
                if (!removable(key)) {
                    assertEquals(1, copies[key], "stable key " + key + " lost");
                    assertEquals(1, created.get(key), "stable key " + key + " created more than once");
                    int slot = FlowTable.slot(lookup(table, key));
                    assertEquals(touches.get(key), table.packetsFromOrigin(slot), "packets of key " + key);
                    expectedPackets += touches.get(key);
                    packets += table.packetsFromOrigin(slot);
                }
            }
            assertEquals(2L * ROUNDS * (KEYS - KEYS / 4), expectedPackets);
            assertEquals(expectedPackets, packets);
            assertEquals(table.inserts(), table.liveFlows() + table.evictions(EvictionReason.REMOVED));
        }
    }

    @Test
    @Timeout(60)
    void shouldAccountForEveryFlowWhenWorkersFillAFullTableWhileTheSweepExpiresIt() throws Exception {
        int capacity = 256;
        FlowTimeouts timeouts = new FlowTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(1));
        try (FlowTable table = FlowTable.allocate(capacity, timeouts)) {
            AtomicLong clock = new AtomicLong(NOW);
            CountDownLatch start = new CountDownLatch(1);
            CountDownLatch workersDone = new CountDownLatch(2);
            AtomicLong refused = new AtomicLong();
            AtomicLong maxLive = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                long seed = SEED + 10 + w;
                threads.add(new Thread(() -> {
                    await(start);
                    Random random = new Random(seed);
                    for (int n = 0; n < 40_000; n++) {
                        int key = random.nextInt(4 * capacity);
                        long handle = insert(table, key, clock.get());
                        if (handle == FlowTable.TABLE_FULL) {
                            refused.incrementAndGet();
                        } else if (key % 2 == 0) {
                            table.touch(FlowTable.slot(handle), false, 100, 0, clock.get());
                        }
                        maxLive.accumulateAndGet(table.liveFlows(), Math::max);
                    }
                    workersDone.countDown();
                }, "worker-" + w));
            }
            threads.add(new Thread(() -> {
                await(start);
                while (workersDone.getCount() > 0) {
                    table.sweep(clock.addAndGet(50));
                }
            }, "sweeper"));
            threads.forEach(thread -> {
                thread.setDaemon(true);
                thread.start();
            });
            start.countDown();
            for (Thread thread : threads) {
                thread.join();
            }

            int[] copies = new int[4 * capacity];
            int visited = table.forEach(handle -> {
                copies[(int) table.srcLow(FlowTable.slot(handle))]++;
                return true;
            });
            for (int key = 0; key < copies.length; key++) {
                assertTrue(copies[key] <= 1, "key " + key + " has " + copies[key] + " copies");
            }
            assertTrue(visited <= capacity);
            assertTrue(maxLive.get() <= capacity + 2, "a reservation beyond capacity outlived its insert");
            assertEquals(table.liveFlows(), visited);
            assertEquals(refused.get(), table.tableFullRefusals());
            assertTrue(table.evictions(EvictionReason.EXPIRED) > 0, "the sweep expired flows");
            assertTrue(table.evictions(EvictionReason.EARLY_DROP) > 0, "full buckets dropped unreplied flows");
            assertEquals(table.inserts(), table.liveFlows() + table.evictions(EvictionReason.EXPIRED)
                    + table.evictions(EvictionReason.EARLY_DROP) + table.evictions(EvictionReason.REMOVED));
        }
    }

    private static long insert(FlowTable table, int key, long now) {
        return table.insert(key % 3, FlowTable.FAMILY_IPV4, FlowTable.PROTO_UDP, 0, key, 0, key * 31L, key, 53, key,
                key ^ EGRESS_MASK, FlowTable.NO_PORT, 0, now);
    }

    private static void shuffle(int[] order, Random random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
