package dev.vnetd.dataplane.fib;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.HashMap;
import org.agrona.UnsafeApi;

/**
 * The longest-prefix-match engine behind {@link Ipv4Lpm} and {@link Ipv6Lpm}: a Poptrie (Asai and Ohara,
 * "Poptrie: A Compressed Trie with Population Count for Fast and Scalable Software IP Routing Table Lookup",
 * SIGCOMM 2015) in two flat primitive arrays, over addresses held top-aligned in two longs (IPv4 uses the top 32
 * bits of {@code hi}).
 *
 * <pre>
 *  address  |&lt;-- s bits --&gt;|&lt;- 6 -&gt;|&lt;- 6 -&gt;| ...            s = directBits: 0, 8, 12 or 18 (IPv6: 16)
 *                 |             |
 *                 v             |
 *  slots   int[2^s + m]
 *          [0, 2^s)  direct entries, one per block of the top s bits:
 *                    entry &gt;= 0: a root with only leaf children, a record at that slot index ----------+
 *                    entry = NODE | node index ----------------------------------------------+         |
 *          [2^s, ..) records and leaf runs:                                                   |         |
 *                    record [ leafvec (one long over two slots) | run values ... ]  &lt;--------|---------+
 *                    child c has the value at record + 1 + popcount(leafvec &amp; bits 0..c)      |
 *                    (most blocks of an Internet table; a block without routes shares the     |
 *                    one-run record of its fallback value)                                     |
 *                    a node's leaf runs: route values, NO_ROUTE = -1                           |
 *                                                                                              v
 *  nodes   long[3 * n]   [ vector | leafvec | base1 &lt;&lt; 32 | base0 ]   one 64-ary node, 24 bytes
 *          vector  bit c: child c is a node, at nodes[base1 + popcount(vector &amp; bits 0..c) - 1]
 *          leafvec bit c: child c is a leaf that starts a new run of equal values; a leaf child c has the value
 *                  slots[base0 + popcount(leafvec &amp; bits 0..c) - 1]    (runs of equal leaves are stored once)
 *          skip node (a child with leafvec 0 and a vector not all ones; an ordinary node has leafvec 0 only
 *                  when all 64 children are nodes):
 *                  [ levels &lt;&lt; 60 | skipped bits | 0 | below &lt;&lt; 32 | fallback ]
 *                  stands for 2..9 levels that would each hold one child node and one run of the fallback (the
 *                  chain a lone long prefix leaves behind); an address whose bits differ gets the fallback, the
 *                  others continue at node {@code below}, 6 * levels bits deeper
 * </pre>
 *
 * <p>A lookup through a record (every lookup in a large IPv4 table) is three loads from {@code slots}: the direct
 * entry, the leafvec, the leaf (usually in the leafvec's cache line), read through {@link UnsafeApi} without range
 * checks. The writer guarantees the ranges once per table instead: the slots begin with all {@code 2^s} direct
 * entries, so any {@code s}-bit index is one; an entry is published only after the record it names is complete
 * inside the array; a record's leafvec has bit 0 set and as many runs after it as bits set, so
 * {@code record + 1 + popcount} stays inside it. Node walks, which are rarer and deeper, keep Java's checks.
 *
 * <p>Why Poptrie: on the benchmark's 1 M IPv4 routes DIR-24-8 (rte_lpm's layout) needs 64 MiB for its first level
 * alone, 67 bytes a route, and misses the last-level cache on every lookup; DXR's range tables binary-search up to
 * hundreds of ranges per /16 chunk. Poptrie needs a 1 MiB direct array plus runs of leaves, 11 bytes a route,
 * mostly cache-resident, and resolves any prefix up to /24 with two dependent loads after the direct array: the
 * record's leafvec and the leaf, usually in the same cache line. Small tables use a small (or single-entry)
 * direct array, so an empty table costs a few dozen bytes and 100 routes a few KiB.
 *
 * <p>Updates. The writer keeps the routes themselves (the RIB) per direct-array block: {@code blocks[b]} holds, sorted
 * in trie pre-order (prefix, then length), the routes longer than {@code s} bits under block {@code b}; routes of at
 * most {@code s} bits sit in {@code shortValues[length]}, indexed by prefix. A change writes new nodes and leaves
 * after the used part of the arrays, then switches the block's direct entry with one release store: a block that is
 * a record is rebuilt whole (it holds few routes); in a block with nodes the path from the root down to the node
 * whose children the route paints is copied (each copy shares every other subtree) and only that node's subtree is
 * rebuilt; a short route rebuilds every block it covers. When the arrays are full, the whole table is rebuilt into
 * fresh arrays (sized for the routes, which also reclaims abandoned subtrees) and published through the volatile
 * {@link #table}.
 *
 * <p>Why readers are safe without locks: (1) a published node or leaf is never written again, only abandoned; the
 * writer appends into unused slots that nothing reachable points to; (2) a direct entry is written with
 * {@code setRelease} after its subtree is complete, and readers load it with {@code getAcquire}, so a reader that
 * sees the new entry sees the whole new subtree, and one that sees the old entry walks the old, unchanged subtree;
 * (3) arrays replaced by a rebuild are never written again, and the garbage collector frees them only once no reader
 * holds them. So one lookup reads one consistent version of its block: the table before or after each update.
 * A reader that holds a {@link Table} (an {@link Ipv4Lpm.View}) across lookups relies on the same three points: its
 * lookups still load each direct entry with acquire, so they see that table's later block switches whole or not at
 * all, and a rebuild leaves its arrays as they were. Single writer: callers serialise add, remove and build.
 */
