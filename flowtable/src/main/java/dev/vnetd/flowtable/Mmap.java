package dev.vnetd.flowtable;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Linux {@code mmap}, {@code mprotect}, {@code madvise} and {@code munmap} of anonymous memory through the FFM API,
 * for {@link HugePages} (the table's memory) and {@link Prefetch} (the page its stubs run from).
 */
final class Mmap {
    /* Linux values, the same on x86-64 and arm64. */
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int PROT_EXEC = 0x4;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final long MAP_FAILED = -1;

    /** Null where the function could not be linked (not Linux, native access denied). */
    static final MethodHandle MMAP = libc("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    static final MethodHandle MPROTECT = libc("mprotect",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    static final MethodHandle MADVISE = libc("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    static final MethodHandle MUNMAP = libc("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    private Mmap() {
    }

    /**
     * Maps {@code length} zeroed, private, read-write bytes; returns their address, or 0 when the mapping failed or
     * {@code mmap} is not linked.
     */
    static long anonymous(long length) {
        if (MMAP == null) {
            return 0;
        }
        try {
            long base = ((MemorySegment) MMAP.invokeExact(MemorySegment.NULL, length, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L)).address();
            return base == MAP_FAILED ? 0 : base;
        } catch (Throwable e) {
            return 0;
        }
    }

    /**
     * The libc function {@code name}, or null off Linux or where native access is denied. Linking is a restricted
     * FFM operation; the JVM must run with {@code --enable-native-access=ALL-UNNAMED}, as vnetd's launchers do.
     */
    @SuppressWarnings("restricted")
    private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            return linker.downcallHandle(linker.defaultLookup().findOrThrow(name), descriptor);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
