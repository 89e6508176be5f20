package dev.vnetd.dataplane.fib;

/**
 * Longest-prefix match over IPv6 prefixes for one virtual network; addresses are two longs (high, low 64 bits,
 * network order); values are route indexes.
 *
 * <p>The same Poptrie as {@link Ipv4Lpm} (layout, paper and the lock-free argument in {@link Poptrie}), walking six
 * bits a node after a direct array of 0, 8, 12 or 16 bits chosen by the route count (16 keeps every node on a
 * six-bit boundary that does not straddle the two longs).
 *
 * <p>Threading: one writer thread ({@link #build}, {@link #add}, {@link #remove}; callers serialise them), any number
 * of concurrent readers ({@link #lookup}, {@link #size}). A lookup is lock-free and allocation-free and answers from
 * the table as it was before or after each update, never from a half-applied one; a batch lookup answers every
 * address from one version. {@link #build} returns a new table, for a reload to publish with its snapshot.
 */
public final class Ipv6Lpm {
    /** Returned by {@link #lookup(long, long)} when no prefix covers the address. */
    public static final int NO_ROUTE = Poptrie.NO_ROUTE;
    /** Largest value a route may carry. */
    public static final int MAX_VALUE = Ipv4Lpm.MAX_VALUE;

    private static final int[] TIER_BITS = {0, 8, 12, 16};
    private static final int[] TIER_LIMITS = {128, 2048, 32768};

    private final Poptrie trie = new Poptrie(128, TIER_BITS, TIER_LIMITS);
    private volatile int size;

    /** An empty table. */
    public Ipv6Lpm() {
    }

    /** Builds a table from {@code count} routes; a later duplicate (prefix, length) replaces an earlier one. */
    public static Ipv6Lpm build(long[] highs, long[] lows, int[] lengths, int[] values, int count) {
        long[] his = new long[count];
        long[] los = new long[count];
        for (int i = 0; i < count; i++) {
            checkLength(lengths[i]);
            checkValue(values[i]);
            his[i] = highs[i] & highMask(lengths[i]);
            los[i] = lows[i] & lowMask(lengths[i]);
        }
        Ipv6Lpm lpm = new Ipv6Lpm();
        lpm.trie.load(his, los, lengths, values, count);
        lpm.size = lpm.trie.size();
        return lpm;
    }

    /** The value of the longest prefix covering the address, or {@link #NO_ROUTE}. */
    public int lookup(long high, long low) {
        return Poptrie.lookup(trie.table, high, low);
    }

    /**
     * Looks up {@code count} addresses at once: {@code results[i]} becomes {@code lookup(highs[i], lows[i])}. Faster
     * per address than single lookups on tables larger than the caches, because the lookups' memory accesses
     * overlap; meant for a worker's receive batch.
     */
    public void lookup(long[] highs, long[] lows, int[] results, int count) {
        Poptrie.lookup(trie.table, highs, lows, results, count);
    }

    /**
     * The value of the longest prefix covering the address here, else in {@code fallback} (the {@code default}
     * virtual network of a virtual network configured with {@code fallback: default}), else {@link #NO_ROUTE}.
     */
    public int lookup(long high, long low, Ipv6Lpm fallback) {
        int value = Poptrie.lookup(trie.table, high, low);
        return value != NO_ROUTE || fallback == null ? value : Poptrie.lookup(fallback.trie.table, high, low);
    }

    /** Adds or replaces the route for prefix/length. Host bits of the prefix are ignored. */
    public void add(long high, long low, int length, int value) {
        checkLength(length);
        checkValue(value);
        trie.add(high & highMask(length), low & lowMask(length), length, value);
        size = trie.size();
    }

    /** Removes the route for prefix/length; returns whether it was present. */
    public boolean remove(long high, long low, int length) {
        checkLength(length);
        boolean removed = trie.remove(high & highMask(length), low & lowMask(length), length);
        size = trie.size();
        return removed;
    }

    /** Number of routes. */
    public int size() {
        return size;
    }

    /** Bytes of the lookup arrays readers use (array headers and spare room for updates included). */
    public long lookupBytes() {
        return trie.lookupBytes();
    }

    /** Bytes of the writer's own copy of the routes, kept so that single routes can be added and removed. */
    public long routeStoreBytes() {
        return trie.routeStoreBytes();
    }

    static long highMask(int length) {
        return length == 0 ? 0L : length >= 64 ? -1L : -1L << (64 - length);
    }

    static long lowMask(int length) {
        return length <= 64 ? 0L : length == 128 ? -1L : -1L << (128 - length);
    }

    private static void checkLength(int length) {
        if (length < 0 || length > 128) {
            throw new IllegalArgumentException("IPv6 prefix length out of range: " + length);
        }
    }

    private static void checkValue(int value) {
        if (value < 0 || value > MAX_VALUE) {
            throw new IllegalArgumentException("route value out of range: " + value);
        }
    }
}
