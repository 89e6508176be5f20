package dev.vnetd.dataplane.transport;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * The Linux TUN driver through Java's FFM API: one queue (file descriptor) of a multi-queue TUN device per call to
 * {@link #openQueue}, and the non-blocking {@code read}/{@code write} of whole IP packets on it.
 *
 * <pre>
 *  open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
 *  ioctl(fd, TUNSETIFF, &amp;ifreq)      struct ifreq (40 bytes):
 *                                      0                16      18                 40
 *                                      +----------------+-------+------------------+
 *                                      | ifr_name[16]   | flags |  (union, unused) |
 *                                      +----------------+-------+------------------+
 *                                      flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE
 * </pre>
 *
 * The first queue creates the device; every further queue opened with the same name and flags attaches to it, and
 * the kernel spreads the packets the host sends over the queues by flow hash. The device is not persistent: it
 * disappears with its last queue. Needs CAP_NET_ADMIN.
 *
 * <p>{@link #read} and {@link #write} are the per-packet calls: critical downcalls (no thread-state transition, as
 * for a short non-blocking system call) taking the buffer address as a plain {@code long}, so nothing is allocated
 * per call; errno is captured into a segment the caller keeps ({@link #newErrnoState}). Their cost against Netty's
 * JNI {@code FileDescriptor.readAddress} is measured in {@code bench/.../tun/} (docs/performance.md, "TUN attachments").
 */
public final class TunDevice {
    /** {@code read}/{@code write} result when the queue is empty (read) or full (write): minus EAGAIN. */
    public static final int EAGAIN_RESULT = -11;

    private static final int O_RDWR = 2;
    private static final int O_NONBLOCK = 0x800;
    private static final int O_CLOEXEC = 0x80000;
    /** _IOW('T', 202, int). */
    private static final long TUNSETIFF = 0x400454caL;
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_MULTI_QUEUE = 0x0100;
    private static final short IFF_NO_PI = 0x1000;
    private static final int IFREQ_SIZE = 40;
    private static final int IFREQ_FLAGS_OFFSET = 16;
    private static final int EPERM = 1;
    private static final int ENOENT = 2;
    private static final int EACCES = 13;
    private static final int EBUSY = 16;
    private static final int EINVAL = 22;
    private static final String CLONE_DEVICE = "/dev/net/tun";

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS), CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle READ = downcall("read",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG), CAPTURE_ERRNO, Linker.Option.critical(false));
    private static final MethodHandle WRITE = downcall("write",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG), CAPTURE_ERRNO, Linker.Option.critical(false));
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle STRERROR = downcall("strerror",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private TunDevice() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor, options);
    }

    /**
     * Opens one more queue of the multi-queue TUN device {@code device}, creating the device if it does not exist.
     * Returns the non-blocking file descriptor.
     *
     * @throws IOException with the system's reason, naming /dev/net/tun or CAP_NET_ADMIN where they are the cause
     */
    public static int openQueue(String device) throws IOException {
        byte[] name = device.getBytes(StandardCharsets.UTF_8);
        if (name.length == 0 || name.length > 15) {
            throw new IOException("TUN device name '" + device + "' must be 1 to 15 bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(CLONE_DEVICE), O_RDWR | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) {
                int errno = errno(state);
                throw new IOException(errno == ENOENT ? CLONE_DEVICE + " does not exist (no TUN driver: modprobe tun,"
                        + " or give the container the device)" : "open " + CLONE_DEVICE + ": " + strerror(errno));
            }
            MemorySegment ifreq = arena.allocate(IFREQ_SIZE, 8);
            MemorySegment.copy(name, 0, ifreq, ValueLayout.JAVA_BYTE, 0, name.length);
            ifreq.set(ValueLayout.JAVA_SHORT, IFREQ_FLAGS_OFFSET, (short) (IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE));
            if ((int) IOCTL.invokeExact(state, fd, TUNSETIFF, ifreq) < 0) {
                int errno = errno(state);
                close(fd);
                throw new IOException(switch (errno) {
                    case EPERM, EACCES -> "TUN device " + device + " refused: needs CAP_NET_ADMIN (run as root or "
                            + "grant the capability)";
                    case EINVAL, EBUSY -> "TUN device " + device + ": " + strerror(errno) + " (an interface of that "
                            + "name exists and is not a multi-queue TUN device without packet information)";
                    default -> "TUN device " + device + ": " + strerror(errno);
                });
            }
            return fd;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("TUN device " + device + ": " + t, t);
        }
    }

    /** A segment to capture errno in, one per thread that calls {@link #read} or {@link #write}. */
    public static MemorySegment newErrnoState(Arena arena) {
        return arena.allocate(CAPTURED);
    }

    /**
     * Reads one packet into the {@code length} bytes at native {@code address}. Returns its length, or minus errno
     * ({@link #EAGAIN_RESULT} when the queue is empty).
     */
    public static int read(MemorySegment errnoState, int fd, long address, int length) {
        try {
            long n = (long) READ.invokeExact(errnoState, fd, address, (long) length);
            return n >= 0 ? (int) n : -errno(errnoState);
        } catch (Throwable t) {
            throw new IllegalStateException("read", t);
        }
    }

    /**
     * Writes the packet of {@code length} bytes at native {@code address}. Returns the bytes written, or minus
     * errno ({@link #EAGAIN_RESULT} when the queue is full).
     */
    public static int write(MemorySegment errnoState, int fd, long address, int length) {
        try {
            long n = (long) WRITE.invokeExact(errnoState, fd, address, (long) length);
            return n >= 0 ? (int) n : -errno(errnoState);
        } catch (Throwable t) {
            throw new IllegalStateException("write", t);
        }
    }

    /** Closes a queue; the device goes away with its last one. */
    public static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close", t);
        }
    }

    /** The system's message for {@code errno}, with the number. */
    public static String strerror(int errno) {
        try {
            MemorySegment message = (MemorySegment) STRERROR.invokeExact(errno);
            return message.reinterpret(256).getString(0) + " (errno " + errno + ")";
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }
}
