package dev.vnetd.flowtable;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Software prefetches for the flow table's batch lookup: two small x86-64 functions written into an anonymous page
 * at startup and called through FFM downcalls.
 *
 * <p>Why: Java has no prefetch instruction. A plain load that misses the caches holds up retirement until its line
 * arrives, so while a batch's slot loads are in flight the reorder window fills and no compute for other keys
 * runs. {@code PREFETCHT0} retires at once: the lines arrive while the lookup computes the next keys' candidates,
 * as DPDK's {@code rte_hash_lookup_bulk} does with {@code rte_prefetch0}.
 *
 * <p>Two stubs: {@code prefetch_slots} for the candidate slots, and {@code prefetch_tags} for the tag words of both
 * buckets of every key, which it finds from the keys' hashes itself (see {@link #tags}). {@code prefetch_slots}
 * also brings in the found flows' counters ({@link FlowTable#prefetchCounters}): any 64-byte lines, given as line
 * numbers from a 64-byte-aligned base.
 *
 * <p>The slot stub is {@code void prefetch_slots(long base, int *slots, int from, int to)}: for each {@code i} in
 * {@code [from, to)}, {@code prefetcht0 [base + slots[i] * 64]} (System V arguments in rdi, rsi, edx, ecx):
 * <pre>
 *   0: 89 d2           mov    edx, edx              ; zero-extend from (an int's upper half is undefined)
 *   2: 39 ca           cmp    edx, ecx
 *   4: 7d 0f           jge    0x15
 *   6: 8b 04 96        mov    eax, [rsi + rdx*4]    ; slot, zero-extended into rax
 *   9: 48 c1 e0 06     shl    rax, 6                ; * 64, one hot slot a cache line
 *   d: 0f 18 0c 07     prefetcht0 [rdi + rax]
 *  11: ff c2           inc    edx
 *  13: eb ed           jmp    0x2
 *  15: c3              ret
 * </pre>
 * {@code void prefetch_tags(long tags, long *keys, int from, int to, int bucketCount)}: for each key {@code i} in
 * {@code [from, to)} of a {@link FlowLookupBatch}'s packed keys ({@code keys[i * 8 + 6]} is the hash, byte offset
 * 48 of the key's 64-byte row), {@code prefetcht0} the tag words of both its buckets, computed as
 * {@code FlowTable.firstBucket} and {@code secondBucket} do: {@code (hash >>> 32) * bucketCount >>> 32} and
 * {@code (hash & 0xFFFFFFFF) * bucketCount >>> 32} (arguments in rdi, rsi, edx, ecx, r8d):
 * <pre>
 *   0: 45 89 c0        mov    r8d, r8d              ; zero-extend the int arguments
 *   3: 89 d2           mov    edx, edx
 *   5: 89 c9           mov    ecx, ecx
 *   7: 39 ca           cmp    edx, ecx
 *   9: 7d 3a           jge    0x45
 *   b: 48 89 d0        mov    rax, rdx
 *   e: 48 c1 e0 06     shl    rax, 6                ; from * 64: the first key's row
 *  12: 48 01 c6        add    rsi, rax
 *  15: 29 d1           sub    ecx, edx              ; keys left
 *  17: 48 8b 46 30     mov    rax, [rsi + 48]       ; the key's hash
 *  1b: 49 89 c1        mov    r9, rax
 *  1e: 49 c1 e9 20     shr    r9, 32
 *  22: 4d 0f af c8     imul   r9, r8
 *  26: 49 c1 e9 20     shr    r9, 32                ; first bucket
 *  2a: 42 0f 18 0c cf  prefetcht0 [rdi + r9*8]
 *  2f: 89 c0           mov    eax, eax
 *  31: 49 0f af c0     imul   rax, r8
 *  35: 48 c1 e8 20     shr    rax, 32               ; second bucket
 *  39: 0f 18 0c c7     prefetcht0 [rdi + rax*8]
 *  3d: 48 83 c6 40     add    rsi, 64               ; next key's row
 *  41: ff c9           dec    ecx
 *  43: 75 d2           jne    0x17
 *  45: c3              ret
 * </pre>
 * Both listings were checked with {@code objdump -D -b binary -mi386:x86-64} on dumps of the bytes (the second was
 * assembled with GNU {@code as}). A prefetch never faults, so a stale or wrong address costs a wasted line, never
 * a crash; the only memory the stubs read is the batch's own array.
 * The page is mapped read-write, the bytes written, then {@code mprotect}ed to read-execute: it is never writable
 * and executable at once (W^X). No C compiler is involved, so the build stays pure Maven. The downcall is
 * {@link Linker.Option#critical(boolean) critical} with heap access: it passes the batch's {@code int[]} of slots
 * without a copy or a thread-state transition: one call per {@link FlowTable#PREFETCH_CHUNK} keys, four a 64-key
 * batch, and one {@code prefetch_tags} call a batch. The page stays mapped for the JVM's life.
 *
 * <p>Only on x86-64 Linux; elsewhere, or when {@code mmap}/{@code mprotect} fail or native access is denied,
 * {@link #AVAILABLE} is false and the table loads the tag words and the slots with plain loads, as before.
 */
final class Prefetch {
    /** The stub's bytes, as listed above. */
    private static final byte[] PREFETCH_SLOTS = {
        (byte) 0x89, (byte) 0xd2,
        (byte) 0x39, (byte) 0xca,
        (byte) 0x7d, (byte) 0x0f,
        (byte) 0x8b, (byte) 0x04, (byte) 0x96,
        (byte) 0x48, (byte) 0xc1, (byte) 0xe0, (byte) 0x06,
        (byte) 0x0f, (byte) 0x18, (byte) 0x0c, (byte) 0x07,
        (byte) 0xff, (byte) 0xc2,
        (byte) 0xeb, (byte) 0xed,
        (byte) 0xc3,
    };
    /** The tag stub's bytes, as listed above; written at {@link #TAGS_AT} in the page. */
    private static final byte[] PREFETCH_TAGS = {
        (byte) 0x45, (byte) 0x89, (byte) 0xc0,
        (byte) 0x89, (byte) 0xd2,
        (byte) 0x89, (byte) 0xc9,
        (byte) 0x39, (byte) 0xca,
        (byte) 0x7d, (byte) 0x3a,
        (byte) 0x48, (byte) 0x89, (byte) 0xd0,
        (byte) 0x48, (byte) 0xc1, (byte) 0xe0, (byte) 0x06,
        (byte) 0x48, (byte) 0x01, (byte) 0xc6,
        (byte) 0x29, (byte) 0xd1,
        (byte) 0x48, (byte) 0x8b, (byte) 0x46, (byte) 0x30,
        (byte) 0x49, (byte) 0x89, (byte) 0xc1,
        (byte) 0x49, (byte) 0xc1, (byte) 0xe9, (byte) 0x20,
        (byte) 0x4d, (byte) 0x0f, (byte) 0xaf, (byte) 0xc8,
        (byte) 0x49, (byte) 0xc1, (byte) 0xe9, (byte) 0x20,
        (byte) 0x42, (byte) 0x0f, (byte) 0x18, (byte) 0x0c, (byte) 0xcf,
        (byte) 0x89, (byte) 0xc0,
        (byte) 0x49, (byte) 0x0f, (byte) 0xaf, (byte) 0xc0,
        (byte) 0x48, (byte) 0xc1, (byte) 0xe8, (byte) 0x20,
        (byte) 0x0f, (byte) 0x18, (byte) 0x0c, (byte) 0xc7,
        (byte) 0x48, (byte) 0x83, (byte) 0xc6, (byte) 0x40,
        (byte) 0xff, (byte) 0xc9,
        (byte) 0x75, (byte) 0xd2,
        (byte) 0xc3,
    };
    /** Where {@link #PREFETCH_TAGS} starts in the page: the first 64-byte boundary after the slot stub. */
    private static final int TAGS_AT = 64;
    private static final long PAGE = 4096;

    /** {@code prefetch_slots} and {@code prefetch_tags}, or null where the stubs could not be made. */
    private static final Stubs STUBS = link(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    private static final MethodHandle PREFETCH_SLOTS_STUB = STUBS == null ? null : STUBS.slots();
    private static final MethodHandle PREFETCH_TAGS_STUB = STUBS == null ? null : STUBS.tags();
    /** Whether {@link #slots} and {@link #tags} prefetch; when false the caller loads the lines itself. */
    static final boolean AVAILABLE = STUBS != null;

    /** The linked stubs. */
    record Stubs(MethodHandle slots, MethodHandle tags) {
    }

    private Prefetch() {
    }

    /**
     * Prefetches {@code base + slots[i] * 64} for {@code i} in {@code [from, to)}. Only when {@link #AVAILABLE};
     * {@code slots} is a segment over the batch's heap array, made once per batch.
     */
    static void slots(long base, MemorySegment slots, int from, int to) {
        try {
            PREFETCH_SLOTS_STUB.invokeExact(base, slots, from, to);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Prefetches both tag words of keys {@code from} to {@code to} of a batch: for each key, the words at
     * {@code tagsAddress + bucket * 8} of its first and second bucket, from the hash that {@link FlowLookupBatch#add}
     * stored. Only when {@link #AVAILABLE}; {@code keys} is a segment over the batch's packed keys, made once per
     * batch; {@code bucketCount} is the table's.
     */
    static void tags(long tagsAddress, MemorySegment keys, int from, int to, int bucketCount) {
        try {
            PREFETCH_TAGS_STUB.invokeExact(tagsAddress, keys, from, to, bucketCount);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes the stubs on x86-64 Linux and links them; null elsewhere or when a step fails. The system properties
     * are arguments so the test can ask for another platform.
     */
    @SuppressWarnings("restricted")
    static Stubs link(String os, String arch) {
        if (!os.startsWith("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return null;
        }
        try {
            if (Mmap.MPROTECT == null) {
                return null;
            }
            long page = Mmap.anonymous(PAGE);
            if (page == 0) {
                return null;
            }
            MemorySegment code = MemorySegment.ofAddress(page).reinterpret(PAGE);
            MemorySegment.copy(MemorySegment.ofArray(PREFETCH_SLOTS), 0, code, 0, PREFETCH_SLOTS.length);
            MemorySegment.copy(MemorySegment.ofArray(PREFETCH_TAGS), 0, code, TAGS_AT, PREFETCH_TAGS.length);
            if ((int) Mmap.MPROTECT.invokeExact(code, PAGE, Mmap.PROT_READ | Mmap.PROT_EXEC) != 0) {
                return null;
            }
            Linker linker = Linker.nativeLinker();
            return new Stubs(
                    linker.downcallHandle(code, FunctionDescriptor.ofVoid(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT),
                            Linker.Option.critical(true)),
                    linker.downcallHandle(code.asSlice(TAGS_AT),
                            FunctionDescriptor.ofVoid(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT),
                            Linker.Option.critical(true)));
        } catch (Throwable e) {
            return null;
        }
    }
}
