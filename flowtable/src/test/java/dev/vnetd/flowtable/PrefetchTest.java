package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
        assertNotNull(Prefetch.link(os, arch));
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
     * The batch lookup finds the same handles with the stub's prefetch and with plain loads (the fallback), and both
     * agree with single lookups, over random tables, fills and batches of present and absent keys.
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
