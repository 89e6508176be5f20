package dev.vnetd.dataplane.fib;

/**
 * Longest-prefix match over IPv4 prefixes for one virtual network; values are route indexes.
 *
 * <p>A Poptrie in flat primitive arrays (layout, paper and the lock-free argument in {@link Poptrie}). The size of
 * the direct array follows the route count, so an empty table costs about a hundred bytes and a full Internet table
 * resolves most addresses with one record (leafvec and leaf, one cache line) after the direct array:
 * <pre>
 *   routes        &lt; 128     &lt; 2048    &lt; 32768    more
 *   direct bits     0         8         12         18
 *   direct array    4 B       1 KiB     16 KiB     1 MiB
 * </pre>
 *
 * <p>Threading: one writer thread ({@link #build}, {@link #add}, {@link #remove}; callers serialise them), any number
 * of concurrent readers ({@link #lookup}, {@link #view}, {@link #size}). A lookup is lock-free and allocation-free
 * and answers from the table as it was before or after each update, never from a half-applied one; a batch lookup
 * answers every address from one version. {@link #build} returns a new table, for a reload to publish with its
 * snapshot.
 */
public final class Ipv4Lpm {
    /** Returned by {@link #lookup(int)} when no prefix covers the address. */
    public static final int NO_ROUTE = Poptrie.NO_ROUTE;
    /** Largest value a route may carry. */
    public static final int MAX_VALUE = (1 << 30) - 1;

    private static final int[] TIER_BITS = {0, 8, 12, 18};
    private static final int[] TIER_LIMITS = {128, 2048, 32768};

    private final Poptrie trie = new Poptrie(32, TIER_BITS, TIER_LIMITS);
    private volatile int size;

    /** An empty table. */
    public Ipv4Lpm() {
    }

    /** Builds a table from {@code count} routes; a later duplicate (prefix, length) replaces an earlier one. */
    public static Ipv4Lpm build(int[] prefixes, int[] lengths, int[] values, int count) {
        long[] his = new long[count];
        for (int i = 0; i < count; i++) {
            checkLength(lengths[i]);
            checkValue(values[i]);
            his[i] = (long) (prefixes[i] & mask(lengths[i])) << 32;
        }
        Ipv4Lpm lpm = new Ipv4Lpm();
        lpm.trie.load(his, null, lengths, values, count);
        lpm.size = lpm.trie.size();
        return lpm;
    }

    /** The value of the longest prefix covering {@code address}, or {@link #NO_ROUTE}. */
    public int lookup(int address) {
        return Poptrie.lookup(trie.table, address);
    }

    /**
     * Looks up {@code count} addresses at once: {@code results[i]} becomes {@code lookup(addresses[i])}. Faster per
     * address than single lookups on tables larger than the caches, because the lookups' memory accesses overlap;
     * meant for a worker's receive batch.
     */
    public void lookup(int[] addresses, int[] results, int count) {
        Poptrie.lookup(trie.table, addresses, results, count);
    }

    /**
     * The table as published now, for a reader to hold across a batch of lookups (a worker's receive batch): its
     * lookups skip the load of the published version that every {@link #lookup(int)} makes. A view answers as this
     * table did when it was taken or later: updates that switch one block reach it, the whole-table rebuilds that
     * updates force now and then do not (their arrays are new). Hold a view for one batch, then take a new one; a
     * held view also keeps a replaced version's arrays from being freed.
     */
    public View view() {
        return (View) trie.table;
    }

    /**
     * The value of the longest prefix covering {@code address} here, else in {@code fallback} (the {@code default}
     * virtual network of a virtual network configured with {@code fallback: default}), else {@link #NO_ROUTE}.
     */
    public int lookup(int address, Ipv4Lpm fallback) {
        int value = Poptrie.lookup(trie.table, address);
        return value != NO_ROUTE || fallback == null ? value : Poptrie.lookup(fallback.trie.table, address);
    }

    /** Adds or replaces the route for prefix/length. Host bits of the prefix are ignored. */
    public void add(int prefix, int length, int value) {
        checkLength(length);
        checkValue(value);
        trie.add((long) (prefix & mask(length)) << 32, 0, length, value);
        size = trie.size();
    }

    /** Removes the route for prefix/length; returns whether it was present. */
    public boolean remove(int prefix, int length) {
        checkLength(length);
        boolean removed = trie.remove((long) (prefix & mask(length)) << 32, 0, length);
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

    /**
     * One published version of an {@link Ipv4Lpm}, from {@link Ipv4Lpm#view()}: lookups as the table's, lock-free and
     * allocation-free, on any thread.
     */
    public static final class View extends Poptrie.Table {
        View(int directBits, int[] slots, long[] nodes) {
            super(directBits, slots, nodes);
        }

        /** The value of the longest prefix covering {@code address}, or {@link #NO_ROUTE}. */
        public int lookup(int address) {
            return Poptrie.lookup(this, address);
        }
    }

    static int mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    private static void checkLength(int length) {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("IPv4 prefix length out of range: " + length);
        }
    }

    private static void checkValue(int value) {
        if (value < 0 || value > MAX_VALUE) {
            throw new IllegalArgumentException("route value out of range: " + value);
        }
    }
}
