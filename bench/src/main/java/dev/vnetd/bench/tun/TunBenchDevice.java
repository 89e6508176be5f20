package dev.vnetd.bench.tun;

import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.transport.TunDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.FileDescriptor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A TUN device for the benchmarks, {@value #DEVICE} with 198.18.9.1/24, up, in the namespace the JVM runs in, and
 * a native buffer holding a 64-byte IPv4/UDP packet to 198.18.9.2: the host has no such address and forwards
 * nothing (a fresh namespace), so each packet written is parsed and dropped by the host's IP layer.
 */
final class TunBenchDevice implements AutoCloseable {
    static final String DEVICE = "vtbench0";
    static final int PACKET_LENGTH = 64;
    static final int BUFFER = 2048;

    final int fd;
    final FileDescriptor jni;
    final Arena arena = Arena.ofShared();
    final MemorySegment errno = TunDevice.newErrnoState(arena);
    final MemorySegment buffer = arena.allocate(BUFFER, 64);
    final long address = buffer.address();

    TunBenchDevice() throws IOException, InterruptedException {
        Epoll.ensureAvailability();
        fd = TunDevice.openQueue(DEVICE);
        jni = new FileDescriptor(fd);
        ip("addr", "add", "198.18.9.1/24", "dev", DEVICE);
        ip("link", "set", "dev", DEVICE, "up");
        ByteBuf packet = new PacketBuilder().ip("198.18.9.1", "198.18.9.2", 64)
                .udp(40000, 9, new byte[PACKET_LENGTH - 28]).build(UnpooledByteBufAllocator.DEFAULT);
        byte[] bytes = ByteBufUtil.getBytes(packet);
        packet.release();
        MemorySegment.copy(bytes, 0, buffer, ValueLayout.JAVA_BYTE, 0, bytes.length);
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).inheritIO().start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed");
        }
    }

    @Override
    public void close() {
        TunDevice.close(fd);
        arena.close();
    }
}
