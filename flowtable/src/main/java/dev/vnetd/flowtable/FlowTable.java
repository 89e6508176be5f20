package dev.vnetd.flowtable;

import java.io.File;
import java.io.IOException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

import org.agrona.BufferUtil;
import org.agrona.IoUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The ARR flow table: fixed capacity, off-heap, lookups never lock and never see a torn flow.
 *
 * <p>Design: two-choice bucketized hashing with per-slot tags, the layout of MemC3 (Fan, Andersen, Kaminsky,
 * "MemC3: Compact and Concurrent MemCache with Dumber Caching and Smarter Hashing", NSDI 2013) and its
 * version-counter optimistic reads, without cuckoo displacement: a flow never moves once placed, so a reader can
 * never miss a flow that is being moved. Readers validate each slot with a seqlock (Lameter, "Effective
 * synchronization on Linux/NUMA systems", 2005; the Linux {@code seqcount_t}).
 *
 * <pre>
 * one buffer (anonymous memory on transparent huge pages, or a memory-mapped file with persist):
 * ┌────────┬──────────────────────────┬─────────────────────────────┬─────────────────────────────┐
 * │ header │ bucket tags (8 B)        │ hot slots (64 B, 1 line)    │ cold slots (40 B)           │
 * │  64 B  │ one byte per way         │ slot = bucket * 8 + way     │ counters and created time   │
 * └────────┴──────────────────────────┴─────────────────────────────┴─────────────────────────────┘
 * tags: byte w is 0 when way w is free, else 1..255 from 8 bits of the flow's hash (a reader compares the 8
 * tags of a bucket in one long and reads only the slots whose tag matches; format version 1: 0x80 | 7 bits)
 *
 * hot slot (what a lookup reads)                    cold slot (what a packet updates)
 *  0 version   int  even: stable, odd: being written   0 packets from origin  long
 *  4 vn        int                                      8 bytes from origin    long
 *  8 src       2 longs (IPv4: low long, high 0)        16 packets to origin    long
 * 24 dst       2 longs                                 24 bytes to origin      long
 * 40 ports     int  sport << 16 | dport (ICMP: id)     32 created millis       long
 * 44 kind      short family << 8 | proto
 * 46 original port    short (port translation)      a flow lives in bucket b1 or b2 of its hash;
 * 48 origin tunnel    int                           inserts of one flow take the insert lock of b1's
 * 52 egress tunnel    int                           stripe, so racing inserts of one flow end in one slot
 * 56 last seen        int  low 32 bits of millis
 * 60 flags  byte (LIVE, REPLIED, TRANSLATED)   61 tcp state  byte   62 unused
 * </pre>
 *
 * <p>Invariants that make lock-free reads safe:
 * <ol>
 *   <li>Every change to a hot slot other than last-seen happens between a CAS of the version from even to odd and
 *       a release store of the next even version. A reader reads the version (acquire), the fields, an acquire
 *       fence, the version again, and uses the fields only when both versions are equal and even.</li>
 *   <li>A way is claimed by CAS of its tag byte from 0, and freed by clearing the tag after the slot is marked not
 *       live; so a way has one owner between claim and free, and a reader that matches a stale tag finds the slot
 *       not live or holding another key and moves on.</li>
 *   <li>A flow is only ever inserted while holding the insert lock of its first bucket's stripe, after looking in
 *       both buckets; so one key is in at most one slot. Lookups and removals never take that lock.</li>
 *   <li>Last-seen and the cold counters change outside the seqlock, by single atomic stores and adds: each value is
 *       whole, none of them is part of a flow's identity, and the sweep re-checks last-seen under the slot lock
 *       before it removes a flow. (A packet counted through a handle that went stale between lookup and touch
 *       lands on the slot's next flow; {@link #validate(long)} tells a caller that cares.)</li>
 * </ol>
 *
 * <p>Quotas: the live flows of every origin tunnel are counted on the heap ({@link #liveFlows(int)}), one int per
 * origin. An insert reserves its origin's place (increment, then compare with the caller's limit) before it claims
 * a way, and every removal (sweep, eviction, {@link #remove}) gives it back while it still owns the way, reading the
 * origin from the slot; so a count never exceeds a limit, and never misses a flow. Opening a persisted table
 * recounts them.
 *
 * <p>Lookup path: the tags are 1 byte per slot (about 1.2 MB for a million flows, so they mostly stay in the CPU
 * caches) and the hot slots are 64 bytes each (far larger than the caches): a lookup is one cache miss, the slot.
 * What decides its cost is whether the CPU can start the next packets' misses while it waits, so the path from the
 * hash to the slot has no data-dependent branch: the candidate slot (first tag match in the first bucket, else in the
 * second) is picked with arithmetic, the key is compared as one OR of XORs, and the one branch that remains (found
 * or not) is almost always taken the same way. The reads go straight to the memory's address rather than through
 * {@link UnsafeBuffer}'s bounds-checked accessors; every bucket and slot they reach comes from
 * {@link #firstBucket} and {@link #secondBucket}, which are below the bucket count by construction, so the bounds
 * are argued once, here, rather than checked per read.
 *
 * <p>Progress: a lookup never waits for a lock; it re-reads a slot while a writer is inside it, which is a handful
 * of stores long (a writer descheduled inside that window delays readers of that one slot). Inserts of flows whose
 * first buckets share a lock stripe (1 in 1024) serialize for the length of one insert.
 *
 * <p>Threading: {@link #lookup}, {@link #insert}, {@link #touch} and the accessors may be called from any number
 * of workers; {@link #sweep}, {@link #forEach} and {@link #remove} from a control thread (any thread works, they are
 * simply slower). Times are milliseconds from a wall clock ({@link System#currentTimeMillis()}), passed in by the
 * caller, so that times stored in a persisted table stay meaningful after a restart.
 *
 * <p>Handles: {@link #lookup} and {@link #insert} return a handle, a non-negative long that packs the slot index and
 * the slot's version; negative values are statuses ({@link #NOT_FOUND}, {@link #TABLE_FULL}). A handle stays usable
 * while the flow lives; {@link #validate(long)} says whether the slot still holds the same flow unchanged, which a
 * caller checks after reading several fields that must belong together (a full table may evict an unreplied flow
 * while another worker reads it).
 */
public final class FlowTable implements AutoCloseable {
    /** {@link #lookup} found no flow. */
    public static final long NOT_FOUND = -1;
    /** {@link #insert} found no room even after evicting expired and unreplied flows; counted. */
    public static final long TABLE_FULL = -2;
    /**
     * {@link #insert} refused the flow because its origin tunnel already holds as many flows as its quota allows
     * (a tunnel's {@code max_flows}); nothing was evicted for it.
     */
    public static final long QUOTA_EXCEEDED = -3;
    /**
     * Origin tunnel ids whose live flows are counted: {@code 0 .. MAX_COUNTED_ORIGINS - 1}, one int each (256 KiB of
     * heap). Far more tunnels than an edge configures; a flow with an origin outside the range is never limited.
     */
    public static final int MAX_COUNTED_ORIGINS = 65_536;
    /** The origin limit of {@link #insert} that never refuses a flow: no quota. */
    public static final int NO_QUOTA = Integer.MAX_VALUE;
    /** {@link #originalPort(int)} of a flow without port translation. */
    public static final int NO_PORT = -1;

    /** Address family value of IPv4 keys (addresses in the low long, high long 0). */
    public static final int FAMILY_IPV4 = 4;
    /** Address family value of IPv6 keys (first 8 bytes of the address in the high long, big-endian). */
    public static final int FAMILY_IPV6 = 6;
    /** IP protocol number of ICMP. */
    public static final int PROTO_ICMP = 1;
    /** IP protocol number of TCP. */
    public static final int PROTO_TCP = 6;
    /** IP protocol number of UDP. */
    public static final int PROTO_UDP = 17;
    /** IP protocol number of ICMPv6. */
    public static final int PROTO_ICMPV6 = 58;

    /**
     * Slots per configured flow: 1.2, so a full table is 83% occupied and takes 1.2 * 105 = 126 bytes per flow.
     * Two-choice placement into 8-way buckets without displacement finds both buckets full for about 8 in 10,000
     * inserts as the table approaches capacity (measured: 1 M random flows into a 1 M table), and those fall back to
     * the full-table policy of their two buckets; more headroom would break the 128-byte budget.
     */
    public static final double SLOTS_PER_FLOW = 1.2;
    /** Largest capacity: the table must fit one 2 GiB buffer. */
    public static final int MAX_CAPACITY = 16_000_000;

    static final int WAYS = 8;
    static final int HEADER_LENGTH = 64;
    static final int BUCKET_HEADER_LENGTH = 8;
    static final int HOT_SLOT_LENGTH = 64;
    static final int COLD_SLOT_LENGTH = 40;
    /**
     * Keys whose candidate slots a batch lookup prefetches at once. Measured at 1 M flows (interleaved A/B against
     * plain loads): 16 gains 1.09x; 8, 12 and 20 gain nothing, 24 to 64 lose 15-26%: with more misses in flight
     * than the core has miss buffers, prefetches are dropped and the compare pass takes the misses one by one.
     */
    static final int PREFETCH_CHUNK = 16;
    static final long MAGIC = 0x574F_4C46_5445_4E56L;
    /** 2 since all 255 nonzero tag values are used; version 1 files are upgraded when opened. */
    public static final int FORMAT_VERSION = 2;

    static final int MAGIC_OFFSET = 0;
    static final int FORMAT_VERSION_OFFSET = 8;
    static final int CAPACITY_OFFSET = 12;
    static final int BUCKET_COUNT_OFFSET = 16;
    static final int HOT_SLOT_LENGTH_OFFSET = 20;
    static final int COLD_SLOT_LENGTH_OFFSET = 24;

    private static final int TAGS_OFFSET = 0;
    /** Insert lock stripes: far more than workers, so two inserts rarely share one; each on its own cache line. */
    private static final int INSERT_LOCK_STRIPES = 1024;
    private static final int INSERT_LOCK_SPACING = 16;

    private static final int VERSION_OFFSET = 0;
    private static final int VN_OFFSET = 4;
    private static final int SRC_HIGH_OFFSET = 8;
    private static final int SRC_LOW_OFFSET = 16;
    private static final int DST_HIGH_OFFSET = 24;
    private static final int DST_LOW_OFFSET = 32;
    private static final int PORTS_OFFSET = 40;
    private static final int KIND_OFFSET = 44;
    private static final int ORIGINAL_PORT_OFFSET = 46;
    private static final int ORIGIN_TUNNEL_OFFSET = 48;
    private static final int EGRESS_TUNNEL_OFFSET = 52;
    private static final int LAST_SEEN_OFFSET = 56;
    private static final int FLAGS_OFFSET = 60;
    private static final int TCP_STATE_OFFSET = 61;

    private static final int PACKETS_FORWARD_OFFSET = 0;
    private static final int BYTES_FORWARD_OFFSET = 8;
    private static final int PACKETS_REVERSE_OFFSET = 16;
    private static final int BYTES_REVERSE_OFFSET = 24;
    private static final int CREATED_OFFSET = 32;
    /** The cold slot's packet and byte counters, both directions: what {@link #touch} adds to. */
    private static final int COUNTERS_LENGTH = 32;
    private static final int CACHE_LINE = 64;
    private static final int LINE_SHIFT = 6;

    private static final int FLAG_LIVE = 1;
    private static final int FLAG_REPLIED = 2;
    private static final int FLAG_TRANSLATED = 4;

    private static final long TAG_MASK_HIGH = 0x8080_8080_8080_8080L;
    private static final long TAG_ONES = 0x0101_0101_0101_0101L;
    private static final long CREATED_BIT = 1L << 31;
    private static final long SLOT_MASK = 0x7FFF_FFFFL;
    /** Of a hot slot's first long: the vn (high half) and the version's odd bit, a writer inside the slot. */
    private static final long VN_AND_ODD_VERSION = 0xFFFF_FFFF_0000_0001L;
    /** Of a hot slot's long at {@link #PORTS_OFFSET}: ports and kind; the top 16 bits are the original port. */
    private static final long KIND_PORTS_MASK = 0x0000_FFFF_FFFF_FFFFL;
    private static final int VERSION_MASK = 0x7FFF_FFFF;

    static {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            // the batch lookup reads the version and vn, and the ports and kind, as one long each
            throw new ExceptionInInitializerError("the flow table's batch lookup assumes a little-endian CPU");
        }
    }

    private final UnsafeBuffer buffer;
    /** The format version the file had when opened ({@link #FORMAT_VERSION} for a new table). */
    private int openedFormatVersion = FORMAT_VERSION;
    /**
     * Address of byte 0 of {@link #buffer}, for the lookup paths' reads: they only touch buckets and slots derived
     * from a hash by {@link #firstBucket} and {@link #secondBucket}, which are below {@link #bucketCount}, so every
     * such read is inside the buffer without a check per access.
     */
    private final long address;
    private final Runnable release;
    private final boolean hugePages;
    private final AtomicIntegerArray insertLocks = new AtomicIntegerArray(INSERT_LOCK_STRIPES * INSERT_LOCK_SPACING);
    private final int capacity;
    private final int bucketCount;
    private final int bucketBase;
    private final int hotBase;
    private final int coldBase;
    private final FlowTimeouts timeouts;

    private final AtomicInteger live = new AtomicInteger();
    /** Live flows per origin tunnel: incremented before a flow is placed, decremented when its slot is freed. */
    private final AtomicIntegerArray liveByOrigin = new AtomicIntegerArray(MAX_COUNTED_ORIGINS);
    private final LongAdder inserts = new LongAdder();
    private final LongAdder tableFull = new LongAdder();
    private final LongAdder[] evictions = new LongAdder[EvictionReason.values().length];

    private FlowTable(UnsafeBuffer buffer, boolean hugePages, Runnable release, int capacity, FlowTimeouts timeouts) {
        if (buffer.byteArray() != null) {
            throw new IllegalArgumentException("the flow table lives off-heap");
        }
        this.buffer = buffer;
        this.address = buffer.addressOffset();
        this.hugePages = hugePages;
        this.release = release;
        this.capacity = capacity;
        this.bucketCount = bucketCount(capacity);
        this.bucketBase = HEADER_LENGTH;
        this.hotBase = align64(bucketBase + bucketCount * BUCKET_HEADER_LENGTH);
        this.coldBase = hotBase + bucketCount * WAYS * HOT_SLOT_LENGTH;
        this.timeouts = timeouts;
        for (int i = 0; i < evictions.length; i++) {
            evictions[i] = new LongAdder();
        }
    }

    /**
     * A table of {@code capacity} flows in anonymous memory on transparent huge pages (Linux; plain direct memory
     * where that is unavailable, see {@link #hugePages()}); {@link #close()} frees it.
     */
    public static FlowTable allocate(int capacity, FlowTimeouts timeouts) {
        checkCapacity(capacity);
        int length = Math.toIntExact(length(capacity));
        long base = HugePages.map(length);
        FlowTable table;
        if (base != 0) {
            table = new FlowTable(new UnsafeBuffer(HugePages.aligned(base), length), HugePages.advise(base, length),
                    () -> HugePages.unmap(base, length), capacity, timeouts);
        } else {
            ByteBuffer memory = ByteBuffer.allocateDirect(length + HOT_SLOT_LENGTH);
            int misalignment = (int) (BufferUtil.address(memory) & (HOT_SLOT_LENGTH - 1));
            int offset = misalignment == 0 ? 0 : HOT_SLOT_LENGTH - misalignment;
            table = new FlowTable(new UnsafeBuffer(memory, offset, length), false, () -> BufferUtil.free(memory),
                    capacity, timeouts);
        }
        table.writeHeader();
        return table;
    }

    /**
     * A table of {@code capacity} flows in the memory-mapped file {@code path} ({@code flow_table.persist}): created
     * when missing or empty, otherwise opened after checking its header (magic, format version, capacity, slot
     * sizes) and recovered: flows that a crash left half-written are dropped and the live count recounted. A file
     * of format version 1 (other tag values) is re-tagged in place first, keeping its flows. The file
     * is in native byte order and meant for the machine that wrote it. Flows survive a restart of the process and
     * reach the disk when the kernel writes the pages back or at {@link #close()}, not at every change.
     *
     * @throws IOException when the file cannot be mapped or its header does not describe this table
     */
    public static FlowTable mapped(Path path, int capacity, FlowTimeouts timeouts) throws IOException {
        checkCapacity(capacity);
        long length = length(capacity);
        File file = path.toFile();
        if (!Files.exists(path) || Files.size(path) == 0) {
            MappedByteBuffer memory = IoUtil.mapNewFile(file, length, true);
            FlowTable table = new FlowTable(new UnsafeBuffer(memory), false, () -> unmap(memory), capacity, timeouts);
            table.writeHeader();
            return table;
        }
        if (Files.size(path) != length) {
            throw new IOException(path + ": flow table file has " + Files.size(path) + " bytes, capacity "
                    + capacity + " needs " + length + " (was flow_table.capacity changed? move the file away)");
        }
        MappedByteBuffer memory = IoUtil.mapExistingFile(file, "flow table");
        FlowTable table = new FlowTable(new UnsafeBuffer(memory), false, () -> unmap(memory), capacity, timeouts);
        try {
            table.checkHeader(path);
        } catch (IOException e) {
            IoUtil.unmap(memory);
            throw e;
        }
        table.openedFormatVersion = table.buffer.getInt(FORMAT_VERSION_OFFSET);
        if (table.openedFormatVersion == 1) {
            table.upgradeFromVersion1();
        }
        table.recover();
        return table;
    }

    /**
     * The format version of the persisted file as it was opened: {@link #FORMAT_VERSION}, or 1 when this open upgraded
     * a version-1 file in place (for the operator's log); {@link #FORMAT_VERSION} for a new or in-memory table.
     */
    public int openedFormatVersion() {
        return openedFormatVersion;
    }

    /** Bytes of memory (or file) a table of {@code capacity} flows takes. */
    public static long length(int capacity) {
        long buckets = bucketCount(capacity);
        return align64(HEADER_LENGTH + buckets * BUCKET_HEADER_LENGTH)
                + buckets * WAYS * (long) (HOT_SLOT_LENGTH + COLD_SLOT_LENGTH);
    }

    // ---------------------------------------------------------------------------------------------- per packet

    /**
     * The handle of the flow with this key, or {@link #NOT_FOUND}. Never blocks on another thread; retries a slot
     * only while a writer is inside it. IPv4 addresses go in the low longs with the high longs 0. Compares the key
     * with one candidate slot first (see the lookup path in the class comment), and searches both buckets only when
     * that slot is not the flow: a tag false positive, a missing flow, or a slot being written.
     */
    public long lookup(int vn, int family, int proto, long srcHigh, long srcLow, long dstHigh, long dstLow,
            int sport, int dport) {
        int kind = kind(family, proto);
        int ports = ports(sport, dport);
        long hash = hash(vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
        int tag = tag(hash);
        int first = firstBucket(hash);
        int second = secondBucket(hash);
        long firstTags = tags(first);
        long secondTags = tags(second);
        int slot = candidate(first, second, matches(firstTags, tag), matches(secondTags, tag));
        long handle = stableHandle(slot, vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
        if (handle != NOT_FOUND) {
            return handle;
        }
        handle = find(first, firstTags, tag, vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
        if (handle == NOT_FOUND) {
            handle = find(second, secondTags, tag, vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
        }
        return handle;
    }

    /**
     * Looks up every key of {@code batch} and leaves each handle (or {@link #NOT_FOUND}) in
     * {@link FlowLookupBatch#handle(int)}. Same result as {@link #lookup} key by key, faster on large tables (DPDK's
     * {@code rte_hash_lookup_bulk}): four passes over the batch (two and the prefetch stubs' calls with the
     * prefetch), each a short loop, and one over its misses.
     * <ol>
     *   <li>Tags: one load of both tag words of every key (hashed by {@link FlowLookupBatch#add}) and nothing else.
     *       A load that misses holds up retirement, so how many misses are in flight at once is how many iterations
     *       of the loop that issues them fit in the CPU's reorder window: loops of a few instructions each let the
     *       misses of the whole batch overlap, where a loop that also chose the slot fitted only a handful. Where
     *       {@link #softwarePrefetch()}, one call to {@link Prefetch#tags} prefetches all of them instead, so no load
     *       waits before the candidates start: they meet the first keys' words in flight and the rest arrive while
     *       the first keys are computed (measured 1.05-1.10x of the loads at 1 M flows).</li>
     *   <li>Candidates: the candidate slot of every key, from the tag words now in cache, in chunks of
     *       {@value #PREFETCH_CHUNK} keys; where {@link #softwarePrefetch()}, each chunk's candidate slots are
     *       prefetched by {@link Prefetch} as soon as they are known, so their lines arrive while the next chunks'
     *       candidates are computed (a prefetch retires at once, a load that misses does not).</li>
     *   <li>Slots, without the prefetch: one load of every candidate slot and nothing else, for the same reason as
     *       the tags.</li>
     *   <li>Compare, from cache: each key against its candidate slot under the slot's seqlock; the index of a key
     *       that is not there (tag false positive, missing flow, slot being written) goes on a list, without a
     *       branch.</li>
     *   <li>Misses: one load of every slot whose tag matches in either bucket of each listed key, then the search
     *       of both buckets as {@link #lookup} does, from cache. About 2% of keys at 1 M flows have a wrong
     *       candidate (4% with format version 1's 7-bit tags); searched in place, each cost a DRAM miss that nothing
     *       overlapped (12% of the batch's time with 7-bit tags), loaded together their misses overlap.</li>
     * </ol>
     * The tag words are read with plain loads: a tag only chooses which slot to compare, and whatever word was
     * read, a key is found only in a slot whose version, live flag and key the compare pass checked under the
     * seqlock; a candidate chosen from a stale word fails that check and falls back to the search, which reads the
     * tags again with acquire loads. (An acquire load would also make the compiler re-read every field and array
     * reference after it, in every iteration.)
     */
    public void lookup(FlowLookupBatch batch) {
        lookup(batch, Prefetch.AVAILABLE);
    }

    /**
     * Whether {@link #lookup(FlowLookupBatch)} prefetches candidate slots with {@link Prefetch}'s generated stub
     * (x86-64 Linux with native access); false means plain loads, as on any other platform.
     */
    public static boolean softwarePrefetch() {
        return Prefetch.AVAILABLE;
    }

    /**
     * Brings into the cache, for every key the last {@link #lookup(FlowLookupBatch)} of {@code batch} found, the
     * counters {@link #touch} adds to: the first {@value #COUNTERS_LENGTH} bytes of the flow's cold slot, away from the
     * hot slot the lookup read (two lines when they straddle one). For a worker that will touch the batch's flows one
     * packet after another: the misses overlap here instead of stalling each packet in turn. Where {@link Prefetch}
     * is available the lines are prefetched ({@code PREFETCHT0}: nothing waits for them); elsewhere they are loaded,
     * and the sum of the loaded words is returned for the caller to keep (with the prefetch, 0).
     */
    public long prefetchCounters(FlowLookupBatch batch) {
        return prefetchCounters(batch, Prefetch.AVAILABLE);
    }

    /** {@link #prefetchCounters(FlowLookupBatch)}, with {@code prefetch} (only where available) or plain loads. */
    long prefetchCounters(FlowLookupBatch batch, boolean prefetch) {
        int size = batch.size;
        long[] handles = batch.handles;
        int[] lines = batch.counterLines;
        long firstLine = address & -CACHE_LINE;
        int lead = (int) (address - firstLine);
        int count = 0;
        for (int i = 0; i < size; i++) {
            long handle = handles[i];
            if (handle >= 0) {
                int start = lead + cold(slot(handle));
                int first = start >>> LINE_SHIFT;
                int last = (start + COUNTERS_LENGTH - 1) >>> LINE_SHIFT;
                lines[count] = first;
                lines[count + 1] = last;
                count += first == last ? 1 : 2;
            }
        }
        if (prefetch) {
            Prefetch.slots(firstLine, batch.counterLinesSegment, 0, count);
            return 0;
        }
        long loaded = 0;
        for (int k = 0; k < count; k++) {
            loaded += UnsafeApi.getLong(null, firstLine + ((long) lines[k] << LINE_SHIFT));
        }
        return loaded;
    }

    /** {@link #lookup(FlowLookupBatch)}, with {@code prefetch} (only where {@link Prefetch#AVAILABLE}) or not. */
    void lookup(FlowLookupBatch batch, boolean prefetch) {
        int size = batch.size;
        long[] keys = batch.keys;
        int[] slots = batch.slots;
        long[] handles = batch.handles;
        long tagsAddress = address + bucketBase + TAGS_OFFSET;
        long hotAddress = address + hotBase;
        long touched = 0;
        if (prefetch) {
            Prefetch.tags(tagsAddress, batch.keysSegment, 0, size, bucketCount);
        } else {
            for (int i = 0; i < size; i++) {
                long hash = keys[i * FlowLookupBatch.KEY_STRIDE + FlowLookupBatch.HASH];
                touched ^= UnsafeApi.getLong(null, tagsAddress + (long) firstBucket(hash) * BUCKET_HEADER_LENGTH)
                        ^ UnsafeApi.getLong(null, tagsAddress + (long) secondBucket(hash) * BUCKET_HEADER_LENGTH);
            }
        }
        for (int from = 0; from < size; from += PREFETCH_CHUNK) {
            int to = Math.min(size, from + PREFETCH_CHUNK);
            for (int i = from; i < to; i++) {
                long hash = keys[i * FlowLookupBatch.KEY_STRIDE + FlowLookupBatch.HASH];
                int first = firstBucket(hash);
                int second = secondBucket(hash);
                int tag = tag(hash);
                long firstTags = UnsafeApi.getLong(null, tagsAddress + (long) first * BUCKET_HEADER_LENGTH);
                long secondTags = UnsafeApi.getLong(null, tagsAddress + (long) second * BUCKET_HEADER_LENGTH);
                slots[i] = candidate(first, second, matches(firstTags, tag), matches(secondTags, tag));
            }
            if (prefetch) {
                Prefetch.slots(hotAddress, batch.slotsSegment, from, to);
            }
        }
        if (!prefetch) {
            for (int i = 0; i < size; i++) {
                touched ^= UnsafeApi.getLong(null, hotAddress + (long) slots[i] * HOT_SLOT_LENGTH);
            }
        }
        int[] misses = batch.misses;
        int missed = 0;
        for (int i = 0; i < size; i++) {
            int at = i * FlowLookupBatch.KEY_STRIDE;
            int slot = slots[i];
            long hot = hotAddress + (long) slot * HOT_SLOT_LENGTH;
            long head = UnsafeApi.getLongAcquire(null, hot + VERSION_OFFSET);
            long differs = (head & VN_AND_ODD_VERSION) ^ keys[at + FlowLookupBatch.VN_HIGH]
                    | UnsafeApi.getLong(null, hot + SRC_LOW_OFFSET) ^ keys[at + FlowLookupBatch.SRC_LOW]
                    | UnsafeApi.getLong(null, hot + DST_LOW_OFFSET) ^ keys[at + FlowLookupBatch.DST_LOW]
                    | UnsafeApi.getLong(null, hot + SRC_HIGH_OFFSET) ^ keys[at + FlowLookupBatch.SRC_HIGH]
                    | UnsafeApi.getLong(null, hot + DST_HIGH_OFFSET) ^ keys[at + FlowLookupBatch.DST_HIGH]
                    | (UnsafeApi.getLong(null, hot + PORTS_OFFSET) ^ keys[at + FlowLookupBatch.KIND_PORTS])
                            & KIND_PORTS_MASK
                    | ~UnsafeApi.getByte(null, hot + FLAGS_OFFSET) & FLAG_LIVE;
            VarHandle.acquireFence();
            differs |= UnsafeApi.getInt(null, hot + VERSION_OFFSET) ^ (int) head;
            handles[i] = handle(slot, (int) head);
            misses[missed] = i;
            missed += differs == 0 ? 0 : 1;
        }
        for (int m = 0; m < missed; m++) {
            long hash = keys[misses[m] * FlowLookupBatch.KEY_STRIDE + FlowLookupBatch.HASH];
            int tag = tag(hash);
            touched ^= touchMatches(tagsAddress, hotAddress, firstBucket(hash), tag)
                    ^ touchMatches(tagsAddress, hotAddress, secondBucket(hash), tag);
        }
        batch.touched = touched;
        for (int m = 0; m < missed; m++) {
            int i = misses[m];
            handles[i] = search(keys, i * FlowLookupBatch.KEY_STRIDE);
        }
    }

    /** Loads the first long of every slot of {@code bucket} whose tag matches, for the batch's miss wave. */
    private static long touchMatches(long tagsAddress, long hotAddress, int bucket, int tag) {
        long touched = 0;
        long match = matches(UnsafeApi.getLong(null, tagsAddress + (long) bucket * BUCKET_HEADER_LENGTH), tag);
        for (; match != 0; match &= match - 1) {
            int slot = bucket * WAYS + (Long.numberOfTrailingZeros(match) >>> 3);
            touched ^= UnsafeApi.getLong(null, hotAddress + (long) slot * HOT_SLOT_LENGTH);
        }
        return touched;
    }

    /** The batch's fallback for the key at {@code at} of {@code keys}: both buckets, as {@link #lookup} searches. */
    private long search(long[] keys, int at) {
        long hash = keys[at + FlowLookupBatch.HASH];
        int vn = (int) (keys[at + FlowLookupBatch.VN_HIGH] >>> 32);
        long kindPorts = keys[at + FlowLookupBatch.KIND_PORTS];
        int kind = (int) (kindPorts >>> 32);
        int ports = (int) kindPorts;
        long srcHigh = keys[at + FlowLookupBatch.SRC_HIGH];
        long srcLow = keys[at + FlowLookupBatch.SRC_LOW];
        long dstHigh = keys[at + FlowLookupBatch.DST_HIGH];
        long dstLow = keys[at + FlowLookupBatch.DST_LOW];
        int tag = tag(hash);
        int first = firstBucket(hash);
        long handle = find(first, tags(first), tag, vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
        if (handle == NOT_FOUND) {
            int second = secondBucket(hash);
            handle = find(second, tags(second), tag, vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
        }
        return handle;
    }

    /**
     * Inserts the flow with this key unless it exists, and returns its handle; {@link #created(long)} tells which.
     * When the flow's buckets are full, or the table holds {@link #capacity()} flows, an expired flow of those
     * buckets is evicted first, else the unreplied flow idle the longest, else the insert is refused with
     * {@link #TABLE_FULL} and counted. Flows that saw a reply are never evicted to make room. No quota: see
     * {@link #insert(int, int, int, long, long, long, long, int, int, int, int, int, int, long, int)}.
     *
     * @param originTunnel   the tunnel the opening packet came from
     * @param egressTunnel   the next hop pinned for the flow's lifetime
     * @param originalPort   for a flow inserted under a translated source port (ARR port translation), the site's
     *                       original source port; else {@link #NO_PORT}
     * @param tcpFlags       the opening packet's TCP flags (0 when not TCP), sets the initial TCP state
     * @param nowMillis      wall-clock milliseconds: created and last-seen time
     */
    public long insert(int vn, int family, int proto, long srcHigh, long srcLow, long dstHigh, long dstLow,
            int sport, int dport, int originTunnel, int egressTunnel, int originalPort, int tcpFlags,
            long nowMillis) {
        return insert(vn, family, proto, srcHigh, srcLow, dstHigh, dstLow, sport, dport, originTunnel, egressTunnel,
                originalPort, tcpFlags, nowMillis, NO_QUOTA);
    }

    /**
     * Inserts the flow with this key unless it exists, as {@link #insert(int, int, int, long, long, long, long, int,
     * int, int, int, int, int, long)} does, but refuses a new flow with {@link #QUOTA_EXCEEDED} when
     * {@code originTunnel} already has {@code originLimit} live flows (its {@code max_flows}). The check reserves
     * the flow's place in its origin's count before the flow is placed (increment, then compare), so racing workers
     * never push a tunnel past its limit; an existing flow is returned whatever the count. A refused flow evicts
     * nothing: a tunnel at its quota cannot push out flows of other tunnels.
     *
     * @param originLimit most live flows {@code originTunnel} may hold, or {@link #NO_QUOTA}
     */
    public long insert(int vn, int family, int proto, long srcHigh, long srcLow, long dstHigh, long dstLow,
            int sport, int dport, int originTunnel, int egressTunnel, int originalPort, int tcpFlags,
            long nowMillis, int originLimit) {
        int kind = kind(family, proto);
        int ports = ports(sport, dport);
        long hash = hash(vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
        int tag = tag(hash);
        int first = firstBucket(hash);
        int second = secondBucket(hash);
        int lock = (first & (INSERT_LOCK_STRIPES - 1)) * INSERT_LOCK_SPACING;
        while (!insertLocks.compareAndSet(lock, 0, 1)) {
            Thread.onSpinWait();
        }
        try {
            long existing = find(first, tags(first), tag, vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
            if (existing == NOT_FOUND) {
                existing = find(second, tags(second), tag, vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
            }
            if (existing != NOT_FOUND) {
                return existing;
            }
            boolean counted = originTunnel >= 0 && originTunnel < MAX_COUNTED_ORIGINS;
            if (counted && liveByOrigin.incrementAndGet(originTunnel) > originLimit) {
                liveByOrigin.decrementAndGet(originTunnel);
                return QUOTA_EXCEEDED;
            }
            while (true) {
                if (live.incrementAndGet() <= capacity) {
                    int slot = claim(first, second, tag);
                    if (slot >= 0) {
                        int version = publish(slot, vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow,
                                originTunnel, egressTunnel, originalPort,
                                proto == PROTO_TCP ? TcpState.initial(tcpFlags) : TcpState.NONE, nowMillis);
                        inserts.increment();
                        return handle(slot, version) | CREATED_BIT;
                    }
                }
                live.decrementAndGet();
                if (!evictOne(first, second, nowMillis)) {
                    if (counted) {
                        liveByOrigin.decrementAndGet(originTunnel);
                    }
                    tableFull.increment();
                    return TABLE_FULL;
                }
            }
        } finally {
            insertLocks.setRelease(lock, 0);
        }
    }

    /**
     * Accounts one packet of {@code bytes} to the flow in {@code slot}: last seen, packet and byte counters of its
     * direction, the replied flag and the TCP state. Takes the slot's seqlock only when the flow's state changes
     * (first reply, TCP transition); counters are atomic adds.
     *
     * @param fromOrigin true for a packet in the direction of the flow's key, false for the reply direction
     * @param tcpFlags   the packet's TCP flags, 0 when not TCP
     */
    public void touch(int slot, boolean fromOrigin, int bytes, int tcpFlags, long nowMillis) {
        int hot = hot(slot);
        int cold = cold(slot);
        buffer.putIntRelease(hot + LAST_SEEN_OFFSET, (int) nowMillis);
        if (fromOrigin) {
            buffer.getAndAddLong(cold + PACKETS_FORWARD_OFFSET, 1);
            buffer.getAndAddLong(cold + BYTES_FORWARD_OFFSET, bytes);
        } else {
            buffer.getAndAddLong(cold + PACKETS_REVERSE_OFFSET, 1);
            buffer.getAndAddLong(cold + BYTES_REVERSE_OFFSET, bytes);
        }
        int flags = buffer.getByte(hot + FLAGS_OFFSET);
        int state = buffer.getByte(hot + TCP_STATE_OFFSET);
        boolean replying = !fromOrigin && (flags & FLAG_REPLIED) == 0;
        boolean tcp = tcpFlags != 0 && (buffer.getShort(hot + KIND_OFFSET) & 0xFF) == PROTO_TCP;
        if (replying || tcp && TcpState.next(state, tcpFlags, fromOrigin) != state) {
            int version = lockSlot(hot);
            flags = buffer.getByte(hot + FLAGS_OFFSET);
            if ((flags & FLAG_LIVE) != 0) {
                if (!fromOrigin) {
                    buffer.putByte(hot + FLAGS_OFFSET, (byte) (flags | FLAG_REPLIED));
                }
                if (tcp) {
                    int current = buffer.getByte(hot + TCP_STATE_OFFSET);
                    buffer.putByte(hot + TCP_STATE_OFFSET, (byte) TcpState.next(current, tcpFlags, fromOrigin));
                }
            }
            unlockSlot(hot, version);
        }
    }

    /** Moves the flow in {@code slot} to another pinned next hop (mid-flow failover). */
    public void egressTunnel(int slot, int egressTunnel) {
        int hot = hot(slot);
        int version = lockSlot(hot);
        buffer.putInt(hot + EGRESS_TUNNEL_OFFSET, egressTunnel);
        unlockSlot(hot, version);
    }

    // ------------------------------------------------------------------------------------------------ handles

    /** The slot index of a handle returned by {@link #lookup}, {@link #insert} or {@link #forEach}. */
    public static int slot(long handle) {
        return (int) (handle & SLOT_MASK);
    }

    /** Whether {@link #insert} created the flow of this handle, rather than finding it. */
    public static boolean created(long handle) {
        return handle >= 0 && (handle & CREATED_BIT) != 0;
    }

    /** Whether the slot of {@code handle} still holds the same flow, unchanged since the handle was made. */
    public boolean validate(long handle) {
        int hot = hot(slot(handle));
        int version = buffer.getIntAcquire(hot + VERSION_OFFSET);
        return handle >= 0 && (version & VERSION_MASK) == (int) (handle >>> 32)
                && (buffer.getByte(hot + FLAGS_OFFSET) & FLAG_LIVE) != 0;
    }

    // ---------------------------------------------------------------------------------------------- accessors

    /** Virtual network id of the flow's key. */
    public int vn(int slot) {
        return buffer.getInt(hot(slot) + VN_OFFSET);
    }

    /** Address family of the flow's key: {@link #FAMILY_IPV4} or {@link #FAMILY_IPV6}. */
    public int family(int slot) {
        return buffer.getShort(hot(slot) + KIND_OFFSET) >>> 8 & 0xFF;
    }

    /** IP protocol of the flow's key. */
    public int proto(int slot) {
        return buffer.getShort(hot(slot) + KIND_OFFSET) & 0xFF;
    }

    /** High long of the source address (0 for IPv4). */
    public long srcHigh(int slot) {
        return buffer.getLong(hot(slot) + SRC_HIGH_OFFSET);
    }

    /** Low long of the source address (the IPv4 address). */
    public long srcLow(int slot) {
        return buffer.getLong(hot(slot) + SRC_LOW_OFFSET);
    }

    /** High long of the destination address (0 for IPv4). */
    public long dstHigh(int slot) {
        return buffer.getLong(hot(slot) + DST_HIGH_OFFSET);
    }

    /** Low long of the destination address (the IPv4 address). */
    public long dstLow(int slot) {
        return buffer.getLong(hot(slot) + DST_LOW_OFFSET);
    }

    /** Source port of the flow's key (ICMP: identifier). */
    public int sport(int slot) {
        return buffer.getInt(hot(slot) + PORTS_OFFSET) >>> 16;
    }

    /** Destination port of the flow's key (0 for ICMP). */
    public int dport(int slot) {
        return buffer.getInt(hot(slot) + PORTS_OFFSET) & 0xFFFF;
    }

    /** The tunnel the flow's first packet came from: where ARR sends its replies. */
    public int originTunnel(int slot) {
        return buffer.getInt(hot(slot) + ORIGIN_TUNNEL_OFFSET);
    }

    /** The next hop pinned for the flow. */
    public int egressTunnel(int slot) {
        return buffer.getInt(hot(slot) + EGRESS_TUNNEL_OFFSET);
    }

    /**
     * For a flow stored under a port-translated tuple (ARR's answer to two sites opening the same 5-tuple): the
     * site's original source port, which replies get back as their destination port; {@link #NO_PORT} for a flow
     * without translation.
     */
    public int originalPort(int slot) {
        int hot = hot(slot);
        return (buffer.getByte(hot + FLAGS_OFFSET) & FLAG_TRANSLATED) != 0
                ? buffer.getShort(hot + ORIGINAL_PORT_OFFSET) & 0xFFFF : NO_PORT;
    }

    /** Whether a packet has been seen in the reply direction. */
    public boolean replied(int slot) {
        return (buffer.getByte(hot(slot) + FLAGS_OFFSET) & FLAG_REPLIED) != 0;
    }

    /** The flow's {@link TcpState}. */
    public int tcpState(int slot) {
        return buffer.getByte(hot(slot) + TCP_STATE_OFFSET);
    }

    /** Milliseconds since the last packet of the flow, at {@code nowMillis} (0 if the clock went back). */
    public long idleMillis(int slot, long nowMillis) {
        return Math.max(0, (int) nowMillis - buffer.getIntVolatile(hot(slot) + LAST_SEEN_OFFSET));
    }

    /** Wall-clock milliseconds when the flow was created. */
    public long createdMillis(int slot) {
        return buffer.getLong(cold(slot) + CREATED_OFFSET);
    }

    /** Packets in the direction of the key. */
    public long packetsFromOrigin(int slot) {
        return buffer.getLongVolatile(cold(slot) + PACKETS_FORWARD_OFFSET);
    }

    /** Bytes in the direction of the key. */
    public long bytesFromOrigin(int slot) {
        return buffer.getLongVolatile(cold(slot) + BYTES_FORWARD_OFFSET);
    }

    /** Packets in the reply direction. */
    public long packetsToOrigin(int slot) {
        return buffer.getLongVolatile(cold(slot) + PACKETS_REVERSE_OFFSET);
    }

    /** Bytes in the reply direction. */
    public long bytesToOrigin(int slot) {
        return buffer.getLongVolatile(cold(slot) + BYTES_REVERSE_OFFSET);
    }

    // ------------------------------------------------------------------------------------------ control plane

    /**
     * Removes every flow idle longer than its timeout at {@code nowMillis}; returns how many. Walks the whole table
     * (about a cache line per live flow), so call it from a control thread, e.g. once a second.
     */
    public int sweep(long nowMillis) {
        int removed = 0;
        for (int bucket = 0; bucket < bucketCount; bucket++) {
            long tags = tags(bucket);
            for (long used = used(tags); used != 0; used &= used - 1) {
                int slot = bucket * WAYS + (Long.numberOfTrailingZeros(used) >>> 3);
                if (expired(hot(slot), nowMillis) && evict(slot, EvictionReason.EXPIRED, nowMillis)) {
                    removed++;
                }
            }
        }
        return removed;
    }

    /**
     * Removes the flow of {@code handle} if the slot still holds it unchanged ({@link #validate(long)}); counted as
     * {@link EvictionReason#REMOVED}. Returns false when the flow left or changed state since the handle was made:
     * look it up again.
     */
    public boolean remove(long handle) {
        if (handle < 0) {
            return false;
        }
        int slot = slot(handle);
        int hot = hot(slot);
        int version = lockSlot(hot);
        boolean same = (version & VERSION_MASK) == (int) (handle >>> 32)
                && (buffer.getByte(hot + FLAGS_OFFSET) & FLAG_LIVE) != 0;
        if (same) {
            buffer.putByte(hot + FLAGS_OFFSET, (byte) 0);
        }
        unlockSlot(hot, version);
        if (same) {
            release(slot, EvictionReason.REMOVED);
        }
        return same;
    }

    /**
     * Calls {@code visitor} with the handle of each live flow until it returns false; returns how many flows it
     * visited. For the admin API listing and for per-vn gauges (count per {@link #vn(int)} in the visitor).
     */
    public int forEach(FlowVisitor visitor) {
        int visited = 0;
        for (int bucket = 0; bucket < bucketCount; bucket++) {
            long tags = tags(bucket);
            for (long used = used(tags); used != 0; used &= used - 1) {
                int slot = bucket * WAYS + (Long.numberOfTrailingZeros(used) >>> 3);
                int hot = hot(slot);
                int version = stableVersion(hot);
                if ((buffer.getByte(hot + FLAGS_OFFSET) & FLAG_LIVE) != 0) {
                    visited++;
                    if (!visitor.visit(handle(slot, version))) {
                        return visited;
                    }
                }
            }
        }
        return visited;
    }

    /** Flows in the table now. */
    public int liveFlows() {
        return live.get();
    }

    /**
     * Flows in the table now that {@code originTunnel} opened, counted by inserts and every removal (sweep,
     * eviction, {@link #remove}); 0 for an origin outside {@code 0 .. MAX_COUNTED_ORIGINS - 1}.
     */
    public int liveFlows(int originTunnel) {
        return originTunnel >= 0 && originTunnel < MAX_COUNTED_ORIGINS ? liveByOrigin.get(originTunnel) : 0;
    }

    /** The configured capacity: most flows the table holds. */
    public int capacity() {
        return capacity;
    }

    /** Number of slots (capacity times {@link #SLOTS_PER_FLOW}, rounded up to whole buckets). */
    public int slotCount() {
        return bucketCount * WAYS;
    }

    /** Bytes of memory the table takes. */
    public long lengthInBytes() {
        return buffer.capacity();
    }

    /** Flows created since the table was opened ({@code vnetd_flow_inserts_total}). */
    public long inserts() {
        return inserts.sum();
    }

    /** Flows evicted for {@code reason} since the table was opened ({@code vnetd_flow_evictions_total{reason}}). */
    public long evictions(EvictionReason reason) {
        return evictions[reason.ordinal()].sum();
    }

    /** Inserts refused because the table was full ({@code vnetd_flow_table_full_total}). */
    public long tableFullRefusals() {
        return tableFull.sum();
    }

    /**
     * Whether the table lives in memory that asked for transparent huge pages ({@link #allocate} on Linux). A
     * persisted table is file-backed and uses 4 KiB pages: expect slower lookups at large capacities.
     */
    public boolean hugePages() {
        return hugePages;
    }

    /** The timeouts the sweep applies. */
    public FlowTimeouts timeouts() {
        return timeouts;
    }

    /**
     * Frees the memory, or flushes and unmaps the file. Stop every thread using the table first: an access after
     * close touches unmapped memory.
     */
    @Override
    public void close() {
        release.run();
    }

    private static void unmap(MappedByteBuffer memory) {
        memory.force();
        IoUtil.unmap(memory);
    }

    // ------------------------------------------------------------------------------------------------ private

    private long tags(int bucket) {
        return UnsafeApi.getLongAcquire(null,
                address + bucketBase + (long) bucket * BUCKET_HEADER_LENGTH + TAGS_OFFSET);
    }

    /** The high bit of every way whose tag byte is not 0: the claimed ways (exact, no carries between bytes). */
    private static long used(long tags) {
        return ((tags & ~TAG_MASK_HIGH) + ~TAG_MASK_HIGH | tags) & TAG_MASK_HIGH;
    }

    /** One high bit per way whose tag byte may equal {@code tag} (SWAR zero-byte test; false positives are fine). */
    private static long matches(long tags, int tag) {
        long diff = tags ^ (tag * TAG_ONES);
        return (diff - TAG_ONES) & ~diff & TAG_MASK_HIGH;
    }

    /**
     * The slot a key most likely sits in: the first way whose tag matches in its first bucket, else in its second
     * (way 0 of the second when neither matches; the caller's key comparison rejects it). Without branches: which
     * bucket holds a flow is a coin toss, and a mispredicted branch here would discard the loads the CPU has
     * already started for the next packets.
     */
    private static int candidate(int first, int second, long firstMatch, long secondMatch) {
        long inFirst = (firstMatch | -firstMatch) >> 63;
        int bucket = (int) (second ^ ((first ^ second) & inFirst));
        long match = secondMatch ^ ((firstMatch ^ secondMatch) & inFirst);
        return bucket * WAYS + (Long.numberOfTrailingZeros(match) >>> 3 & WAYS - 1);
    }

    private long find(int bucket, long tags, int tag, int vn, int kind, int ports, long srcHigh, long srcLow,
            long dstHigh, long dstLow) {
        for (long match = matches(tags, tag); match != 0; match &= match - 1) {
            int slot = bucket * WAYS + (Long.numberOfTrailingZeros(match) >>> 3);
            long hot = hotAddress(slot);
            while (true) {
                int version = UnsafeApi.getIntAcquire(null, hot + VERSION_OFFSET);
                if ((version & 1) != 0) {
                    Thread.onSpinWait();
                    continue;
                }
                long differs = differs(hot, vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow);
                VarHandle.acquireFence();
                if (UnsafeApi.getInt(null, hot + VERSION_OFFSET) == version) {
                    if (differs == 0) {
                        return handle(slot, version);
                    }
                    break;
                }
            }
        }
        return NOT_FOUND;
    }

    /** The handle of the flow in {@code slot} if it holds this key, stable and live; else {@link #NOT_FOUND}. */
    private long stableHandle(int slot, int vn, int kind, int ports, long srcHigh, long srcLow, long dstHigh,
            long dstLow) {
        long hot = hotAddress(slot);
        int version = UnsafeApi.getIntAcquire(null, hot + VERSION_OFFSET);
        long differs = differs(hot, vn, kind, ports, srcHigh, srcLow, dstHigh, dstLow) | version & 1;
        VarHandle.acquireFence();
        differs |= UnsafeApi.getInt(null, hot + VERSION_OFFSET) ^ version;
        return differs == 0 ? handle(slot, version) : NOT_FOUND;
    }

    /**
     * Zero when the hot slot at {@code hot} holds this key and is live, as far as these plain reads see: the caller
     * reads the version before and after. One OR of differences, so the comparison is a single branch.
     */
    private static long differs(long hot, int vn, int kind, int ports, long srcHigh, long srcLow, long dstHigh,
            long dstLow) {
        return UnsafeApi.getLong(null, hot + SRC_LOW_OFFSET) ^ srcLow
                | UnsafeApi.getLong(null, hot + DST_LOW_OFFSET) ^ dstLow
                | UnsafeApi.getLong(null, hot + SRC_HIGH_OFFSET) ^ srcHigh
                | UnsafeApi.getLong(null, hot + DST_HIGH_OFFSET) ^ dstHigh
                | UnsafeApi.getInt(null, hot + PORTS_OFFSET) ^ ports
                | UnsafeApi.getInt(null, hot + VN_OFFSET) ^ vn
                | (UnsafeApi.getShort(null, hot + KIND_OFFSET) ^ kind) & 0xFFFF
                | ~UnsafeApi.getByte(null, hot + FLAGS_OFFSET) & FLAG_LIVE;
    }

    private int claim(int first, int second, int tag) {
        while (true) {
            int firstHeader = bucketBase + first * BUCKET_HEADER_LENGTH + TAGS_OFFSET;
            int secondHeader = bucketBase + second * BUCKET_HEADER_LENGTH + TAGS_OFFSET;
            long firstTags = buffer.getLongVolatile(firstHeader);
            long secondTags = buffer.getLongVolatile(secondHeader);
            long firstFree = ~used(firstTags) & TAG_MASK_HIGH;
            long secondFree = ~used(secondTags) & TAG_MASK_HIGH;
            if (firstFree == 0 && secondFree == 0) {
                return -1;
            }
            boolean useFirst = Long.bitCount(firstFree) >= Long.bitCount(secondFree);
            int way = Long.numberOfTrailingZeros(useFirst ? firstFree : secondFree) >>> 3;
            int header = useFirst ? firstHeader : secondHeader;
            long tags = useFirst ? firstTags : secondTags;
            if (buffer.compareAndSetLong(header, tags, tags | (long) tag << (way * 8))) {
                return (useFirst ? first : second) * WAYS + way;
            }
        }
    }

    private int publish(int slot, int vn, int kind, int ports, long srcHigh, long srcLow, long dstHigh, long dstLow,
            int originTunnel, int egressTunnel, int originalPort, int tcpState, long nowMillis) {
        int hot = hot(slot);
        int cold = cold(slot);
        int version = lockSlot(hot);
        buffer.putInt(hot + VN_OFFSET, vn);
        buffer.putLong(hot + SRC_HIGH_OFFSET, srcHigh);
        buffer.putLong(hot + SRC_LOW_OFFSET, srcLow);
        buffer.putLong(hot + DST_HIGH_OFFSET, dstHigh);
        buffer.putLong(hot + DST_LOW_OFFSET, dstLow);
        buffer.putInt(hot + PORTS_OFFSET, ports);
        buffer.putShort(hot + KIND_OFFSET, (short) kind);
        buffer.putShort(hot + ORIGINAL_PORT_OFFSET, (short) originalPort);
        buffer.putInt(hot + ORIGIN_TUNNEL_OFFSET, originTunnel);
        buffer.putInt(hot + EGRESS_TUNNEL_OFFSET, egressTunnel);
        buffer.putInt(hot + LAST_SEEN_OFFSET, (int) nowMillis);
        buffer.putByte(hot + TCP_STATE_OFFSET, (byte) tcpState);
        buffer.putLong(cold + PACKETS_FORWARD_OFFSET, 0);
        buffer.putLong(cold + BYTES_FORWARD_OFFSET, 0);
        buffer.putLong(cold + PACKETS_REVERSE_OFFSET, 0);
        buffer.putLong(cold + BYTES_REVERSE_OFFSET, 0);
        buffer.putLong(cold + CREATED_OFFSET, nowMillis);
        buffer.putByte(hot + FLAGS_OFFSET, (byte) (FLAG_LIVE | (originalPort == NO_PORT ? 0 : FLAG_TRANSLATED)));
        return unlockSlot(hot, version);
    }

    private boolean evictOne(int first, int second, long nowMillis) {
        int victim = -1;
        int oldestIdle = -1;
        for (int pass = 0; pass < 2; pass++) {
            int bucket = pass == 0 ? first : second;
            long tags = tags(bucket);
            for (long used = used(tags); used != 0; used &= used - 1) {
                int slot = bucket * WAYS + (Long.numberOfTrailingZeros(used) >>> 3);
                int hot = hot(slot);
                if (expired(hot, nowMillis)) {
                    if (evict(slot, EvictionReason.EXPIRED, nowMillis)) {
                        return true;
                    }
                } else if (unreplied(hot)) {
                    int idle = (int) nowMillis - buffer.getIntVolatile(hot + LAST_SEEN_OFFSET);
                    if (idle > oldestIdle) {
                        oldestIdle = idle;
                        victim = slot;
                    }
                }
            }
        }
        return victim >= 0 && evict(victim, EvictionReason.EARLY_DROP, nowMillis);
    }

    private boolean evict(int slot, EvictionReason reason, long nowMillis) {
        int hot = hot(slot);
        int version = lockSlot(hot);
        boolean still = reason == EvictionReason.EXPIRED ? expired(hot, nowMillis) : unreplied(hot);
        if (still) {
            buffer.putByte(hot + FLAGS_OFFSET, (byte) 0);
        }
        unlockSlot(hot, version);
        if (still) {
            release(slot, reason);
        }
        return still;
    }

    private void release(int slot, EvictionReason reason) {
        // the way is still ours until its tag is cleared: the origin is the evicted flow's
        int origin = buffer.getInt(hot(slot) + ORIGIN_TUNNEL_OFFSET);
        if (origin >= 0 && origin < MAX_COUNTED_ORIGINS) {
            liveByOrigin.decrementAndGet(origin);
        }
        int header = bucketBase + slot / WAYS * BUCKET_HEADER_LENGTH + TAGS_OFFSET;
        long clear = ~(0xFFL << (slot % WAYS * 8));
        long tags;
        do {
            tags = buffer.getLongVolatile(header);
        } while (!buffer.compareAndSetLong(header, tags, tags & clear));
        live.decrementAndGet();
        evictions[reason.ordinal()].increment();
    }

    private boolean expired(int hot, long nowMillis) {
        int flags = buffer.getByte(hot + FLAGS_OFFSET);
        if ((flags & FLAG_LIVE) == 0) {
            return false;
        }
        int idle = (int) nowMillis - buffer.getIntVolatile(hot + LAST_SEEN_OFFSET);
        int proto = buffer.getShort(hot + KIND_OFFSET) & 0xFF;
        return idle >= timeouts.millisFor(proto, buffer.getByte(hot + TCP_STATE_OFFSET));
    }

    private boolean unreplied(int hot) {
        return (buffer.getByte(hot + FLAGS_OFFSET) & (FLAG_LIVE | FLAG_REPLIED)) == FLAG_LIVE;
    }

    private int lockSlot(int hot) {
        while (true) {
            int version = buffer.getIntVolatile(hot + VERSION_OFFSET);
            if ((version & 1) == 0 && buffer.compareAndSetInt(hot + VERSION_OFFSET, version, version + 1)) {
                VarHandle.storeStoreFence();
                return version;
            }
            Thread.onSpinWait();
        }
    }

    private int unlockSlot(int hot, int version) {
        buffer.putIntRelease(hot + VERSION_OFFSET, version + 2);
        return version + 2;
    }

    private int stableVersion(int hot) {
        int version;
        while (((version = buffer.getIntAcquire(hot + VERSION_OFFSET)) & 1) != 0) {
            Thread.onSpinWait();
        }
        return version;
    }

    private int hot(int slot) {
        return hotBase + slot * HOT_SLOT_LENGTH;
    }

    private long hotAddress(int slot) {
        return address + hotBase + (long) slot * HOT_SLOT_LENGTH;
    }

    private int cold(int slot) {
        return coldBase + slot * COLD_SLOT_LENGTH;
    }

    /** The address of a slot's cold half: its counters (for tests of {@link #prefetchCounters}). */
    long coldAddress(int slot) {
        return address + cold(slot);
    }

    /** The address of the table's first byte (for tests of {@link #prefetchCounters}). */
    long address() {
        return address;
    }

    private int firstBucket(long hash) {
        return (int) (((hash >>> 32) * bucketCount) >>> 32);
    }

    private int secondBucket(long hash) {
        return (int) (((hash & 0xFFFF_FFFFL) * bucketCount) >>> 32);
    }

    private void writeHeader() {
        buffer.putLong(MAGIC_OFFSET, MAGIC);
        buffer.putInt(FORMAT_VERSION_OFFSET, FORMAT_VERSION);
        buffer.putInt(CAPACITY_OFFSET, capacity);
        buffer.putInt(BUCKET_COUNT_OFFSET, bucketCount);
        buffer.putInt(HOT_SLOT_LENGTH_OFFSET, HOT_SLOT_LENGTH);
        buffer.putInt(COLD_SLOT_LENGTH_OFFSET, COLD_SLOT_LENGTH);
    }

    private void checkHeader(Path path) throws IOException {
        checkField(path, "magic", buffer.getLong(MAGIC_OFFSET), MAGIC);
        int version = buffer.getInt(FORMAT_VERSION_OFFSET);
        checkField(path, "format version", version == 1 ? FORMAT_VERSION : version, FORMAT_VERSION);
        checkField(path, "capacity", buffer.getInt(CAPACITY_OFFSET), capacity);
        checkField(path, "bucket count", buffer.getInt(BUCKET_COUNT_OFFSET), bucketCount);
        checkField(path, "hot slot length", buffer.getInt(HOT_SLOT_LENGTH_OFFSET), HOT_SLOT_LENGTH);
        checkField(path, "cold slot length", buffer.getInt(COLD_SLOT_LENGTH_OFFSET), COLD_SLOT_LENGTH);
    }

    private static void checkField(Path path, String name, long found, long expected) throws IOException {
        if (found != expected) {
            throw new IOException(path + ": not a flow table for this configuration: " + name + " is " + found
                    + ", expected " + expected);
        }
    }

    /**
     * Re-tags a table of format version 1 ({@link #tagVersion1}) with this version's tags, in place: every way whose
     * tag is its key's version-1 tag (or already the new one) in one of its key's buckets gets the new tag, any other
     * way is freed; no flow moves, since bucket placement did not change. Then the header says version 2. Before,
     * so that an upgrade cut short by a crash is finished by the next open: a way it already re-tagged is kept as
     * it is. {@link #recover} runs after it as on any open.
     */
    private void upgradeFromVersion1() {
        for (int bucket = 0; bucket < bucketCount; bucket++) {
            int header = bucketBase + bucket * BUCKET_HEADER_LENGTH + TAGS_OFFSET;
            long tags = buffer.getLong(header);
            long upgraded = 0;
            for (int way = 0; way < WAYS; way++) {
                int old = (int) (tags >>> (way * 8)) & 0xFF;
                int hot = hot(bucket * WAYS + way);
                long hash = storedHash(hot);
                boolean keep = old != 0 && (buffer.getByte(hot + FLAGS_OFFSET) & FLAG_LIVE) != 0
                        && (old == tagVersion1(hash) || old == tag(hash)) && homeBucket(hash, bucket);
                if (keep) {
                    upgraded |= (long) tag(hash) << (way * 8);
                }
            }
            buffer.putLong(header, upgraded);
        }
        buffer.putInt(FORMAT_VERSION_OFFSET, FORMAT_VERSION);
    }

    /** Brings a table written by a process that may have died mid-write back to the invariants. */
    private void recover() {
        int count = 0;
        for (int bucket = 0; bucket < bucketCount; bucket++) {
            int header = bucketBase + bucket * BUCKET_HEADER_LENGTH;
            long tags = buffer.getLong(header + TAGS_OFFSET);
            for (int way = 0; way < WAYS; way++) {
                int slot = bucket * WAYS + way;
                int hot = hot(slot);
                int version = buffer.getInt(hot + VERSION_OFFSET);
                if ((version & 1) != 0) {
                    buffer.putByte(hot + FLAGS_OFFSET, (byte) 0);
                    buffer.putInt(hot + VERSION_OFFSET, version + 1);
                }
                int tag = (int) (tags >>> (way * 8)) & 0xFF;
                boolean keep = (buffer.getByte(hot + FLAGS_OFFSET) & FLAG_LIVE) != 0 && belongs(hot, bucket, tag);
                if (keep) {
                    count++;
                    int origin = buffer.getInt(hot + ORIGIN_TUNNEL_OFFSET);
                    if (origin >= 0 && origin < MAX_COUNTED_ORIGINS) {
                        liveByOrigin.incrementAndGet(origin);
                    }
                } else {
                    buffer.putByte(hot + FLAGS_OFFSET, (byte) 0);
                    tags &= ~(0xFFL << (way * 8));
                }
            }
            buffer.putLong(header + TAGS_OFFSET, tags);
        }
        live.set(count);
    }

    private boolean belongs(int hot, int bucket, int tag) {
        long hash = storedHash(hot);
        return tag == tag(hash) && homeBucket(hash, bucket);
    }

    /** Whether {@code bucket} is one of the two buckets a flow with this hash may live in. */
    private boolean homeBucket(long hash, int bucket) {
        return bucket == firstBucket(hash) || bucket == secondBucket(hash);
    }

    /** The hash of the key stored in the hot slot at {@code hot}. */
    private long storedHash(int hot) {
        return hash(buffer.getInt(hot + VN_OFFSET), buffer.getShort(hot + KIND_OFFSET) & 0xFFFF,
                buffer.getInt(hot + PORTS_OFFSET), buffer.getLong(hot + SRC_HIGH_OFFSET),
                buffer.getLong(hot + SRC_LOW_OFFSET), buffer.getLong(hot + DST_HIGH_OFFSET),
                buffer.getLong(hot + DST_LOW_OFFSET));
    }

    private static long handle(int slot, int version) {
        return (long) (version & VERSION_MASK) << 32 | slot;
    }

    static int kind(int family, int proto) {
        return family << 8 | proto;
    }

    static int ports(int sport, int dport) {
        return sport << 16 | (dport & 0xFFFF);
    }

    static long hash(int vn, int kind, int ports, long srcHigh, long srcLow, long dstHigh, long dstLow) {
        long h = (srcLow * 0x9E37_79B9_7F4A_7C15L) ^ Long.rotateLeft(dstLow * 0xC2B2_AE3D_27D4_EB4FL, 29);
        h ^= (srcHigh ^ Long.rotateLeft(dstHigh, 17)) * 0x1656_67B1_9E37_79F9L;
        h ^= ((long) vn << 32 | (ports & 0xFFFF_FFFFL)) * 0xD6E8_FEB8_6659_FD93L;
        h ^= kind;
        h ^= h >>> 33;
        h *= 0xFF51_AFD7_ED55_8CCDL;
        h ^= h >>> 33;
        h *= 0xC4CE_B9FE_1A85_EC53L;
        return h ^ (h >>> 33);
    }

    /**
     * 1..255 from bits 32..39 (0 and 1 both give 1; 0 marks a free way): the bucket indexes come from the top bits
     * of each half, so the tag is independent of both. All 255 nonzero values, so a foreign flow matches 1 in 255
     * (format version 1 used {@code 0x80 | 7 bits}: 1 in 128, see {@link #tagVersion1}).
     */
    static int tag(long hash) {
        int bits = (int) (hash >>> 32) & 0xFF;
        return bits + (bits - 1 >>> 31);
    }

    /** The tag format version 1 stored, for {@link #upgradeFromVersion1}. */
    static int tagVersion1(long hash) {
        return 0x80 | (int) (hash >>> 32) & 0x7F;
    }

    private static int bucketCount(int capacity) {
        return (int) Math.ceil(capacity * SLOTS_PER_FLOW / WAYS);
    }

    private static int align64(int offset) {
        return (offset + 63) & ~63;
    }

    private static long align64(long offset) {
        return (offset + 63) & ~63L;
    }

    private static void checkCapacity(int capacity) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("flow_table.capacity must be between 1 and " + MAX_CAPACITY
                    + ", was " + capacity);
        }
    }
}
