package dev.vnetd.control.peers;

import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.transport.TunDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TUN device itself ({@link TunDevice}), in a network namespace of its own: two queues of one multi-queue
 * device, a packet the host routes into it read from one of them, a packet written to one delivered to a host
 * socket. Addresses from 198.18.0.0/15 (RFC 2544), inside the namespace only.
 */
class TunDeviceNamespaceTest {
    private static final String DEVICE = "vtt0";
    private static final int BUFFER = 2048;

    static String ns;

    @BeforeAll
    static void createNamespace() throws Exception {
        Prerequisites.root();
        ns = "vt-tun-dev-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xFFFF));
        Namespaces.ip("netns", "add", ns);
        Namespaces.ip("-n", ns, "link", "set", "lo", "up");
    }

    @AfterAll
    static void deleteNamespace() throws Exception {
        if (ns != null) {
            Namespaces.ip("netns", "del", ns);
        }
    }

    @Test
    void shouldReadWhatTheHostSendsAndDeliverWhatIsWrittenOnAMultiQueueDevice() throws Exception {
        NetnsThread.call(ns, () -> {
            int first = TunDevice.openQueue(DEVICE);
            int second = TunDevice.openQueue(DEVICE);
            try (Arena arena = Arena.ofConfined(); DatagramSocket socket = new DatagramSocket(null)) {
                String details = ipOutput("-d", "link", "show", DEVICE);
                assertTrue(details.contains("multi_queue") && details.contains("numqueues 2"), details);
                Namespaces.ip("-n", ns, "addr", "add", "198.18.5.1/24", "dev", DEVICE);
                Namespaces.ip("-n", ns, "link", "set", DEVICE, "up");
                MemorySegment errno = TunDevice.newErrnoState(arena);
                MemorySegment buffer = arena.allocate(BUFFER, 64);

                socket.bind(new InetSocketAddress("198.18.5.1", 0));
                socket.setSoTimeout(2000);
                byte[] hello = "to the tun".getBytes(StandardCharsets.US_ASCII);
                socket.send(new DatagramPacket(hello, hello.length, new InetSocketAddress("198.18.5.2", 4000)));
                byte[] read = readUdp(errno, buffer, new int[] {first, second});
                assertEquals(28 + hello.length, read.length, "IPv4 + UDP + payload");
                assertEquals(0x45, read[0] & 0xFF, "version 4, IHL 5");
                assertEquals(17, read[9], "protocol UDP");
                assertEquals("198.18.5.2", ipv4(read, 16), "destination");
                assertEquals(4000, ((read[22] & 0xFF) << 8) | (read[23] & 0xFF), "destination port");

                ByteBuf packet = new PacketBuilder().ip("198.18.5.2", "198.18.5.1", 64)
                        .udp(4000, socket.getLocalPort(), "from the tun".getBytes(StandardCharsets.US_ASCII))
                        .build(UnpooledByteBufAllocator.DEFAULT);
                byte[] bytes = ByteBufUtil.getBytes(packet);
                packet.release();
                int length = bytes.length;
                MemorySegment.copy(bytes, 0, buffer, ValueLayout.JAVA_BYTE, 0, length);
                assertEquals(length, TunDevice.write(errno, second, buffer.address(), length));
                DatagramPacket received = new DatagramPacket(new byte[100], 100);
                socket.receive(received);
                assertEquals("from the tun", new String(received.getData(), 0, received.getLength(),
                        StandardCharsets.US_ASCII));
                assertEquals(new InetSocketAddress("198.18.5.2", 4000), received.getSocketAddress());
            } finally {
                TunDevice.close(first);
                TunDevice.close(second);
            }
            return null;
        });
        assertThrows(IOException.class, () -> Namespaces.ip("-n", ns, "link", "show", DEVICE),
                "the device is gone with its last queue");
    }

    @Test
    void shouldReportAnEmptyQueueAsEagainAndRefuseBadNames() throws Exception {
        NetnsThread.call(ns, () -> {
            int queue = TunDevice.openQueue("vtt1");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buffer = arena.allocate(BUFFER, 64);
                assertEquals(TunDevice.EAGAIN_RESULT,
                        TunDevice.read(TunDevice.newErrnoState(arena), queue, buffer.address(), BUFFER));
            } finally {
                TunDevice.close(queue);
            }
            IOException tooLong = assertThrows(IOException.class, () -> TunDevice.openQueue("a-name-of-16-byte"));
            assertTrue(tooLong.getMessage().contains("1 to 15 bytes"), tooLong.getMessage());
            Namespaces.ip("-n", ns, "link", "add", "vtt-veth", "type", "veth", "peer", "name", "vtt-peer");
            IOException taken = assertThrows(IOException.class, () -> TunDevice.openQueue("vtt-veth"));
            assertTrue(taken.getMessage().contains("vtt-veth"), taken.getMessage());
            return null;
        });
    }

    /** Reads both queues until a UDP packet arrives (the host may send others first, e.g. IPv6 router probes). */
    private static byte[] readUdp(MemorySegment errno, MemorySegment buffer, int[] queues) throws Exception {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < deadline) {
            for (int queue : queues) {
                int n = TunDevice.read(errno, queue, buffer.address(), BUFFER);
                if (n > 0) {
                    byte[] packet = buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                    if ((packet[0] & 0xF0) == 0x40 && packet[9] == 17) {
                        return packet;
                    }
                } else {
                    assertEquals(TunDevice.EAGAIN_RESULT, n, TunDevice.strerror(-n));
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no UDP packet read from the device");
    }

    private static String ipv4(byte[] packet, int offset) {
        return (packet[offset] & 0xFF) + "." + (packet[offset + 1] & 0xFF) + "." + (packet[offset + 2] & 0xFF) + "."
                + (packet[offset + 3] & 0xFF);
    }

    private static String ipOutput(String... args) throws IOException, InterruptedException {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("ip", "-n", ns));
        command.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
