package dev.vnetd.dataplane.fib;

import java.util.Arrays;

/**
 * Longest-prefix match over IPv6 prefixes for one virtual network; addresses are two longs (high, low 64 bits,
 * network order); values are route indexes.
 *
 * <p>Simple and correct: routes sorted by length, longest first, scanned. Updates build new arrays and publish them
 * through one volatile reference.
 */
public final class Ipv6Lpm {
    /** Returned by {@link #lookup(long, long)} when no prefix covers the address. */
    public static final int NO_ROUTE = -1;
    /** Largest value a route may carry. */
    public static final int MAX_VALUE = Ipv4Lpm.MAX_VALUE;

    private record Table(long[] highs, long[] lows, int[] lengths, int[] values) {
    }

    private volatile Table table = new Table(new long[0], new long[0], new int[0], new int[0]);

    /** An empty table. */
    public Ipv6Lpm() {
    }

    /** Builds a table from {@code count} routes; a later duplicate (prefix, length) replaces an earlier one. */
    public static Ipv6Lpm build(long[] highs, long[] lows, int[] lengths, int[] values, int count) {
        Ipv6Lpm lpm = new Ipv6Lpm();
        for (int i = 0; i < count; i++) {
            lpm.add(highs[i], lows[i], lengths[i], values[i]);
        }
        return lpm;
    }

    /** The value of the longest prefix covering the address, or {@link #NO_ROUTE}. */
    public int lookup(long high, long low) {
        Table t = table;
        for (int i = 0; i < t.lengths.length; i++) {
            int length = t.lengths[i];
            if (((high ^ t.highs[i]) & highMask(length)) == 0 && ((low ^ t.lows[i]) & lowMask(length)) == 0) {
                return t.values[i];
            }
        }
        return NO_ROUTE;
    }

    /** Adds or replaces the route for prefix/length. Host bits of the prefix are ignored. */
    public void add(long high, long low, int length, int value) {
        checkLength(length);
        if (value < 0 || value > MAX_VALUE) {
            throw new IllegalArgumentException("route value out of range: " + value);
        }
        long h = high & highMask(length);
        long l = low & lowMask(length);
        Table t = table;
        int at = indexOf(t, h, l, length);
        if (at >= 0) {
            int[] values = t.values.clone();
            values[at] = value;
            table = new Table(t.highs, t.lows, t.lengths, values);
            return;
        }
        int n = t.lengths.length;
        int insert = 0;
        while (insert < n && t.lengths[insert] >= length) {
            insert++;
        }
        long[] highs = Arrays.copyOf(t.highs, n + 1);
        long[] lows = Arrays.copyOf(t.lows, n + 1);
        int[] lengths = Arrays.copyOf(t.lengths, n + 1);
        int[] values = Arrays.copyOf(t.values, n + 1);
        System.arraycopy(t.highs, insert, highs, insert + 1, n - insert);
        System.arraycopy(t.lows, insert, lows, insert + 1, n - insert);
        System.arraycopy(t.lengths, insert, lengths, insert + 1, n - insert);
        System.arraycopy(t.values, insert, values, insert + 1, n - insert);
        highs[insert] = h;
        lows[insert] = l;
        lengths[insert] = length;
        values[insert] = value;
        table = new Table(highs, lows, lengths, values);
    }

    /** Removes the route for prefix/length; returns whether it was present. */
    public boolean remove(long high, long low, int length) {
        checkLength(length);
        Table t = table;
        int at = indexOf(t, high & highMask(length), low & lowMask(length), length);
        if (at < 0) {
            return false;
        }
        int n = t.lengths.length;
        long[] highs = new long[n - 1];
        long[] lows = new long[n - 1];
        int[] lengths = new int[n - 1];
        int[] values = new int[n - 1];
        for (int i = 0, j = 0; i < n; i++) {
            if (i != at) {
                highs[j] = t.highs[i];
                lows[j] = t.lows[i];
                lengths[j] = t.lengths[i];
                values[j++] = t.values[i];
            }
        }
        table = new Table(highs, lows, lengths, values);
        return true;
    }

    /** Number of routes. */
    public int size() {
        return table.lengths.length;
    }

    private static int indexOf(Table t, long high, long low, int length) {
        for (int i = 0; i < t.lengths.length; i++) {
            if (t.highs[i] == high && t.lows[i] == low && t.lengths[i] == length) {
                return i;
            }
        }
        return -1;
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
}