final class Poptrie {
    static final int NO_ROUTE = -1;
    /** Direct entry of a block whose root is a node: {@code NODE | node index}; other entries index a record. */
    private static final int NODE = 0x8000_0000;
    private static final int INDEX = 0x7FFF_FFFF;
    private static final int STRIDE = 6;
    /** Marks a batch result slot that holds a leaf index still to be loaded; below every value and NO_ROUTE. */
    private static final int LEAF = Integer.MIN_VALUE;
    private static final int FAN_OUT = 1 << STRIDE;
    /** A skip node stores its level count in the top four bits of its vector and the skipped bits below. */
    private static final int SKIP_SHIFT = 60;
    private static final long SKIP_BITS = (1L << SKIP_SHIFT) - 1;
    private static final int MAX_SKIP_LEVELS = 9;
    private static final VarHandle DIRECT = MethodHandles.arrayElementVarHandle(int[].class);
    /** Byte offset of slot 0 in an {@code int[]}, and log2 of the bytes per slot, for the unchecked reads. */
    private static final long SLOT_BASE = UnsafeApi.arrayBaseOffset(int[].class);
    private static final int SLOT_SHIFT = 2;
    private static final ThreadLocal<int[]> SCRATCH = ThreadLocal.withInitial(() -> new int[24 * FAN_OUT]);

    /**
     * One published version of the lookup arrays: {@code slots} holds the {@code 2^directBits} direct entries, then
     * the records and leaf runs; the direct entries are the only slots written after publication. An IPv4 engine's
     * tables are {@link Ipv4Lpm.View}s, which a reader may hold for a batch of lookups.
     */
    static class Table {
        final int directBits;
        final int[] slots;
        final long[] nodes;

        Table(int directBits, int[] slots, long[] nodes) {
            this.directBits = directBits;
            this.slots = slots;
            this.nodes = nodes;
        }
    }

    /** Thrown by the allocator when the published arrays have no room left; the writer then rebuilds. */
    private static final class Full extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private static final Full INSTANCE = new Full();

