package dev.vnetd.control.peers;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.dataplane.masque.AssignedAddress;
import dev.vnetd.dataplane.masque.Capsule;
import dev.vnetd.dataplane.masque.CapsuleException;
import dev.vnetd.dataplane.masque.IpCapsules;
import dev.vnetd.dataplane.masque.IpRange;
import dev.vnetd.dataplane.masque.MasqueUriTemplate;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.transport.masque.MasqueServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CONNECT-IP over the wire against a running vnetd edge, from {@link CapsuleTestClient}, a bare HTTP/3 client that
 * sends crafted capsules and datagrams: ADDRESS_REQUEST answered (after an unknown capsule type, which is skipped),
 * a malformed capsule resetting the stream with the RFC's error code (RFC 9297 section 3.3: H3_DATAGRAM_ERROR for
 * one that does not parse or is cut short by the stream's end; RFC 9484 section 4.7.3: H3_GENERAL_PROTOCOL_ERROR
 * for ROUTE_ADVERTISEMENT ranges out of order), each reset counted, and a datagram with a context ID other than 0
 * dropped and counted.
 */
class MasqueCapsuleWireTest {
    private static final String TOKEN = "wire-test-0123456789abcdef";

    @TempDir
    static Path dir;

    static Daemon edge;
    static InetSocketAddress quic;

