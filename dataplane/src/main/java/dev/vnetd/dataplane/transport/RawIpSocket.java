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

/**
 * Raw IP sockets (socket(AF_INET|AF_INET6, SOCK_RAW, protocol)) for protocols that have no socket type of their
 * own, like GRE (47) and ESP (50), opened through Java's FFM API; a worker reads and writes one as a
 * {@link SocketQueue}, like a UDP socket ({@code recvmmsg}, {@code sendmmsg}, the error queue).
 *
 * <p>Every raw socket of a protocol receives a copy of every packet of it, so SO_REUSEPORT cannot spread them over
 * workers. Instead each worker's socket gets a classic BPF filter that keeps the share of packets whose IPv4 source
 * address modulo the worker count is the worker's index: one remote's packets always reach the same worker. An
 * IPv6 raw socket sees no IPv6 header, so there the first worker receives everything and the others only send.
 * ICMP errors pass no filter: each one reaches every worker's socket, and only the worker whose share the remote is
 * counts it ({@link #isShareOf}). Outer packets leave without DF and are fragmented by the kernel when larger than
 * the link ({@link OuterFragmentation}). Needs CAP_NET_RAW.
 */
final class RawIpSocket {
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_ATTACH_FILTER = 26;
    private static final int EPERM = 1;
    private static final int EACCES = 13;

    private static final short BPF_LD_W_ABS = 0x20;
    private static final short BPF_ALU_MOD_K = 0x94;
    private static final short BPF_JMP_JEQ_K = 0x15;
    private static final short BPF_RET_K = 0x06;
    private static final int IPV4_SOURCE_OFFSET = 12;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle SOCKET = downcall("socket",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle BIND = downcall("bind",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle SETSOCKOPT = downcall("setsockopt",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private RawIpSocket() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor, CAPTURE_ERRNO);
    }

    /**
     * Opens a non-blocking raw socket for {@code protocol}, bound to {@code address} (the wildcard receives on
     * every local address), keeping worker {@code worker}'s share of {@code workers}, with receive and send buffers
     * of {@code bufferBytes} and IP_RECVERR (IPV6_RECVERR): ICMP errors about what vnetd sent are queued on the
     * socket's error queue, where {@link SocketQueue} reads which peer they concern. Returns the file descriptor.
     *
     * @throws IOException with the system's reason, naming CAP_NET_RAW when permission was refused
     */
    static int open(InetAddress address, int protocol, int worker, int workers, int bufferBytes) throws IOException {
        boolean ipv4 = address instanceof Inet4Address;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int fd = (int) SOCKET.invokeExact(state, ipv4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    protocol);
            if (fd < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                if (errno == EPERM || errno == EACCES) {
                    throw new IOException("raw socket for IP protocol " + protocol
                            + " refused: needs CAP_NET_RAW (run as root or grant the capability)");
                }
                throw new IOException("raw socket for IP protocol " + protocol + ": " + TunDevice.strerror(errno));
            }
            try {
                MemorySegment sockaddr = sockaddr(arena, address);
                check((int) BIND.invokeExact(state, fd, sockaddr, (int) sockaddr.byteSize()), state,
                        "bind raw socket to " + address.getHostAddress());
                MemorySegment dont = arena.allocate(ValueLayout.JAVA_INT);
                dont.set(ValueLayout.JAVA_INT, 0, OuterFragmentation.PMTUDISC_DONT);
                check((int) SETSOCKOPT.invokeExact(state, fd,
                        ipv4 ? OuterFragmentation.SOL_IP : OuterFragmentation.SOL_IPV6,
                        ipv4 ? OuterFragmentation.IP_MTU_DISCOVER : OuterFragmentation.IPV6_MTU_DISCOVER, dont,
                        (int) ValueLayout.JAVA_INT.byteSize()), state, "let the kernel fragment (IP_PMTUDISC_DONT)");
                UdpSocket.setInt(arena, state, fd, SOL_SOCKET, UdpSocket.SO_RCVBUF, bufferBytes, "SO_RCVBUF");
                UdpSocket.setInt(arena, state, fd, SOL_SOCKET, UdpSocket.SO_SNDBUF, bufferBytes, "SO_SNDBUF");
                UdpSocket.setInt(arena, state, fd, ipv4 ? OuterFragmentation.SOL_IP : OuterFragmentation.SOL_IPV6,
                        ipv4 ? UdpSocket.IP_RECVERR : UdpSocket.IPV6_RECVERR, 1, ipv4 ? "IP_RECVERR" : "IPV6_RECVERR");
                MemorySegment program = filter(arena, ipv4, worker, workers);
                if (program != null) {
                    MemorySegment fprog = arena.allocate(16, 8);
                    fprog.set(ValueLayout.JAVA_SHORT, 0, (short) (program.byteSize() / 8));
                    fprog.set(ValueLayout.ADDRESS, 8, program);
                    check((int) SETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, 16), state,
                            "attach the worker's filter");
                }
                return fd;
            } catch (IOException | RuntimeException | Error e) {
                TunDevice.close(fd);
                throw e;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("raw socket: " + t, t);
        }
    }

