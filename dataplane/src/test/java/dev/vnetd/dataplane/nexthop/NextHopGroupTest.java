package dev.vnetd.dataplane.nexthop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class NextHopGroupTest {
    private static final int FLOWS = 50_000;

    record Entry(int tunnel, int priority, int weight, int state) {
    }

    /** The reference: effective priorities, then the highest -weight / ln(u) among the lowest, computed plainly. */
    private static int referenceSelect(List<Entry> entries, int flowHash) {
        long best = Long.MAX_VALUE;
        for (Entry e : entries) {
            best = Math.min(best, effective(e));
        }
        int chosen = -1;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (effective(e) != best) {
                continue;
            }
            double u = ((NextHopGroup.mix(flowHash, e.tunnel()) >>> 11) + 0.5) / (1L << 53);
            double score = -e.weight() / Math.log(u);
            if (score > bestScore) {
                bestScore = score;
                chosen = i;
            }
        }
        return chosen;
    }

    private static long effective(Entry e) {
        return e.priority() + switch (e.state()) {
            case TunnelHealth.DEGRADED -> TunnelHealth.DEGRADED_PENALTY;
            case TunnelHealth.DOWN -> TunnelHealth.DOWN_PENALTY;
            default -> 0;
        };
    }

    @Provide
    Arbitrary<List<Entry>> groups() {
        Arbitrary<Entry> entry = Combinators.combine(Arbitraries.integers().between(0, 99),
                Arbitraries.of(0, 10, 100, 1_000_000), Arbitraries.oneOf(Arbitraries.just(1),
                        Arbitraries.integers().between(1, NextHopGroup.MAX_WEIGHT)),
                Arbitraries.of(TunnelHealth.HEALTHY, TunnelHealth.HEALTHY, TunnelHealth.DEGRADED, TunnelHealth.DOWN))
                .as(Entry::new);
        return entry.list().ofMinSize(1).ofMaxSize(NextHopGroup.MAX_ENTRIES).uniqueElements(Entry::tunnel);
    }

    @Property(tries = 200)
    void shouldChooseLikeTheReference(@ForAll("groups") List<Entry> entries, @ForAll int flowHash) {
        TunnelHealth health = new TunnelHealth(100);
        entries.forEach(e -> health.state(e.tunnel(), e.state()));
        NextHopGroup group = new NextHopGroup(entries.stream().mapToInt(Entry::tunnel).toArray(),
                entries.stream().mapToInt(Entry::priority).toArray(),
                entries.stream().mapToInt(Entry::weight).toArray());
        assertEquals(referenceSelect(entries, flowHash), group.selectEntry(flowHash, health));
    }

    @Test
    void shouldMoveOnlyTheFlowsOfAnEntryThatLeavesOrReturns() {
        int[] tunnels = {3, 5, 8, 13, 21, 34, 55, 89};
        int[] weights = {1, 2, 3, 4, 5, 6, 7, 8};
        NextHopGroup all = new NextHopGroup(tunnels, new int[8], weights);
        NextHopGroup withoutFourth = new NextHopGroup(remove(tunnels, 3), new int[7], remove(weights, 3));
        TunnelHealth health = new TunnelHealth(100);
        int moved = 0;
        for (int flow = 0; flow < FLOWS; flow++) {
            int hash = FlowHash.ipv4(0x0A00_0000 + flow, 0xC0A8_0001, 6, 40_000 + flow % 1000, 443);
            int before = all.select(hash, health);
            int after = withoutFourth.select(hash, health);
            if (before != 13) {
                assertEquals(before, after, "a flow not on the leaving tunnel moved");
            } else {
                assertNotEquals(13, after);
                moved++;
            }
        }
        int expected = FLOWS * 4 / 36;
        assertTrue(Math.abs(moved - expected) < expected / 10, "moved " + moved + ", expected about " + expected);
    }

    @Test
    void shouldMoveOnlyTheFlowsOfATunnelThatGoesDownAndBringThemBackWhenItRecovers() {
        int[] tunnels = {0, 1, 2, 3, 4};
        NextHopGroup group = new NextHopGroup(tunnels, new int[5], new int[] {10, 10, 10, 10, 10});
        TunnelHealth health = new TunnelHealth(5);
        int[] before = new int[FLOWS];
        for (int flow = 0; flow < FLOWS; flow++) {
            before[flow] = group.select(flow * 0x9E37_79B9, health);
        }
        health.state(2, TunnelHealth.DOWN);
        for (int flow = 0; flow < FLOWS; flow++) {
            int after = group.select(flow * 0x9E37_79B9, health);
            assertEquals(before[flow] == 2, after != before[flow]);
            assertNotEquals(2, after);
        }
        health.state(2, TunnelHealth.HEALTHY);
        for (int flow = 0; flow < FLOWS; flow++) {
            assertEquals(before[flow], group.select(flow * 0x9E37_79B9, health));
        }
    }

    @Test
    void shouldSplitFlowsInProportionToWeights() {
        int[] weights = {1, 2, 4, 8, 256};
        NextHopGroup group = new NextHopGroup(new int[] {0, 1, 2, 3, 4}, new int[5], weights);
        TunnelHealth health = new TunnelHealth(5);
        int[] counts = new int[5];
        Random random = new Random(1);
        int flows = 200_000;
        for (int flow = 0; flow < flows; flow++) {
            counts[group.selectEntry(random.nextInt(), health)]++;
        }
        int total = Arrays.stream(weights).sum();
        for (int i = 0; i < weights.length; i++) {
            double share = counts[i] / (double) flows;
            double expected = weights[i] / (double) total;
            assertEquals(expected, share, 0.1 * expected + 0.002, "entry " + i + " weight " + weights[i]);
        }
    }

    @Test
    void shouldPreferTheLowestPriorityAndPenaliseUnhealthyTunnelsWithoutDroppingThem() {
        NextHopGroup group = new NextHopGroup(new int[] {0, 1}, new int[] {100, 200}, new int[] {1, 1});
        TunnelHealth health = new TunnelHealth(2);
        assertEquals(0, group.select(42, health));
        health.state(0, TunnelHealth.DEGRADED);
        assertEquals(1, group.select(42, health));
        health.state(1, TunnelHealth.DOWN);
        assertEquals(0, group.select(42, health), "degraded beats down");
        health.state(0, TunnelHealth.DOWN);
        assertEquals(0, group.select(42, health), "all down: still the lowest priority, never no hop");
    }

    @Test
    void shouldRejectGroupsOutsideTheLimits() {
        assertThrows(IllegalArgumentException.class, () -> new NextHopGroup(new int[0], new int[0], new int[0]));
        assertThrows(IllegalArgumentException.class, () -> new NextHopGroup(new int[65], new int[65], new int[65]));
        assertThrows(IllegalArgumentException.class, () -> new NextHopGroup(new int[1], new int[1], new int[] {257}));
        assertThrows(IllegalArgumentException.class, () -> new NextHopGroup(new int[1], new int[1], new int[] {0}));
    }

    private static int[] remove(int[] a, int at) {
        int[] r = new int[a.length - 1];
        System.arraycopy(a, 0, r, 0, at);
        System.arraycopy(a, at + 1, r, at, a.length - at - 1);
        return r;
    }
}