        private Full() {
            super(null, null, false, false);
        }
    }

    private final int width;
    private final int[] tierBits;
    private final int[] tierLimits;

    volatile Table table;

    private int directBits;
    private long[][] blocks;
    private int[][] shortValues;
    private int size;

    private long[] nodes;
    private int[] slots;
    private int nodeTop;
    private int leafTop;
    private boolean fresh;
    /** Leaf index of the shared one-run record of each fallback value in use; reset by every rebuild. */
    private HashMap<Integer, Integer> uniformRecords;

    /**
     * An empty engine for addresses of {@code addressBits} bits; the direct array grows with the route count through
     * {@code tierBits[i]} while the table holds fewer than {@code tierLimits[i]} routes (the last tier is unbounded).
     */
    Poptrie(int addressBits, int[] tierBits, int[] tierLimits) {
        this.width = addressBits > 64 ? 3 : 2;
        this.tierBits = tierBits;
        this.tierLimits = tierLimits;
        this.directBits = tierBits[0];
        this.blocks = new long[1 << directBits][];
        this.shortValues = new int[directBits + 1][];
        int record = 1 << directBits;
        this.nodes = new long[0];
        this.slots = new int[record + 3];
        Arrays.fill(slots, 0, record, record);
        putLeafvec(slots, record, 1);
        slots[record + 2] = NO_ROUTE;
        this.leafTop = slots.length;
        this.table = newTable();
    }

    int size() {
        return size;
    }

    private Table newTable() {
        return width == 2 ? new Ipv4Lpm.View(directBits, slots, nodes) : new Table(directBits, slots, nodes);
    }

    // ---------------------------------------------------------------------------------------------------- lookups

    /**
     * IPv4 lookup: the address in the low 32 bits of an int. A record root (every block of a large IPv4 table) is
     * straight-line code: the direct entry, the record's leafvec and the leaf, three loads from one array; a node
     * root leaves it for {@link #fromNode}. The direct index is two int shifts (Java takes an int shift count mod 32,
     * so {@code >>> (32 - bits)} would keep the whole address when {@code bits} is 0).
     */
    static int lookup(Table t, int address) {
        int bits = t.directBits;
        int[] slots = t.slots;
        int entry = directEntry(slots, address >>> (31 - bits) >>> 1);
        int c = (address << bits) >>> (32 - STRIDE);
        if (entry >= 0) {
            return recordLeaf(slots, entry, c);
        }
        return fromNode(t, (long) address << 32, 0, entry, bits, c);
    }

    /**
     * IPv4 lookups of {@code count} addresses into {@code results}, in three passes over the batch (direct entries,
     * first nodes, leaves) so that the cache misses of different addresses overlap instead of queueing behind each
     * other's dependent loads. Between passes a result slot holds the direct entry, then a final value or
     * {@code LEAF + leaf index}.
     */
    static void lookup(Table t, int[] addresses, int[] results, int count) {
        int bits = t.directBits;
        int[] slots = t.slots;
        for (int i = 0; i < count; i++) {
            results[i] = directEntry(slots, addresses[i] >>> (31 - bits) >>> 1);
        }
        for (int i = 0; i < count; i++) {
            long key = (long) addresses[i] << 32;
            results[i] = firstStep(t, results[i], key, 0, (addresses[i] << bits) >>> (32 - STRIDE));
        }
        finish(t, results, count);
    }

    /**
     * IPv6 lookup: the address as its high and low 64 bits; the same shape as the IPv4 lookup, walking six bits a
     * node across both longs.
     */
    static int lookup(Table t, long hi, long lo) {
        int bits = t.directBits;
        int[] slots = t.slots;
        int entry = directEntry(slots, (int) ((hi >>> 1) >>> (63 - bits)));
        int c = chunk(hi, lo, bits);
        if (entry >= 0) {
            return recordLeaf(slots, entry, c);
        }
        return fromNode(t, hi, lo, entry, bits, c);
    }

    /** IPv6 lookups of {@code count} addresses into {@code results}, in the three passes of the IPv4 batch. */
    static void lookup(Table t, long[] highs, long[] lows, int[] results, int count) {
        int bits = t.directBits;
        int[] slots = t.slots;
        for (int i = 0; i < count; i++) {
            results[i] = directEntry(slots, (int) ((highs[i] >>> 1) >>> (63 - bits)));
        }
        for (int i = 0; i < count; i++) {
            results[i] = firstStep(t, results[i], highs[i], lows[i], chunk(highs[i], lows[i], bits));
        }
        finish(t, results, count);
    }

    /**
     * Direct entry {@code b}, read with acquire (see the class comment) and without a range check: {@code b} has
     * {@code directBits} bits and every table's slots start with {@code 2^directBits} direct entries.
     */
    private static int directEntry(int[] slots, int b) {
        return UnsafeApi.getIntAcquire(slots, SLOT_BASE + ((long) b << SLOT_SHIFT));
    }

    /**
     * The leaf of child {@code c} of the record at {@code at}, without range checks: the writer only publishes an
     * entry to a record it has completed inside the slots, whose leafvec has bit 0 set and one leaf per set bit, so
     * the index lies within the record.
     */
    private static int recordLeaf(int[] slots, int at, int c) {
        long leafvec = UnsafeApi.getLongUnaligned(slots, SLOT_BASE + ((long) at << SLOT_SHIFT));
        int leaf = at + 1 + Long.bitCount(leafvec & ((2L << c) - 1));
        assert leaf < slots.length : "record leaf out of range";
        return UnsafeApi.getInt(slots, SLOT_BASE + ((long) leaf << SLOT_SHIFT));
    }

    /** A lookup whose direct entry is a node: the node's leaf child, or the rest of the walk. */
    private static int fromNode(Table t, long hi, long lo, int entry, int depth, int c) {
        long[] nodes = t.nodes;
        int node = (entry & INDEX) * 3;
        long vector = nodes[node];
        if ((vector >>> c & 1) == 0) {
            return t.slots[(int) nodes[node + 2] + Long.bitCount(nodes[node + 1] & ((2L << c) - 1)) - 1];
        }
        return descend(t, hi, lo, node, depth, c, vector);
    }

    /** Batch pass two: a direct entry becomes {@code LEAF + index} of the leaf still to load, or a final value. */
    private static int firstStep(Table t, int entry, long hi, long lo, int c) {
        if (entry >= 0) {
            long leafvec = UnsafeApi.getLongUnaligned(t.slots, SLOT_BASE + ((long) entry << SLOT_SHIFT));
            return LEAF + entry + 1 + Long.bitCount(leafvec & ((2L << c) - 1));
        }
        long[] nodes = t.nodes;
        int node = (entry & INDEX) * 3;
        long vector = nodes[node];
        return (vector >>> c & 1) == 0
                ? LEAF + (int) nodes[node + 2] + Long.bitCount(nodes[node + 1] & ((2L << c) - 1)) - 1
                : descend(t, hi, lo, node, t.directBits, c, vector);
    }

    /** Batch pass three: loads the leaves that pass two located. */
    private static void finish(Table t, int[] results, int count) {
        int[] slots = t.slots;
        for (int i = 0; i < count; i++) {
            int r = results[i];
            if (r < NO_ROUTE) {
                results[i] = slots[r - LEAF];
            }
        }
    }

    /** Writes a record's leafvec into its first two slots, in the byte order {@link #recordLeaf} reads it. */
    private static void putLeafvec(int[] slots, int at, long leafvec) {
        UnsafeApi.putLongUnaligned(slots, SLOT_BASE + ((long) at << SLOT_SHIFT), leafvec);
    }

    /**
     * Continues a walk below {@code node} at {@code depth}, whose child {@code c} is a node. A child may be a skip
     * node (leafvec 0 while not every child is a node): the walk compares the skipped address bits and either falls
     * back to the value stored there or jumps to the node below the skipped levels.
     */
    private static int descend(Table t, long hi, long lo, int node, int depth, int c, long vector) {
        long[] nodes = t.nodes;
        while (true) {
            node = ((int) (nodes[node + 2] >>> 32) + Long.bitCount(vector & ((2L << c) - 1)) - 1) * 3;
            depth += STRIDE;
            vector = nodes[node];
            if (nodes[node + 1] == 0 && vector != -1L) {
                int skipped = (int) (vector >>> SKIP_SHIFT) * STRIDE;
                if (bits(hi, lo, depth, skipped) != (vector & SKIP_BITS)) {
                    return (int) nodes[node + 2];
                }
                node = (int) (nodes[node + 2] >>> 32) * 3;
                depth += skipped;
                vector = nodes[node];
            }
            c = chunk(hi, lo, depth);
            if ((vector >>> c & 1) == 0) {
                return t.slots[(int) nodes[node + 2] + Long.bitCount(nodes[node + 1] & ((2L << c) - 1)) - 1];
            }
        }
    }

    /** The {@code count} (1..54) address bits starting at bit {@code depth}, zero-padded past the end. */
    static long bits(long hi, long lo, int depth, int count) {
        if (depth >= 64) {
            return (lo << (depth - 64)) >>> (64 - count);
        }
        long high = (hi << depth) >>> (64 - count);
        return depth + count <= 64 ? high : high | (lo >>> (128 - depth - count));
    }

    /** The six address bits starting at bit {@code depth} (0 = most significant), zero-padded past the end. */
    static int chunk(long hi, long lo, int depth) {
        if (depth <= 64 - STRIDE) {
            return (int) ((hi << depth) >>> (64 - STRIDE));
        }
        if (depth >= 64) {
            return (int) ((lo << (depth - 64)) >>> (64 - STRIDE));
        }
        return (int) (((hi << depth) >>> (64 - STRIDE)) | (lo >>> (128 - STRIDE - depth)));
    }

    // ---------------------------------------------------------------------------------------------------- updates

    /** Adds or replaces a route; {@code hi}/{@code lo} already masked to {@code length}. Returns whether it was new. */
    boolean add(long hi, long lo, int length, int value) {
        boolean added;
        if (length <= directBits) {
            int[] slots = shortValues[length];
            if (slots == null) {
                slots = new int[1 << length];
                Arrays.fill(slots, NO_ROUTE);
                shortValues[length] = slots;
            }
            int index = top(hi, length);
            added = slots[index] == NO_ROUTE;
            slots[index] = value;
            size += added ? 1 : 0;
            if (!retier()) {
                refreshBlocks(index << (directBits - length), 1 << (directBits - length));
            }
        } else {
            int b = top(hi, directBits);
            long[] routes = blocks[b];
            int n = routes == null ? 0 : routes.length / width;
            int at = search(routes, n, hi, lo, length);
            added = at < 0;
            if (added) {
                at = -at - 1;
                long[] grown = new long[(n + 1) * width];
                if (routes != null) {
                    System.arraycopy(routes, 0, grown, 0, at * width);
                    System.arraycopy(routes, at * width, grown, (at + 1) * width, (n - at) * width);
                }
                routes = grown;
                blocks[b] = routes;
                size++;
            }
            put(routes, at, hi, lo, length, value);
            if (!retier()) {
                refreshBlock(b, hi, lo, length);
            }
        }
        return added;
    }

    /** Removes a route; {@code hi}/{@code lo} already masked. Returns whether it was present. */
    boolean remove(long hi, long lo, int length) {
        if (length <= directBits) {
            int[] slots = shortValues[length];
            int index = top(hi, length);
            if (slots == null || slots[index] == NO_ROUTE) {
                return false;
            }
            slots[index] = NO_ROUTE;
            size--;
            refreshBlocks(index << (directBits - length), 1 << (directBits - length));
            return true;
        }
        int b = top(hi, directBits);
        long[] routes = blocks[b];
        int n = routes == null ? 0 : routes.length / width;
        int at = search(routes, n, hi, lo, length);
        if (at < 0) {
            return false;
        }
        if (n == 1) {
            blocks[b] = null;
        } else {
            long[] shrunk = new long[(n - 1) * width];
            System.arraycopy(routes, 0, shrunk, 0, at * width);
            System.arraycopy(routes, (at + 1) * width, shrunk, at * width, (n - at - 1) * width);
            blocks[b] = shrunk;
        }
        size--;
        refreshBlock(b, hi, lo, length);
        return true;
    }

    /**
     * Replaces the whole table with {@code count} routes ({@code his}/{@code los} masked, {@code los} may be null for
     * IPv4); a later duplicate (prefix, length) replaces an earlier one.
     */
    void load(long[] his, long[] los, int[] lengths, int[] values, int count) {
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        sortPreOrder(order, his, los, lengths);
        long[] sorted = new long[count * width];
        int n = 0;
        for (int k = 0; k < count; k++) {
            int i = order[k];
            long lo = los == null ? 0 : los[i];
            if (n > 0 && compare(sorted, n - 1, his[i], lo, lengths[i]) == 0) {
                n--;
            }
            put(sorted, n++, his[i], lo, lengths[i], values[i]);
        }
        distribute(sorted, n, tierFor(n));
        rebuild(false);
    }

    // ------------------------------------------------------------------------------------------------ memory report

    /** Bytes held by the published lookup arrays (slots, nodes), array headers included. */
    long lookupBytes() {
        Table t = table;
        return arrayBytes(t.slots.length, 4) + arrayBytes(t.nodes.length, 8);
    }

    /** Bytes held by the writer's route store (the RIB), array headers included. */
    long routeStoreBytes() {
        long bytes = arrayBytes(blocks.length, 4) + arrayBytes(shortValues.length, 4);
        for (long[] block : blocks) {
            bytes += block == null ? 0 : arrayBytes(block.length, 8);
        }
        for (int[] slots : shortValues) {
            bytes += slots == null ? 0 : arrayBytes(slots.length, 4);
        }
        return bytes;
    }

    private static long arrayBytes(int length, int elementBytes) {
        return (16 + (long) length * elementBytes + 7) & ~7L;
    }

    // ------------------------------------------------------------------------------------------------ the RIB

    private int top(long hi, int bits) {
        return (int) ((hi >>> 1) >>> (63 - bits));
    }

    private void put(long[] routes, int at, long hi, long lo, int length, int value) {
        routes[at * width] = hi;
        if (width == 3) {
            routes[at * width + 1] = lo;
        }
        routes[at * width + width - 1] = (long) length << 32 | (value & 0xFFFF_FFFFL);
    }

    private long hi(long[] routes, int i) {
        return routes[i * width];
    }

    private long lo(long[] routes, int i) {
        return width == 3 ? routes[i * width + 1] : 0;
    }

    private int length(long[] routes, int i) {
        return (int) (routes[i * width + width - 1] >>> 32);
    }

    private int value(long[] routes, int i) {
        return (int) routes[i * width + width - 1];
    }

    /** Trie pre-order: by prefix bits, then shorter first, so a route precedes every route it covers. */
    private int compare(long[] routes, int i, long hi, long lo, int length) {
        int c = Long.compareUnsigned(hi(routes, i), hi);
        if (c == 0) {
            c = Long.compareUnsigned(lo(routes, i), lo);
        }
        return c != 0 ? c : Integer.compare(length(routes, i), length);
    }

    private int search(long[] routes, int n, long hi, long lo, int length) {
        int low = 0;
        int high = n - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            int c = compare(routes, mid, hi, lo, length);
            if (c < 0) {
                low = mid + 1;
            } else if (c > 0) {
                high = mid - 1;
            } else {
                return mid;
            }
        }
        return -(low + 1);
    }

    private void sortPreOrder(int[] order, long[] his, long[] los, int[] lengths) {
        int n = order.length;
        int[] buffer = new int[n];
        for (int run = 1; run < n; run <<= 1) {
            for (int start = 0; start < n - run; start += run << 1) {
                int mid = start + run;
                int end = Math.min(start + (run << 1), n);
                int a = start;
                int b = mid;
                int out = start;
                while (a < mid && b < end) {
                    buffer[out++] = before(order[b], order[a], his, los, lengths) ? order[b++] : order[a++];
                }
                while (a < mid) {
                    buffer[out++] = order[a++];
                }
                while (b < end) {
                    buffer[out++] = order[b++];
                }
                System.arraycopy(buffer, start, order, start, end - start);
            }
        }
    }

    /** Strictly before in pre-order; equal routes keep input order (the merge sort is stable). */
    private static boolean before(int i, int j, long[] his, long[] los, int[] lengths) {
        int c = Long.compareUnsigned(his[i], his[j]);
        if (c == 0 && los != null) {
            c = Long.compareUnsigned(los[i], los[j]);
        }
        return c != 0 ? c < 0 : lengths[i] < lengths[j];
    }

    private int tierFor(int routes) {
        int tier = 0;
        while (tier < tierBits.length - 1 && routes >= tierLimits[tier]) {
            tier++;
        }
        return tierBits[tier];
    }

    /** Moves to a larger direct array when the table outgrew its tier; returns whether it rebuilt. */
    private boolean retier() {
        int bits = tierFor(size);
        if (bits <= directBits) {
            return false;
        }
        long[] all = collect();
        distribute(all, size, bits);
        rebuild(false);
        return true;
    }

    /** Every route, in pre-order. */
    private long[] collect() {
        long[] all = new long[size * width];
        int n = 0;
        for (int length = 0; length <= directBits; length++) {
            int[] slots = shortValues[length];
            for (int i = 0; slots != null && i < slots.length; i++) {
                if (slots[i] != NO_ROUTE) {
                    long hi = length == 0 ? 0 : (long) i << (64 - length);
                    put(all, n++, hi, 0, length, slots[i]);
                }
            }
        }
        for (long[] block : blocks) {
            if (block != null) {
                System.arraycopy(block, 0, all, n * width, block.length);
                n += block.length / width;
            }
        }
        int[] order = new int[n];
        long[] his = new long[n];
        long[] los = new long[n];
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
            his[i] = hi(all, i);
            los[i] = lo(all, i);
            lengths[i] = length(all, i);
        }
        sortPreOrder(order, his, los, lengths);
        long[] sorted = new long[n * width];
        for (int k = 0; k < n; k++) {
            System.arraycopy(all, order[k] * width, sorted, k * width, width);
        }
        return sorted;
    }

    /** Replaces the RIB with {@code n} pre-ordered routes for a direct array of {@code bits} bits. */
    private void distribute(long[] sorted, int n, int bits) {
        directBits = bits;
        blocks = new long[1 << bits][];
        shortValues = new int[bits + 1][];
        size = n;
        int i = 0;
        while (i < n) {
            long hi = hi(sorted, i);
            int length = length(sorted, i);
            if (length <= bits) {
                if (shortValues[length] == null) {
                    shortValues[length] = new int[1 << length];
                    Arrays.fill(shortValues[length], NO_ROUTE);
                }
                shortValues[length][top(hi, length)] = value(sorted, i);
                i++;
                continue;
            }
            int b = top(hi, bits);
            int j = i + 1;
            while (j < n && length(sorted, j) > bits && top(hi(sorted, j), bits) == b) {
                j++;
            }
            blocks[b] = Arrays.copyOfRange(sorted, i * width, j * width);
            i = j;
        }
    }

    // ------------------------------------------------------------------------------------------------ the FIB

    /**
     * Rebuilds the lookup arrays from the RIB into fresh arrays, then publishes them. A bulk load leaves 1/64 spare
     * room for later updates; a rebuild forced by updates leaves twice the live size spare, so its cost (about 0.3 s
     * for 1 M routes, page faults of the fresh arrays included) is spread over some 200 000 updates; the price is
     * lookup arrays up to three times the live size on a table that churns.
     */
    private void rebuild(boolean forUpdates) {
        fresh = true;
        int blockCount = 1 << directBits;
        nodes = new long[3 * Math.max(64, nodeTop)];
        slots = new int[Math.max(blockCount + 64, leafTop)];
        nodeTop = 0;
        leafTop = blockCount;
        uniformRecords = null;
        for (int b = 0; b < blockCount; b++) {
            int entry = blockEntry(b); // may grow slots: store into the array it returns with
            slots[b] = entry;
        }
        int spareNodes = forUpdates ? 2 * nodeTop + 64 : (nodeTop >> 6) + 16;
        int spareLeaves = forUpdates ? 2 * (leafTop - blockCount) + 128 : ((leafTop - blockCount) >> 6) + 64;
        nodes = Arrays.copyOf(nodes, 3 * (nodeTop + spareNodes));
        slots = Arrays.copyOf(slots, leafTop + spareLeaves);
        fresh = false;
        table = newTable();
    }

    private void refreshBlocks(int first, int count) {
        try {
            for (int b = first; b < first + count; b++) {
                int entry = blockEntry(b);
                if (entry != slots[b]) {
                    DIRECT.setRelease(slots, b, entry);
                }
            }
        } catch (Full full) {
            rebuildFull();
        }
    }

    /** The arrays are full: rebuilds into fresh ones, in the tier the route count now calls for. */
    private void rebuildFull() {
        int bits = tierFor(size);
        if (bits != directBits) {
            distribute(collect(), size, bits);
        }
        rebuild(true);
    }

    /**
     * After a route longer than the direct array changed in block {@code b}: copies the path from the block's root
     * down to the node whose children the route paints and rebuilds only that node's subtree (the paper's
     * incremental update), so a block holding many routes costs a few node copies per update, not a rebuild.
     */
    private void refreshBlock(int b, long hi, long lo, int length) {
        int old = slots[b];
        long[] routes = blocks[b];
        if (old >= 0 || routes == null) {
            refreshBlocks(b, 1);
            return;
        }
        try {
            int root = allocateNodes(1);
            copyPath(root, old & INDEX, routes, 0, routes.length / width, directBits, blockFallback(b), hi, lo, length,
                    SCRATCH.get(), 0);
            DIRECT.setRelease(slots, b, NODE | root);
        } catch (Full full) {
            rebuildFull();
        }
    }

    /**
     * Writes at {@code at} a copy of node {@code old} (at {@code depth}, routes {@code [from, to)} of its range) in
     * which only the child on the path of the changed route is new; rebuilds the node instead when the route ends in
     * its children or changes which of them are nodes.
     */
    private void copyPath(int at, int old, long[] routes, int from, int to, int depth, int fallback, long hi, long lo,
            int length, int[] scratch, int level) {
        int deep = depth + STRIDE;
        if (length <= deep) {
            fillNode(at, routes, from, to, depth, fallback, scratch, level);
            return;
        }
        int c = chunk(hi, lo, depth);
        long childHi = hi & Ipv6Lpm.highMask(deep);
        long childLo = lo & Ipv6Lpm.lowMask(deep);
        int childFrom = lowerBound(routes, from, to, childHi, childLo);
        long endLo = deep > 64 ? childLo + (1L << (128 - deep)) : 0;
        long endHi = deep > 64 ? childHi + (endLo == 0 ? 1 : 0) : childHi + (1L << (64 - deep));
        int childTo = endHi == 0 && (deep <= 64 || childHi != 0) ? to : lowerBound(routes, childFrom, to, endHi, endLo);
        boolean deepChild = false;
        for (int i = childFrom; i < childTo && !deepChild; i++) {
            deepChild = length(routes, i) > deep;
        }
        long vector = nodes[3 * old];
        if (deepChild != ((vector >>> c & 1) != 0)) {
            fillNode(at, routes, from, to, depth, fallback, scratch, level);
            return;
        }
        int children = Long.bitCount(vector);
        int oldBase = (int) (nodes[3 * old + 2] >>> 32);
        int rank = Long.bitCount(vector & ((2L << c) - 1)) - 1;
        int newBase = allocateNodes(children);
        System.arraycopy(nodes, 3 * oldBase, nodes, 3 * newBase, 3 * children);
        int childFallback = fallback;
        for (int l = deep; l > depth; l--) {
            int found = search(routes, routes.length / width, hi & Ipv6Lpm.highMask(l), lo & Ipv6Lpm.lowMask(l), l);
            if (found >= 0) {
                childFallback = value(routes, found);
                break;
            }
        }
        int oldChild = oldBase + rank;
        if (nodes[3 * oldChild + 1] == 0 && nodes[3 * oldChild] != -1L) {
            writeChild(newBase + rank, routes, childFrom, childTo, deep, childFallback, scratch, level + 1);
        } else {
            copyPath(newBase + rank, oldChild, routes, childFrom, childTo, deep, childFallback, hi, lo, length,
                    scratch, level + 1);
        }
        nodes[3 * at] = vector;
        nodes[3 * at + 1] = nodes[3 * old + 1];
        nodes[3 * at + 2] = (long) newBase << 32 | (nodes[3 * old + 2] & 0xFFFF_FFFFL);
    }

    /** The first index in {@code [from, to)} whose prefix is at or after (hi, lo). */
    private int lowerBound(long[] routes, int from, int to, long hi, long lo) {
        int low = from;
        int high = to;
        while (low < high) {
            int mid = (low + high) >>> 1;
            int c = Long.compareUnsigned(hi(routes, mid), hi);
            if (c == 0) {
                c = Long.compareUnsigned(lo(routes, mid), lo);
            }
            if (c < 0) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** The value of the longest route of at most {@code directBits} bits covering block {@code b}. */
    private int blockFallback(int b) {
        int fallback = NO_ROUTE;
        for (int length = directBits; length >= 0 && fallback == NO_ROUTE; length--) {
            int[] slots = shortValues[length];
            if (slots != null) {
                fallback = slots[b >>> (directBits - length)];
            }
        }
        return fallback;
    }

    /** Builds block {@code b}'s subtree (if it has long routes) and returns its direct entry. */
    private int blockEntry(int b) {
        int fallback = blockFallback(b);
        long[] routes = blocks[b];
        if (routes == null) {
            return uniformRecord(fallback);
        }
        int[] scratch = SCRATCH.get();
        int n = routes.length / width;
        if (paint(routes, 0, n, directBits, fallback, scratch, 0) == 0) {
            long leafvec = runs(0, scratch, 0);
            int at = allocateLeaves(2 + Long.bitCount(leafvec));
            putLeafvec(slots, at, leafvec);
            storeRuns(leafvec, scratch, 0, at + 2);
            return at;
        }
        int root = allocateNodes(1);
        fillNode(root, routes, 0, n, directBits, fallback, scratch, 0);
        return NODE | root;
    }

    /** The record of a block without routes of its own: one run, shared by every such block with this fallback. */
    private int uniformRecord(int value) {
        if (uniformRecords == null) {
            uniformRecords = new HashMap<>();
        }
        Integer known = uniformRecords.get(value);
        if (known != null) {
            return known;
        }
        int at = allocateLeaves(3);
        putLeafvec(slots, at, 1);
        slots[at + 2] = value;
        uniformRecords.put(value, at);
        return at;
    }

    /**
     * Paints the 64 children of the node at {@code depth} into {@code scratch[level * 64 ..]}: each starts as
     * {@code fallback}, and the routes {@code [from, to)} that end within this node overwrite the children they cover,
     * shorter first (pre-order), so the longest wins. Returns the vector of children that routes go below.
     */
    private long paint(long[] routes, int from, int to, int depth, int fallback, int[] scratch, int level) {
        int base = level * FAN_OUT;
        Arrays.fill(scratch, base, base + FAN_OUT, fallback);
        long vector = 0;
        int deep = depth + STRIDE;
        for (int i = from; i < to; i++) {
            int length = length(routes, i);
            if (length <= depth) {
                continue;
            }
            int c = chunk(hi(routes, i), lo(routes, i), depth);
            if (length <= deep) {
                Arrays.fill(scratch, base + c, base + c + (1 << (deep - length)), value(routes, i));
            } else {
                vector |= 1L << c;
            }
        }
        return vector;
    }

    /** The leafvec of painted children: a bit where a leaf child starts a run of a new value; node children skipped. */
    private static long runs(long vector, int[] scratch, int level) {
        int base = level * FAN_OUT;
        long leafvec = 0;
        boolean first = true;
        int previous = 0;
        for (int c = 0; c < FAN_OUT; c++) {
            if ((vector >>> c & 1) == 0 && (first || scratch[base + c] != previous)) {
                leafvec |= 1L << c;
                previous = scratch[base + c];
                first = false;
            }
        }
        return leafvec;
    }

    private void storeRuns(long leafvec, int[] scratch, int level, int at) {
        for (long m = leafvec; m != 0; m &= m - 1) {
            slots[at++] = scratch[level * FAN_OUT + Long.numberOfTrailingZeros(m)];
        }
    }

    /**
     * Writes node {@code at} for the address range at {@code depth} bits, from the pre-ordered routes
     * {@code [from, to)} of that range; routes of at most {@code depth} bits are already folded into
     * {@code fallback}.
     */
    private void fillNode(int at, long[] routes, int from, int to, int depth, int fallback, int[] scratch,
            int level) {
        long vector = paint(routes, from, to, depth, fallback, scratch, level);
        long leafvec = runs(vector, scratch, level);
        int leafBase = allocateLeaves(Long.bitCount(leafvec));
        storeRuns(leafvec, scratch, level, leafBase);
        int childBase = allocateNodes(Long.bitCount(vector));
        nodes[3 * at] = vector;
        nodes[3 * at + 1] = leafvec;
        nodes[3 * at + 2] = (long) childBase << 32 | (leafBase & 0xFFFF_FFFFL);
        int deep = depth + STRIDE;
        int base = level * FAN_OUT;
        int child = childBase;
        int i = from;
        while (i < to) {
            if (length(routes, i) <= deep) {
                i++;
                continue;
            }
            int c = chunk(hi(routes, i), lo(routes, i), depth);
            int j = i + 1;
            while (j < to && chunk(hi(routes, j), lo(routes, j), depth) == c) {
                j++;
            }
            writeChild(child, routes, i, j, deep, scratch[base + c], scratch, level + 1);
            child++;
            i = j;
        }
    }

    /**
     * Writes child node {@code at} for the range at {@code depth} bits from the pre-ordered routes {@code [from, to)}
     * (some longer than {@code depth}): a skip node over the pass-through levels if there are two or more, else an
     * ordinary node.
     */
    private void writeChild(int at, long[] routes, int from, int to, int depth, int fallback, int[] scratch,
            int level) {
        int levels = passThroughLevels(routes, from, to, depth);
        if (levels < 2) {
            fillNode(at, routes, from, to, depth, fallback, scratch, level);
            return;
        }
        int first = from;
        while (length(routes, first) <= depth) {
            first++;
        }
        int below = allocateNodes(1);
        long skipped = bits(hi(routes, first), lo(routes, first), depth, levels * STRIDE);
        nodes[3 * at] = (long) levels << SKIP_SHIFT | skipped;
        nodes[3 * at + 1] = 0;
        nodes[3 * at + 2] = (long) below << 32 | (fallback & 0xFFFF_FFFFL);
        fillNode(below, routes, from, to, depth + levels * STRIDE, fallback, scratch, level);
    }

    /**
     * How many levels from {@code depth} down are pure pass-through for the routes {@code [from, to)}: every route
     * (longer than {@code depth}) goes below the level and all take the same child there, so the level's node would
     * hold one child node and leaves that all repeat the fallback. At most {@link #MAX_SKIP_LEVELS}.
     */
    private int passThroughLevels(long[] routes, int from, int to, int depth) {
        int first = from;
        while (length(routes, first) <= depth) {
            first++;
        }
        long hi = hi(routes, first);
        long lo = lo(routes, first);
        int levels = 0;
        while (levels < MAX_SKIP_LEVELS) {
            int at = depth + levels * STRIDE;
            int c = chunk(hi, lo, at);
            for (int i = first; i < to; i++) {
                int length = length(routes, i);
                if (length > depth && (length <= at + STRIDE || chunk(hi(routes, i), lo(routes, i), at) != c)) {
                    return levels;
                }
            }
            levels++;
        }
        return levels;
    }

    private int allocateNodes(int count) {
        if (nodeTop + count > nodes.length / 3) {
            if (!fresh) {
                throw Full.INSTANCE;
            }
            nodes = Arrays.copyOf(nodes, 3 * Math.max(nodeTop + count, nodes.length / 3 * 2));
        }
        int at = nodeTop;
        nodeTop += count;
        return at;
    }

    private int allocateLeaves(int count) {
        if (leafTop + count > slots.length) {
            if (!fresh) {
                throw Full.INSTANCE;
            }
            slots = Arrays.copyOf(slots, Math.max(leafTop + count, slots.length * 2));
        }
        int at = leafTop;
        leafTop += count;
        return at;
    }
}