    /**
     * Whether remote {@code address} (an IPv4 address as its unsigned 32 bits; any IPv6 address) falls in worker
     * {@code worker}'s share of {@code workers}: the rule of the receive filter, which an ICMP error about a packet
     * sent to the remote does not pass through. Always true for one worker.
     */
    static boolean isShareOf(boolean ipv4, long address, int worker, int workers) {
        return ipv4 ? address % workers == worker : worker == 0;
    }

    private static MemorySegment filter(Arena arena, boolean ipv4, int worker, int workers) {
        if (workers <= 1) {
            return null;
        }
        if (!ipv4) {
            return worker == 0 ? null : program(arena, new short[] {BPF_RET_K}, new int[] {0});
        }
        // A = ip source; A %= workers; if A == worker accept else drop
        return program(arena,
                new short[] {BPF_LD_W_ABS, BPF_ALU_MOD_K, BPF_JMP_JEQ_K, BPF_RET_K, BPF_RET_K},
                new int[] {IPV4_SOURCE_OFFSET, workers, worker, 0xFFFF, 0},
                new byte[] {0, 0, 0, 0, 0}, new byte[] {0, 0, 1, 0, 0});
    }

    private static MemorySegment program(Arena arena, short[] codes, int[] ks) {
        return program(arena, codes, ks, new byte[codes.length], new byte[codes.length]);
    }

    private static MemorySegment program(Arena arena, short[] codes, int[] ks, byte[] jt, byte[] jf) {
        MemorySegment program = arena.allocate(8L * codes.length, 8);
        for (int i = 0; i < codes.length; i++) {
            long at = 8L * i;
            program.set(ValueLayout.JAVA_SHORT, at, codes[i]);
            program.set(ValueLayout.JAVA_BYTE, at + 2, jt[i]);
            program.set(ValueLayout.JAVA_BYTE, at + 3, jf[i]);
            program.set(ValueLayout.JAVA_INT, at + 4, ks[i]);
        }
        return program;
    }

    private static MemorySegment sockaddr(Arena arena, InetAddress address) {
        byte[] bytes = address.getAddress();
        if (address instanceof Inet4Address) {
            MemorySegment sa = arena.allocate(16, 4);
            sa.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET);
            MemorySegment.copy(bytes, 0, sa, ValueLayout.JAVA_BYTE, 4, 4);
            return sa;
        }
        MemorySegment sa = arena.allocate(28, 4);
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET6);
        MemorySegment.copy(bytes, 0, sa, ValueLayout.JAVA_BYTE, 8, 16);
        return sa;
    }

    private static void check(int result, MemorySegment state, String what) throws IOException {
        if (result < 0) {
            throw new IOException(what + ": " + TunDevice.strerror((int) ERRNO.get(state, 0L)));
        }
    }
}
