package dev.vnetd.flowtable;

/**
 * A worker's batch of flow keys, looked up together by {@link FlowTable#lookup(FlowLookupBatch)}.
 *
 * <p>Why: a lookup in a table of a million flows is one cache miss (the 64-byte slot; the tag words are small enough
 * to stay cached), and the CPU overlaps only as many misses as its reorder window holds instructions of later
 * packets. Looking up a receive batch at once lets the table issue the slot loads of every key in one tight loop
 * before it compares any, so the misses overlap (the idea of DPDK's {@code rte_hash_lookup_bulk}). One batch per
 * worker, reused for every receive batch: nothing is allocated per packet.
 */
public final class FlowLookupBatch {
    final int[] vn;
    final int[] kind;
    final int[] ports;
    final long[] srcHigh;
    final long[] srcLow;
    final long[] dstHigh;
    final long[] dstLow;
    final long[] hash;
    final long[] firstTags;
    final long[] secondTags;
    final long[] handles;
    /** The candidate slot of each key: the first way of its buckets whose tag matches. */
    final int[] slots;
    int size;

    /** A batch of up to {@code capacity} keys, e.g. the worker's receive batch size. */
    public FlowLookupBatch(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("batch capacity must be positive, was " + capacity);
        }
        vn = new int[capacity];
        kind = new int[capacity];
        ports = new int[capacity];
        srcHigh = new long[capacity];
        srcLow = new long[capacity];
        dstHigh = new long[capacity];
        dstLow = new long[capacity];
        hash = new long[capacity];
        firstTags = new long[capacity];
        secondTags = new long[capacity];
        handles = new long[capacity];
        slots = new int[capacity];
    }

    /** Adds a key (arguments as for {@link FlowTable#lookup}); returns its index, or -1 when the batch is full. */
    public int add(int vn, int family, int proto, long srcHigh, long srcLow, long dstHigh, long dstLow, int sport,
            int dport) {
        int index = size;
        if (index == handles.length) {
            return -1;
        }
        this.vn[index] = vn;
        this.kind[index] = FlowTable.kind(family, proto);
        this.ports[index] = FlowTable.ports(sport, dport);
        this.srcHigh[index] = srcHigh;
        this.srcLow[index] = srcLow;
        this.dstHigh[index] = dstHigh;
        this.dstLow[index] = dstLow;
        handles[index] = FlowTable.NOT_FOUND;
        size = index + 1;
        return index;
    }

    /** The handle the last lookup found for the key at {@code index}, or {@link FlowTable#NOT_FOUND}. */
    public long handle(int index) {
        return handles[index];
    }

    /** Keys in the batch. */
    public int size() {
        return size;
    }

    /** Most keys the batch holds. */
    public int capacity() {
        return handles.length;
    }

    /** Empties the batch for the next receive batch. */
    public void clear() {
        size = 0;
    }
}
