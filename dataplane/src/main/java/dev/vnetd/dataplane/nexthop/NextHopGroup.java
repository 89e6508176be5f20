package dev.vnetd.dataplane.nexthop;

/**
 * The next hops of one route: up to {@link #MAX_ENTRIES} entries of (tunnel, priority, weight).
 *
 * <p>Selection follows Cloudflare WAN traffic steering: the lowest effective priority wins, where effective priority
 * is the configured one plus the tunnel's health penalty; entries that tie are weighted ECMP. The ECMP choice is
 * weighted rendezvous hashing (Highest Random Weight, Thaler and Ravishankar 1998; the logarithmic weighting of
 * Schindelhauer and Schomaker 2005): each entry scores {@code -weight / ln(u)} where {@code u} in (0,1) is a hash of
 * (flow, tunnel), and the highest score wins. A flow only moves when the entry it scored highest leaves; when an
 * entry joins, only the flows it now wins move to it.
 */
public final class NextHopGroup {
    /** Entries a group may hold. */
    public static final int MAX_ENTRIES = 64;
    /** Weights run 1..256. */
    public static final int MAX_WEIGHT = 256;
    /**
     * Since -ln(u) &gt;= 1 - u, an entry's score is at most weight / (1 - u): an entry whose bound is below the best
     * score so far cannot win and skips its logarithm. The margin keeps rounding from ever skipping a winner.
     */
    private static final double BOUND_MARGIN = 1 - 0x1.0p-30;

    private final int[] tunnels;
    private final int[] priorities;
    private final int[] weights;
    private final boolean equalWeights;

    /** A group of the given entries, which must be non-empty, of equal length and at most {@link #MAX_ENTRIES}. */
    public NextHopGroup(int[] tunnels, int[] priorities, int[] weights) {
        if (tunnels.length == 0 || tunnels.length > MAX_ENTRIES) {
            throw new IllegalArgumentException("a next-hop group holds 1.." + MAX_ENTRIES + " entries");
        }
        if (priorities.length != tunnels.length || weights.length != tunnels.length) {
            throw new IllegalArgumentException("tunnels, priorities and weights differ in length");
        }
        for (int weight : weights) {
            if (weight < 1 || weight > MAX_WEIGHT) {
                throw new IllegalArgumentException("weight out of range 1.." + MAX_WEIGHT + ": " + weight);
            }
        }
        this.tunnels = tunnels.clone();
        this.priorities = priorities.clone();
        this.weights = weights.clone();
        boolean equal = true;
        for (int weight : weights) {
            equal &= weight == weights[0];
        }
        this.equalWeights = equal;
    }

    /** Number of entries. */
    public int size() {
        return tunnels.length;
    }

    /** Tunnel id of entry {@code i}. */
    public int tunnel(int i) {
        return tunnels[i];
    }

    /** Configured priority of entry {@code i}. */
    public int priority(int i) {
        return priorities[i];
    }

    /** Weight of entry {@code i}. */
    public int weight(int i) {
        return weights[i];
    }

    /**
     * Index of the entry chosen for a flow with this hash under the given health. Allocation-free; one pass over
     * the entries finds the lowest effective priority and the set of entries that share it (a bit set, as a group
     * holds at most 64), then only those are scored. When every weight is equal the highest hash wins, which is the
     * same choice as the weighted score without its logarithm; otherwise a cheap upper bound skips the logarithm of
     * entries that cannot win.
     */
    public int selectEntry(int flowHash, TunnelHealth health) {
        int n = tunnels.length;
        if (n == 1) {
            return 0;
        }
        long best = Long.MAX_VALUE;
        long candidates = 0;
        for (int i = 0; i < n; i++) {
            long effective = (long) priorities[i] + health.penalty(tunnels[i]);
            if (effective < best) {
                best = effective;
                candidates = 1L << i;
            } else if (effective == best) {
                candidates |= 1L << i;
            }
        }
        if ((candidates & (candidates - 1)) == 0) {
            return Long.numberOfTrailingZeros(candidates);
        }
        int chosen = -1;
        if (equalWeights) {
            long bestHash = -1;
            for (long m = candidates; m != 0; m &= m - 1) {
                int i = Long.numberOfTrailingZeros(m);
                long h = mix(flowHash, tunnels[i]) >>> 11;
                if (h > bestHash) {
                    bestHash = h;
                    chosen = i;
                }
            }
            return chosen;
        }
        double bestScore = Double.NEGATIVE_INFINITY;
        for (long m = candidates; m != 0; m &= m - 1) {
            int i = Long.numberOfTrailingZeros(m);
            double u = ((mix(flowHash, tunnels[i]) >>> 11) + 0.5) * 0x1.0p-53;
            if (weights[i] / (1 - u) < bestScore * BOUND_MARGIN) {
                continue;
            }
            double score = -weights[i] / Math.log(u);
            if (score > bestScore) {
                bestScore = score;
                chosen = i;
            }
        }
        return chosen;
    }

    /** Tunnel id chosen for a flow with this hash under the given health. */
    public int select(int flowHash, TunnelHealth health) {
        return tunnels[selectEntry(flowHash, health)];
    }

    /** A hash of (flow, tunnel); its top 53 bits, plus one half, scaled by 2^-53 are a number in (0, 1). */
    static long mix(int flowHash, int tunnel) {
        return FlowHash.fmix64(((long) flowHash << 32) ^ (tunnel * 0x9E37_79B9L));
    }
}