    @BeforeAll
    static void start() throws Exception {
        MasqueTestFiles.edgeCertificate(dir);
        MasqueTestFiles.secret(dir, "site.token", TOKEN);
        quic = new InetSocketAddress("127.0.0.1", FreePort.udp("127.0.0.1"));
        Path config = dir.resolve("edge.yaml");
        Files.writeString(config, """
                node: {name: edge, workers: 1}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: masque, type: masque, listen: 127.0.0.1:%d, tls: {cert: edge.pem, key: edge.key}}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: site, type: masque, listener: masque, auth: {token_file: site.token},
                     virtual_network: default, assign: [10.1.0.0/16], advertise: [10.200.0.0/16]}
                """.formatted(FreePort.tcp(), quic.getPort()));
        edge = Daemon.start(ConfigLoader.load(config));
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    private static CapsuleTestClient connect() throws Exception {
        CapsuleTestClient client = new CapsuleTestClient(quic, "edge.test", dir.resolve("edge.pem").toFile(),
                MasqueUriTemplate.parse(MasqueUriTemplate.DEFAULT).anyTargetPath(), TOKEN);
        assertEquals(200, client.status());
        assertEquals(List.of(new AssignedAddress(0, InetAddress.getByName("10.1.0.0"), 16)),
                client.nextAddressAssign(), "the unsolicited ADDRESS_ASSIGN (request ID 0)");
        assertEquals(List.of(new IpRange(InetAddress.getByName("10.200.0.0"), InetAddress.getByName("10.200.255.255"),
                0)), client.nextRouteAdvertisement());
        return client;
    }

    private static MasqueServer server() {
        return edge.masque().server("masque");
    }

    private static long drops(DropReason reason) {
        long total = 0;
        for (WorkerCounters c : edge.dataplane().counters()) {
            total += c.drops(reason);
        }
        return total;
    }

    private static byte[] bytes(ByteBuf buf) {
        byte[] out = ByteBufUtil.getBytes(buf);
        buf.release();
        return out;
    }

    /** A capsule of {@code type} with {@code value} as it is, however malformed the value. */
    private static byte[] capsule(long type, byte... value) {
        ByteBuf out = Unpooled.buffer();
        Capsule.writeHeader(out, type, value.length);
        out.writeBytes(value);
        return bytes(out);
    }

    private static void assertResetWith(CapsuleTestClient client, long code, long resetsBefore) throws Exception {
        assertEquals(code, client.resetCode(), "RESET_STREAM error code");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server().streamResets() < resetsBefore + 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(resetsBefore + 1, server().streamResets(), "the reset is counted");
        assertTrue(edge.scrape().contains("vnetd_masque_stream_resets_total{listener=\"masque\"}"));
    }

    @Test
    void shouldAnswerAnAddressRequestAfterSkippingAnUnknownCapsuleType() throws Exception {
        try (CapsuleTestClient client = connect()) {
            client.sendCapsuleBytes(capsule(0x2f4a, (byte) 1, (byte) 2, (byte) 3));
            ByteBuf request = Unpooled.buffer();
            IpCapsules.encodeAddressRequest(request, List.of(
                    new AssignedAddress(7, InetAddress.getByName("0.0.0.0"), 32),
                    new AssignedAddress(8, InetAddress.getByName("::"), 128)));
            client.sendCapsuleBytes(bytes(request));
            assertEquals(List.of(new AssignedAddress(7, InetAddress.getByName("10.1.0.0"), 16),
                            new AssignedAddress(8, InetAddress.getByName("::"), 128)), client.nextAddressAssign(),
                    "the IPv4 request gets the assigned prefix, the IPv6 one the all-zero 'none' (RFC 9484 4.7.1)");
        }
    }

    @Test
    void shouldResetTheStreamWithH3DatagramErrorOnAMalformedCapsule() throws Exception {
        long before = server().streamResets();
        try (CapsuleTestClient client = connect()) {
            // ADDRESS_REQUEST: request ID 0 (forbidden in a request), IP version 4, 0.0.0.0, prefix length 32
            client.sendCapsuleBytes(capsule(Capsule.ADDRESS_REQUEST, (byte) 0, (byte) 4, (byte) 0, (byte) 0, (byte) 0,
                    (byte) 0, (byte) 32));
            assertResetWith(client, CapsuleException.H3_DATAGRAM_ERROR, before);
        }
    }

    @Test
    void shouldResetTheStreamWithH3GeneralProtocolErrorOnRoutesOutOfOrder() throws Exception {
        long before = server().streamResets();
        try (CapsuleTestClient client = connect()) {
            // ROUTE_ADVERTISEMENT: 10.2.0.0-10.2.0.255 any protocol, then 10.1.0.0-10.1.0.255: descending
            client.sendCapsuleBytes(capsule(Capsule.ROUTE_ADVERTISEMENT,
                    (byte) 4, (byte) 10, (byte) 2, (byte) 0, (byte) 0, (byte) 10, (byte) 2, (byte) 0, (byte) 255,
                    (byte) 0,
                    (byte) 4, (byte) 10, (byte) 1, (byte) 0, (byte) 0, (byte) 10, (byte) 1, (byte) 0, (byte) 255,
                    (byte) 0));
            assertResetWith(client, CapsuleException.H3_GENERAL_PROTOCOL_ERROR, before);
        }
    }

    @Test
    void shouldResetTheStreamWithH3DatagramErrorWhenItEndsInsideACapsule() throws Exception {
        long before = server().streamResets();
        try (CapsuleTestClient client = connect()) {
            byte[] whole = capsule(Capsule.ADDRESS_REQUEST, (byte) 1, (byte) 4, (byte) 0, (byte) 0, (byte) 0, (byte) 0,
                    (byte) 32);
            client.sendCapsuleBytes(Arrays.copyOf(whole, 4));
            client.endStream();
            assertResetWith(client, CapsuleException.H3_DATAGRAM_ERROR, before);
        }
    }

    private static String tunnelsJson() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + edge.adminAddress().getPort() + "/api/v1/tunnels")).build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    @Test
    void shouldShowTheConnectedClientAsTheRemoteOfAServerSideTunnel() throws Exception {
        String remote;
        try (CapsuleTestClient client = connect()) {
            remote = "\"remote\":\"127.0.0.1:" + client.localAddress().getPort() + "\"";
            String json = tunnelsJson();
            assertTrue(json.contains(remote) && json.contains("\"session\":true"), json);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String json = tunnelsJson();
        while (!json.contains("\"session\":false") && System.nanoTime() < deadline) {
            Thread.sleep(20);
            json = tunnelsJson();
        }
        assertTrue(json.contains("\"remote\":null") && json.contains("\"session\":false"), json);
    }

    @Test
    void shouldDropAndCountADatagramWithAnUnknownContextId() throws Exception {
        long before = drops(DropReason.MASQUE_UNKNOWN_CONTEXT);
        try (CapsuleTestClient client = connect()) {
            for (int i = 0; i < 3; i++) {
                client.sendDatagram(2, new byte[] {0x45, 0, 0, 20});
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (drops(DropReason.MASQUE_UNKNOWN_CONTEXT) < before + 3 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(before + 3, drops(DropReason.MASQUE_UNKNOWN_CONTEXT));
            assertTrue(edge.scrape().contains("vnetd_drops_total{reason=\"masque_unknown_context\"}"));
        }
    }
}
