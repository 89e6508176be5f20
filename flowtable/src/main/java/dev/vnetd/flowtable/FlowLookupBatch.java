package dev.vnetd.flowtable;

import java.lang.foreign.MemorySegment;

/**
 * A worker's batch of flow keys, looked up together by {@link FlowTable#lookup(FlowLookupBatch)}.
 *
 * <p>Why: a lookup in a table of a million flows misses the caches: on the 64-byte slot, and often on the two tag
 * words (1.2 MB of them at a million flows, more than the L2 beside the streaming slots), and the CPU overlaps only
 * as many misses as its reorder window holds instructions of later packets. Looking up a receive batch at once
 * lets the table issue the loads of every key in tight loops (on x86-64 Linux, prefetch the tag words of all keys,
 * then the slots a few keys at a time, with {@link Prefetch}) before it compares any, so the misses overlap (the
 * idea of DPDK's {@code rte_hash_lookup_bulk}). One batch per worker, reused for every receive batch: nothing is
 * allocated per packet.
 */
public final class FlowLookupBatch {
    /** Longs per key in {@link #keys}: one 64-byte line, so a key's fields arrive together. */
    static final int KEY_STRIDE = 8;
    static final int SRC_LOW = 0;
    static final int DST_LOW = 1;
    static final int SRC_HIGH = 2;
    static final int DST_HIGH = 3;
    /** {@code vn << 32}: the high half of the hot slot's first long, whose low half is the version. */
    static final int VN_HIGH = 4;
    /** {@code kind << 32 | ports}: the low 48 bits of the hot slot's long at the ports field. */
    static final int KIND_PORTS = 5;
    static final int HASH = 6;

    /**
     * The keys, packed as the table compares them ({@link #KEY_STRIDE} longs each, fields at the offsets above), with
     * their hash, computed by {@link #add} while the key is in registers: one array, so the lookup's passes read a
     * key's fields with one bounds check and keep nothing but a few locals live.
     */
    final long[] keys;
    /** {@link #keys} as a heap segment, made once, for the tag prefetch stub's critical downcall. */
    final MemorySegment keysSegment;
    final long[] handles;
    /** The candidate slot of each key: the first way of its buckets whose tag matches. */
    final int[] slots;
    /** {@link #slots} as a heap segment, made once, for the prefetch stub's critical downcall. */
    final MemorySegment slotsSegment;
    /** Indexes of the keys whose candidate slot did not hold them, searched after the compare pass. */
    final int[] misses;
    /**
     * The cache lines of the found flows' counters, for {@link FlowTable#prefetchCounters}: up to two a key, as
     * 64-byte line numbers from the table's first line.
     */
    final int[] counterLines;
    /** {@link #counterLines} as a heap segment, made once, for the prefetch stub's critical downcall. */
    final MemorySegment counterLinesSegment;
    /** Where the tag and slot passes leave what they loaded, so the compiler keeps loads made only for the miss. */
    long touched;
    int size;

    /** A batch of up to {@code capacity} keys, e.g. the worker's receive batch size. */
    public FlowLookupBatch(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("batch capacity must be positive, was " + capacity);
        }
        keys = new long[capacity * KEY_STRIDE];
        keysSegment = MemorySegment.ofArray(keys);
        handles = new long[capacity];
        slots = new int[capacity];
        slotsSegment = MemorySegment.ofArray(slots);
        misses = new int[capacity];
        counterLines = new int[capacity * 2];
        counterLinesSegment = MemorySegment.ofArray(counterLines);
    }

    /** Adds a key (arguments as for {@link FlowTable#lookup}); returns its index, or -1 when the batch is full. */
    public int add(int vn, int family, int proto, long srcHigh, long srcLow, long dstHigh, long dstLow, int sport,
            int dport) {
        int index = size;
        if (index == handles.length) {
            return -1;
        }
        int kind = FlowTable.kind(family, proto);
        int ports = FlowTable.ports(sport, dport);
        int at = index * KEY_STRIDE;
        long[] k = keys;
        k[at + SRC_LOW] = srcLow;
        k[at + DST_LOW] = dstLow;
        k[at + SRC_HIGH] = srcHigh;
        k[at + DST_HIGH] = dstHigh;
        k[at + VN_HIGH] = (long) vn << 32;
        k[at + KIND_PORTS] = (long) (kind & 0xFFFF) << 32 | ports & 0xFFFF_FFFFL;
        k[at + HASH] = FlowTable.hash(vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
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
