package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PrefetchTest {
    private static final long T0 = 1_700_000_000_000L;

    @Test
    void shouldMakeTheStubOnX86_64Linux() {
        String os = System.getProperty("os.name");
        String arch = System.getProperty("os.arch");
        assumeTrue(os.startsWith("Linux") && arch.equals("amd64"), "stub is x86-64 Linux only");
        Prefetch.Stubs stubs = Prefetch.link(os, arch);
        assertNotNull(stubs);
        assertNotNull(stubs.slots());
        assertNotNull(stubs.tags());
        assertTrue(Prefetch.AVAILABLE);
        assertTrue(FlowTable.softwarePrefetch());
    }

    @Test
    void shouldFallBackElsewhere() {
        assertNull(Prefetch.link("Linux", "aarch64"));
        assertNull(Prefetch.link("Mac OS X", "x86_64"));
        assertNull(Prefetch.link("Windows 11", "amd64"));
    }

    /**
     * The tag stub returns for every range shape (empty, reversed, one key, a full batch) and for the hashes that
     * give the first and the last bucket: a wrong jump in its bytes would crash the JVM or never return. What it
     * prefetches cannot be observed (a prefetch never faults); the property below checks that lookups through it
     * find what plain loads find.
     */
    @Test
    void shouldRunTheTagStubOverEveryRangeShape() {
        assumeTrue(Prefetch.AVAILABLE, "stub is x86-64 Linux only");
        long[] hashes = {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 0xFFFF_FFFFL, 0xFFFF_FFFF_0000_0000L, 42};
        FlowLookupBatch batch = new FlowLookupBatch(64);
        for (int i = 0; i < 64; i++) {
            batch.keys[i * FlowLookupBatch.KEY_STRIDE + FlowLookupBatch.HASH] = hashes[i % hashes.length];
        }
        int bucketCount = 1000;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tags = arena.allocate(bucketCount * 8L, 64);
            long address = tags.address();
            Prefetch.tags(address, batch.keysSegment, 0, 64, bucketCount);
            Prefetch.tags(address, batch.keysSegment, 0, 0, bucketCount);
            Prefetch.tags(address, batch.keysSegment, 64, 64, bucketCount);
            Prefetch.tags(address, batch.keysSegment, 40, 10, bucketCount);
            Prefetch.tags(address, batch.keysSegment, 63, 64, bucketCount);
            Prefetch.tags(address, batch.keysSegment, 5, 6, 1);
            // the stub reads only the batch's keys: the tag words are unchanged (all zero)
            assertEquals(-1, tags.asByteBuffer().mismatch(MemorySegment.ofArray(new byte[bucketCount * 8])
                    .asByteBuffer()));
        }
    }

    /** A batch lookup of no keys: the stubs' empty ranges, through the table. */
    @Test
    void shouldLookUpAnEmptyBatch() {
        try (FlowTable table = FlowTable.allocate(100, FlowTimeouts.DEFAULTS)) {
            FlowLookupBatch batch = new FlowLookupBatch(8);
            table.lookup(batch);
            assertEquals(0, batch.size());
        }
    }

    /**
     * The batch lookup finds the same handles with the stub's prefetch and with plain loads (the fallback), and both
     * agree with single lookups, over random tables, fills and batches of present and absent keys. With the stubs,
     * both the tag words and the candidate slots are prefetched (tables of 1 to 600 buckets: the tag stub's bucket
     * arithmetic over many bucket counts).
     */
    @Property(tries = 100)
    void shouldFindTheSameHandlesWithAndWithoutThePrefetch(@ForAll @IntRange(min = 1, max = 4000) int capacity,
            @ForAll @IntRange(min = 1, max = 100) int fillPercent, @ForAll @IntRange(min = 1, max = 80) int batchSize,
            @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        try (FlowTable table = FlowTable.allocate(capacity, FlowTimeouts.DEFAULTS)) {
            int flows = Math.max(1, capacity * fillPercent / 100);
            long[] src = new long[flows];
            int[] ports = new int[flows];
            for (int f = 0; f < flows; f++) {
                src[f] = random.nextLong();
                ports[f] = random.nextInt(1 << 16);
                table.insert(f % 3, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 7, src[f], 8, 20, ports[f], 443, 1,
                        2, FlowTable.NO_PORT, TcpState.FLAG_SYN, T0);
            }
            FlowLookupBatch prefetched = new FlowLookupBatch(batchSize);
            FlowLookupBatch plain = new FlowLookupBatch(batchSize);
            int[] chosen = new int[batchSize];
            int[] chosenPorts = new int[batchSize];
            for (int round = 0; round < 20; round++) {
                prefetched.clear();
                plain.clear();
                for (int i = 0; i < batchSize; i++) {
                    int f = random.nextInt(flows);
                    int port = random.nextInt(4) == 0 ? ports[f] ^ 1 : ports[f];
                    chosen[i] = f;
                    chosenPorts[i] = port;
                    prefetched.add(f % 3, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 7, src[f], 8, 20, port, 443);
                    plain.add(f % 3, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 7, src[f], 8, 20, port, 443);
                }
                table.lookup(prefetched, Prefetch.AVAILABLE);
                table.lookup(plain, false);
                for (int i = 0; i < batchSize; i++) {
                    int f = chosen[i];
                    long single = table.lookup(f % 3, FlowTable.FAMILY_IPV6, FlowTable.PROTO_TCP, 7, src[f], 8, 20,
                            chosenPorts[i], 443);
                    assertEquals(single, plain.handle(i), "plain loads, key " + i);
                    assertEquals(single, prefetched.handle(i), "prefetch, key " + i);
                }
            }
        }
    }
}
