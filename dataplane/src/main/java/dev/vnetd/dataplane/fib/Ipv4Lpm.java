package dev.vnetd.dataplane.fib;

import java.util.Arrays;

/**
 * Longest-prefix match over IPv4 prefixes for one virtual network; values are route indexes.
 *
 * <p>Simple and correct: routes are kept in one array sorted by prefix length, longest first, and a lookup scans
 * it. Single writer, any number of readers: every update builds new arrays and publishes them through one volatile
 * reference, so a reader sees the whole table before or after an update, never half of it.
 */
public final class Ipv4Lpm {
    /** Returned by {@link #lookup(int)} when no prefix covers the address. */
    public static final int NO_ROUTE = -1;
    /** Largest value a route may carry. */
    public static final int MAX_VALUE = (1 << 30) - 1;

    private record Table(int[] prefixes, int[] lengths, int[] values) {
    }

    private volatile Table table = new Table(new int[0], new int[0], new int[0]);

    /** An empty table. */
    public Ipv4Lpm() {
    }

    /** Builds a table from {@code count} routes; a later duplicate (prefix, length) replaces an earlier one. */
    public static Ipv4Lpm build(int[] prefixes, int[] lengths, int[] values, int count) {
        Ipv4Lpm lpm = new Ipv4Lpm();
        for (int i = 0; i < count; i++) {
            lpm.add(prefixes[i], lengths[i], values[i]);
        }
        return lpm;
    }

    /** The value of the longest prefix covering {@code address}, or {@link #NO_ROUTE}. */
    public int lookup(int address) {
        Table t = table;
        int[] prefixes = t.prefixes;
        int[] lengths = t.lengths;
        for (int i = 0; i < prefixes.length; i++) {
            if (((address ^ prefixes[i]) & mask(lengths[i])) == 0) {
                return t.values[i];
            }
        }
        return NO_ROUTE;
    }

    /** Adds or replaces the route for prefix/length. Host bits of the prefix are ignored. */
    public void add(int prefix, int length, int value) {
        checkLength(length);
        if (value < 0 || value > MAX_VALUE) {
            throw new IllegalArgumentException("route value out of range: " + value);
        }
        int network = prefix & mask(length);
        Table t = table;
        int n = t.prefixes.length;
        int at = indexOf(t, network, length);
        if (at >= 0) {
            int[] values = t.values.clone();
            values[at] = value;
            table = new Table(t.prefixes, t.lengths, values);
            return;
        }
        int insert = 0;
        while (insert < n && t.lengths[insert] >= length) {
            insert++;
        }
        table = new Table(insertAt(t.prefixes, insert, network), insertAt(t.lengths, insert, length),
                insertAt(t.values, insert, value));
    }

    /** Removes the route for prefix/length; returns whether it was present. */
    public boolean remove(int prefix, int length) {
        checkLength(length);
        Table t = table;
        int at = indexOf(t, prefix & mask(length), length);
        if (at < 0) {
            return false;
        }
        table = new Table(removeAt(t.prefixes, at), removeAt(t.lengths, at), removeAt(t.values, at));
        return true;
    }

    /** Number of routes. */
    public int size() {
        return table.prefixes.length;
    }

    private static int indexOf(Table t, int network, int length) {
        for (int i = 0; i < t.prefixes.length; i++) {
            if (t.prefixes[i] == network && t.lengths[i] == length) {
                return i;
            }
        }
        return -1;
    }

    static int mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    private static void checkLength(int length) {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("IPv4 prefix length out of range: " + length);
        }
    }

    private static int[] insertAt(int[] a, int at, int v) {
        int[] r = Arrays.copyOf(a, a.length + 1);
        System.arraycopy(a, at, r, at + 1, a.length - at);
        r[at] = v;
        return r;
    }

    private static int[] removeAt(int[] a, int at) {
        int[] r = new int[a.length - 1];
        System.arraycopy(a, 0, r, 0, at);
        System.arraycopy(a, at + 1, r, at, a.length - at - 1);
        return r;
    }
}
