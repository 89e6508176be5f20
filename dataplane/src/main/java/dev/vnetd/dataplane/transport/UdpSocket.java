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
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/**
 * Linux UDP sockets through Java's FFM API: open, bind and configure one, and move batches of datagrams with
 * {@code recvmmsg}/{@code sendmmsg} over arrays of {@code struct mmsghdr} the caller lays out once.
 *
 * <pre>
 *  struct mmsghdr (64 bytes, x86_64 and aarch64):
 *  0        8          16       24         32          40             48         56        60
 *  +--------+----------+--------+----------+-----------+--------------+----------+---------+-----+
 *  |msg_name|namelen|  |msg_iov |msg_iovlen|msg_control|msg_controllen|msg_flags | msg_len | pad |
 *  +--------+----------+--------+----------+-----------+--------------+----------+---------+-----+
 *  struct iovec (16 bytes): iov_base, iov_len
 *  struct sockaddr_in (16):  family (host order) | port (network) | address (network) | zero[8]
 *  struct sockaddr_in6 (28): family | port | flowinfo | address[16] | scope_id
 * </pre>
 *
 * {@link #receiveBatch} and {@link #sendBatch} are the per-batch calls: critical downcalls (no thread-state
 * transition, as for a short non-blocking system call) taking addresses as plain {@code long}s, so nothing is
 * allocated per call; errno is captured into a segment the caller keeps ({@link TunDevice#newErrnoState}).
 */
final class UdpSocket {
    /** {@code sizeof(struct mmsghdr)}. */
    static final int MMSGHDR_SIZE = 64;
    /** Offset of {@code msg_name} in {@code struct mmsghdr}. */
    static final int MSG_NAME_OFFSET = 0;
    /** Offset of {@code msg_namelen}. */
    static final int MSG_NAMELEN_OFFSET = 8;
    /** Offset of {@code msg_iov}. */
    static final int MSG_IOV_OFFSET = 16;
    /** Offset of {@code msg_iovlen}. */
    static final int MSG_IOVLEN_OFFSET = 24;
    /** Offset of {@code msg_control}. */
    static final int MSG_CONTROL_OFFSET = 32;
    /** Offset of {@code msg_controllen}. */
    static final int MSG_CONTROLLEN_OFFSET = 40;
    /** Offset of {@code msg_flags}. */
    static final int MSG_FLAGS_OFFSET = 48;
    /** Offset of {@code msg_len}: the bytes received or sent for this entry. */
    static final int MSG_LEN_OFFSET = 56;
    /** {@code sizeof(struct iovec)}. */
    static final int IOVEC_SIZE = 16;
    /** Offset of {@code iov_len} in {@code struct iovec}. */
    static final int IOV_LEN_OFFSET = 8;
    /** Room per address: {@code struct sockaddr_in6} (28 bytes) rounded up to 8. */
    static final int SOCKADDR_SIZE = 32;
    /** {@code sizeof(struct sockaddr_in)}. */
    static final int SOCKADDR_IN_SIZE = 16;
    /** {@code sizeof(struct sockaddr_in6)}. */
    static final int SOCKADDR_IN6_SIZE = 28;
    /** Offset of the port in both sockaddr layouts (network order). */
    static final int SOCKADDR_PORT_OFFSET = 2;
    /** Offset of {@code sin_addr}. */
    static final int SOCKADDR_IN_ADDR_OFFSET = 4;
    /** Offset of {@code sin6_addr}. */
    static final int SOCKADDR_IN6_ADDR_OFFSET = 8;
    /** {@code AF_INET}. */
    static final short AF_INET = 2;
    /** {@code AF_INET6}. */
    static final short AF_INET6 = 10;
    /** Result of a batch call when nothing is ready (receive) or the send buffer is full (send): minus EAGAIN. */
    static final int EAGAIN_RESULT = -11;

