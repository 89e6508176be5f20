package dev.vnetd.flowtable;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * A software prefetch for the flow table's batch lookup: a 22-byte x86-64 function written into an anonymous page
 * at startup and called through an FFM downcall.
 *
 * <p>Why: Java has no prefetch instruction. A plain load that misses the caches holds up retirement until its line
 * arrives, so while a batch's slot loads are in flight the reorder window fills and no compute for other keys
 * runs. {@code PREFETCHT0} retires at once: the lines arrive while the lookup computes the next keys' candidates,
 * as DPDK's {@code rte_hash_lookup_bulk} does with {@code rte_prefetch0}.
 *
 * <p>The stub is {@code void prefetch_slots(long base, int *slots, int from, int to)}: for each {@code i} in
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
 * The page is mapped read-write, the bytes written, then {@code mprotect}ed to read-execute: it is never writable
 * and executable at once (W^X). No C compiler is involved, so the build stays pure Maven. The downcall is
 * {@link Linker.Option#critical(boolean) critical} with heap access: it passes the batch's {@code int[]} of slots
 * without a copy or a thread-state transition: one call per {@link FlowTable#PREFETCH_CHUNK} keys, four a 64-key
 * batch. The page stays mapped for the JVM's life.
 *
 * <p>Only on x86-64 Linux; elsewhere, or when {@code mmap}/{@code mprotect} fail or native access is denied,
 * {@link #AVAILABLE} is false and the table loads the slots with plain loads, as before.
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
    private static final long PAGE = 4096;

    /* Linux values on x86-64. */
    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int PROT_EXEC = 0x4;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final long MAP_FAILED = -1;

    /** {@code prefetch_slots}, or null where the stub could not be made. */
    private static final MethodHandle PREFETCH = link(System.getProperty("os.name", ""),
            System.getProperty("os.arch", ""));
    /** Whether {@link #slots} prefetches; when false the caller loads the lines itself. */
    static final boolean AVAILABLE = PREFETCH != null;

    private Prefetch() {
    }

    /**
     * Prefetches {@code base + slots[i] * 64} for {@code i} in {@code [from, to)}. Only when {@link #AVAILABLE};
     * {@code slots} is a segment over the batch's heap array, made once per batch.
     */
    static void slots(long base, MemorySegment slots, int from, int to) {
        try {
            PREFETCH.invokeExact(base, slots, from, to);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes the stub on x86-64 Linux and links it; null elsewhere or when a step fails. The system properties are
     * arguments so the test can ask for another platform.
     */
    @SuppressWarnings("restricted")
    static MethodHandle link(String os, String arch) {
        if (!os.startsWith("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle mmap = linker.downcallHandle(linker.defaultLookup().findOrThrow("mmap"),
                    FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
            MethodHandle mprotect = linker.downcallHandle(linker.defaultLookup().findOrThrow("mprotect"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
            MemorySegment page = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            if (page.address() == MAP_FAILED) {
                return null;
            }
            MemorySegment code = page.reinterpret(PAGE);
            MemorySegment.copy(MemorySegment.ofArray(PREFETCH_SLOTS), 0, code, 0, PREFETCH_SLOTS.length);
            if ((int) mprotect.invokeExact(code, PAGE, PROT_READ | PROT_EXEC) != 0) {
                return null;
            }
            return linker.downcallHandle(code, FunctionDescriptor.ofVoid(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT),
                    Linker.Option.critical(true));
        } catch (Throwable e) {
            return null;
        }
    }
}