    static final ValueLayout.OfShort U16_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt U32_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfLong U64_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    /** {@code SO_SNDBUF} and {@code SO_RCVBUF} (level SOL_SOCKET). */
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    private static final int SO_REUSEPORT = 15;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_ERRQUEUE = 0x2000;
    private static final int SO_ERROR = 4;
    /** {@code IP_RECVERR} (level SOL_IP) and {@code IPV6_RECVERR} (level SOL_IPV6): also the cmsg types. */
    static final int IP_RECVERR = 11;
    static final int IPV6_RECVERR = 25;
    /** Size of a {@code struct msghdr}: the first fields of an {@code mmsghdr}, the same offsets. */
    static final int MSGHDR_SIZE = 56;
    /** {@code struct cmsghdr}: {@code cmsg_len} (size_t), then level and type (int); the data follows at 16. */
    static final int CMSG_LEVEL_OFFSET = 8;
    static final int CMSG_TYPE_OFFSET = 12;
    static final int CMSG_DATA_OFFSET = 16;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle SOCKET = downcall("socket",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle SETSOCKOPT = downcall("setsockopt",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle GETSOCKOPT = downcall("getsockopt",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle BIND = downcall("bind",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle CONNECT = downcall("connect",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle GETSOCKNAME = downcall("getsockname",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle RECVMMSG = downcall("recvmmsg",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
            CAPTURE_ERRNO, Linker.Option.critical(false));
    private static final MethodHandle RECVMSG = downcall("recvmsg",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT), CAPTURE_ERRNO, Linker.Option.critical(false));
    private static final MethodHandle SENDMMSG = downcall("sendmmsg",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), CAPTURE_ERRNO, Linker.Option.critical(false));

    private UdpSocket() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor, options);
    }

    /**
     * Opens a non-blocking UDP socket of {@code address}'s family, sets the options every vnetd UDP socket has
     * (SO_REUSEPORT when asked, receive and send buffers of {@code bufferBytes}, IP_PMTUDISC_DONT and for IPv6
     * IPV6_PMTUDISC_DONT: see {@link OuterFragmentation}) and binds it. Returns the file descriptor.
     *
     * @throws IOException "bind ADDRESS: reason" when the address is taken or not local, or the failing call
     */
    static int open(InetSocketAddress address, boolean reusePort, int bufferBytes) throws IOException {
        boolean ipv6 = !(address.getAddress() instanceof Inet4Address);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int fd = (int) SOCKET.invokeExact(state, ipv6 ? (int) AF_INET6 : (int) AF_INET,
                    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new IOException("socket: " + TunDevice.strerror(errno(state)));
            }
            try {
                if (reusePort) {
                    setInt(arena, state, fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
                }
                setInt(arena, state, fd, SOL_SOCKET, SO_RCVBUF, bufferBytes, "SO_RCVBUF");
                setInt(arena, state, fd, SOL_SOCKET, SO_SNDBUF, bufferBytes, "SO_SNDBUF");
                setInt(arena, state, fd, OuterFragmentation.SOL_IP, OuterFragmentation.IP_MTU_DISCOVER,
                        OuterFragmentation.PMTUDISC_DONT, "IP_MTU_DISCOVER");
                // ICMP errors about what this socket sent (a peer's port unreachable, a host unreachable on the
                // way) are queued on the socket's error queue, where SocketQueue reads which peer they concern.
                setInt(arena, state, fd, OuterFragmentation.SOL_IP, IP_RECVERR, 1, "IP_RECVERR");
                if (ipv6) {
                    setInt(arena, state, fd, OuterFragmentation.SOL_IPV6, OuterFragmentation.IPV6_MTU_DISCOVER,
                            OuterFragmentation.PMTUDISC_DONT, "IPV6_MTU_DISCOVER");
                    setInt(arena, state, fd, OuterFragmentation.SOL_IPV6, IPV6_RECVERR, 1, "IPV6_RECVERR");
                }
                MemorySegment sockaddr = arena.allocate(SOCKADDR_SIZE, 8);
                int length = writeSockaddr(sockaddr, 0, address);
                if ((int) BIND.invokeExact(state, fd, sockaddr, length) < 0) {
                    throw new IOException("bind " + address + ": " + TunDevice.strerror(errno(state)));
                }
                return fd;
            } catch (IOException | RuntimeException e) {
                TunDevice.close(fd);
                throw e;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("UDP socket " + address + ": " + t, t);
        }
    }

    /**
     * Connects UDP socket {@code fd} to {@code remote}: the kernel then keeps the route to it, and a datagram sent
     * without a destination goes there without the per-datagram route lookup an unconnected send pays. Datagrams
     * from elsewhere are no longer delivered to the socket.
     *
     * @throws IOException "connect REMOTE: reason" (no route to it, say)
     */
    static void connect(int fd, InetSocketAddress remote) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            MemorySegment sockaddr = arena.allocate(SOCKADDR_SIZE, 8);
            int length = writeSockaddr(sockaddr, 0, remote);
            if ((int) CONNECT.invokeExact(state, fd, sockaddr, length) < 0) {
                throw new IOException("connect " + remote + ": " + TunDevice.strerror(errno(state)));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("connect " + remote + ": " + t, t);
        }
    }

    /**
     * Sets integer socket option {@code name} of {@code fd}, errno captured into {@code state} (a
     * {@link Linker.Option#captureStateLayout()} segment); throws "setsockopt NAME: reason" when refused.
     */
    static void setInt(Arena arena, MemorySegment state, int fd, int level, int option, int value, String name)
            throws Throwable {
        MemorySegment v = arena.allocateFrom(ValueLayout.JAVA_INT, value);
        if ((int) SETSOCKOPT.invokeExact(state, fd, level, option, v, Integer.BYTES) < 0) {
            throw new IOException("setsockopt " + name + ": " + TunDevice.strerror(errno(state)));
        }
    }

    /** An integer socket option's value (for tests and diagnostics). */
    static int intOption(int fd, int level, int option) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment length = arena.allocateFrom(ValueLayout.JAVA_INT, Integer.BYTES);
            if ((int) GETSOCKOPT.invokeExact(state, fd, level, option, value, length) < 0) {
                throw new IOException("getsockopt: " + TunDevice.strerror(errno(state)));
            }
            return value.get(ValueLayout.JAVA_INT, 0);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("getsockopt: " + t, t);
        }
    }

    /** The address the socket is bound to (its port chosen by the kernel when bound to 0). */
    static InetSocketAddress localAddress(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            MemorySegment sockaddr = arena.allocate(SOCKADDR_SIZE, 8);
            MemorySegment length = arena.allocateFrom(ValueLayout.JAVA_INT, SOCKADDR_SIZE);
            if ((int) GETSOCKNAME.invokeExact(state, fd, sockaddr, length) < 0) {
                throw new IOException("getsockname: " + TunDevice.strerror(errno(state)));
            }
            return readSockaddr(sockaddr, 0);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("getsockname: " + t, t);
        }
    }

    /**
     * Writes {@code address} as a {@code sockaddr_in} or {@code sockaddr_in6} at {@code offset} of {@code segment};
     * returns its length. Allocates (it reads the address bytes): for setup, not per packet.
     */
    static int writeSockaddr(MemorySegment segment, long offset, InetSocketAddress address) {
        segment.asSlice(offset, SOCKADDR_SIZE).fill((byte) 0);
        segment.set(U16_BE, offset + SOCKADDR_PORT_OFFSET, (short) address.getPort());
        byte[] bytes = address.getAddress().getAddress();
        if (bytes.length == 4) {
            segment.set(ValueLayout.JAVA_SHORT, offset, AF_INET);
            MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, offset + SOCKADDR_IN_ADDR_OFFSET, 4);
            return SOCKADDR_IN_SIZE;
        }
        segment.set(ValueLayout.JAVA_SHORT, offset, AF_INET6);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, offset + SOCKADDR_IN6_ADDR_OFFSET, 16);
        return SOCKADDR_IN6_SIZE;
    }

    /** The address of the {@code sockaddr} at {@code offset}; allocates: for setup and diagnostics. */
    static InetSocketAddress readSockaddr(MemorySegment segment, long offset) throws UnknownHostException {
        int port = Short.toUnsignedInt(segment.get(U16_BE, offset + SOCKADDR_PORT_OFFSET));
        boolean ipv4 = segment.get(ValueLayout.JAVA_SHORT, offset) == AF_INET;
        byte[] bytes = new byte[ipv4 ? 4 : 16];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE,
                offset + (ipv4 ? SOCKADDR_IN_ADDR_OFFSET : SOCKADDR_IN6_ADDR_OFFSET), bytes, 0, bytes.length);
        return new InetSocketAddress(InetAddress.getByAddress(bytes), port);
    }

    /**
     * Receives up to {@code count} datagrams into the {@code mmsghdr} array at native address {@code msgs}, without
     * waiting. Returns how many arrived, or minus errno ({@link #EAGAIN_RESULT} when none is queued).
     */
    static int receiveBatch(MemorySegment errnoState, int fd, long msgs, int count) {
        try {
            int n = (int) RECVMMSG.invokeExact(errnoState, fd, msgs, count, MSG_DONTWAIT, 0L);
            return n >= 0 ? n : -errno(errnoState);
        } catch (Throwable t) {
            throw new IllegalStateException("recvmmsg", t);
        }
    }

    /**
     * Reads one message of the socket's error queue into the {@code msghdr} at native address {@code msg}, without
     * waiting. Returns its payload length, or minus errno ({@link #EAGAIN_RESULT} when the queue is empty).
     */
    static int receiveError(MemorySegment errnoState, int fd, long msg) {
        try {
            long n = (long) RECVMSG.invokeExact(errnoState, fd, msg, MSG_ERRQUEUE | MSG_DONTWAIT);
            return n >= 0 ? (int) n : -errno(errnoState);
        } catch (Throwable t) {
            throw new IllegalStateException("recvmsg", t);
        }
    }

    /** Reads and clears the socket's pending error ({@code SO_ERROR}); 0 when there is none. */
    static int takePendingError(int fd) throws IOException {
        return intOption(fd, SOL_SOCKET, SO_ERROR);
    }

    /**
     * Sends the {@code count} datagrams of the {@code mmsghdr} array at native address {@code msgs}, without
     * waiting. Returns how many the kernel took (it stops at the first that fails), or minus errno when the first
     * failed ({@link #EAGAIN_RESULT}: the send buffer is full).
     */
    static int sendBatch(MemorySegment errnoState, int fd, long msgs, int count) {
        try {
            int n = (int) SENDMMSG.invokeExact(errnoState, fd, msgs, count, MSG_DONTWAIT);
            return n >= 0 ? n : -errno(errnoState);
        } catch (Throwable t) {
            throw new IllegalStateException("sendmmsg", t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }
}
