package dev.vnetd.control.peers;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.dataplane.state.ForwardingState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.vnetd.control.peers.GreTestPackets.gre;
import static dev.vnetd.control.peers.GreTestPackets.innerIpv4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MASQUE into ESP and back: two MASQUE clients (two {@code masque-client} tunnels of a site vnetd, each in its own
 * virtual network with its own GRE-in-UDP LAN peer) reach a data centre behind an ESP-in-UDP tunnel of the edge,
 * whose far end is a third vnetd (a real ESP peer) that hands the packets to a GRE-in-UDP server peer:
 *
 * <pre>
 *  lan-a 10.1.0.5 ─GRE─▶ site ─MASQUE a─▶ edge ─ESP-in-UDP─▶ dc vnetd ─GRE─▶ server 10.200.0.7
 *  lan-b 10.2.0.5 ─GRE─▶ site ─MASQUE b─▶  │    (AES-GCM-128)  (ARR back)
 *                                          └─ replies: no route to 10.1/10.2 at the edge, ARR picks the client
 * </pre>
 *
 * The edge has no route toward either client, so a reply that reaches the right LAN peer was returned by Automatic
 * Return Routing through the MASQUE session that opened the flow, also when both clients open the same 5-tuple.
 */
class MasqueEspPeerTest {
    @TempDir
    static Path dir;

    static Daemon edge;
    static Daemon site;
    static Daemon dc;
    static DatagramSocket lanA;
    static DatagramSocket lanB;
    static DatagramSocket server;
    static int siteGre;
    static int dcGre;

    @BeforeAll
    static void start() throws Exception {
        MasqueTestFiles.edgeCertificate(dir);
        MasqueTestFiles.secret(dir, "a.token", "site-a-0123456789abcdef");
        MasqueTestFiles.secret(dir, "b.token", "site-b-fedcba9876543210");
        EspKeys.write(dir.resolve("to-dc.key"), EspKeys.randomHex(EspKeys.materialLength("aes-gcm-128")));
        EspKeys.write(dir.resolve("to-edge.key"), EspKeys.randomHex(EspKeys.materialLength("aes-gcm-128")));

        lanA = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
        lanB = new DatagramSocket(new InetSocketAddress("127.0.0.3", 0));
        server = new DatagramSocket(new InetSocketAddress("127.0.0.5", 0));
        int edgeEsp = FreePort.udp("127.0.0.1");
        int dcEsp = FreePort.udp("127.0.0.4");
        int edgeQuic = FreePort.udp("127.0.0.1");
        Path edgeConfig = dir.resolve("edge.yaml");
        Files.writeString(edgeConfig, """
                node: {name: edge, workers: 2}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: esp, type: esp-udp, listen: 127.0.0.1:%d}
                  - {name: masque, type: masque, listen: 127.0.0.1:%d, tls: {cert: edge.pem, key: edge.key}}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - name: dc
                    type: esp-udp
                    listener: esp
                    remote: 127.0.0.4:%d
                    virtual_network: default
                    sa:
                      transform: aes-gcm-128
                      inbound: {spi: 0x2001, key_file: to-edge.key}
                      outbound: {spi: 0x1001, key_file: to-dc.key}
                  - {name: site-a, type: masque, listener: masque, auth: {token_file: a.token},
                     virtual_network: default, arr: true, assign: [10.1.0.0/16], advertise: [10.200.0.0/16]}
                  - {name: site-b, type: masque, listener: masque, auth: {token_file: b.token},
                     virtual_network: default, arr: true, assign: [10.2.0.0/16, 10.1.0.0/16],
                     advertise: [10.200.0.0/16]}
                routes:
                  - {prefix: 10.200.0.0/16, virtual_network: default, via: dc}
                """.formatted(FreePort.tcp(), edgeEsp, edgeQuic, dcEsp));
        edge = Daemon.start(ConfigLoader.load(edgeConfig));

        dcGre = FreePort.udp("127.0.0.4");
        Path dcConfig = dir.resolve("dc.yaml");
        Files.writeString(dcConfig, """
                node: {name: dc, workers: 2}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: esp, type: esp-udp, listen: 127.0.0.4:%d}
                  - {name: gre, type: gre-udp, listen: 127.0.0.4:%d, source_ports: 0}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - name: edge
                    type: esp-udp
                    listener: esp
                    remote: 127.0.0.1:%d
                    virtual_network: default
                    arr: true
                    sa:
                      transform: aes-gcm-128
                      inbound: {spi: 0x1001, key_file: to-dc.key}
                      outbound: {spi: 0x2001, key_file: to-edge.key}
                  - {name: servers, type: gre-udp, listener: gre, remote: 127.0.0.5:%d, virtual_network: default}
                routes:
                  - {prefix: 10.200.0.0/16, virtual_network: default, via: servers}
                """.formatted(FreePort.tcp(), dcEsp, dcGre, edgeEsp, server.getLocalPort()));
        dc = Daemon.start(ConfigLoader.load(dcConfig));

        siteGre = FreePort.udp("127.0.0.1");
        Path siteConfig = dir.resolve("site.yaml");
        Files.writeString(siteConfig, """
                node: {name: site, workers: 2}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre, type: gre-udp, listen: 127.0.0.1:%d, source_ports: 0}
                virtual_networks:
                  - {name: a}
                  - {name: b}
                tunnels:
                  - {name: lan-a, type: gre-udp, listener: gre, remote: 127.0.0.2:%d, virtual_network: a}
                  - {name: lan-b, type: gre-udp, listener: gre, remote: 127.0.0.3:%d, virtual_network: b}
                  - {name: edge-a, type: masque-client, server: 127.0.0.1:%d, server_name: edge.test, ca: edge.pem,
                     auth: {token_file: a.token}, virtual_network: a}
                  - {name: edge-b, type: masque-client, server: 127.0.0.1:%5$d, server_name: edge.test,
                     ca: edge.pem, auth: {token_file: b.token}, virtual_network: b}
                routes:
                  - {prefix: 10.1.0.0/16, virtual_network: a, via: lan-a}
                  - {prefix: 10.2.0.0/16, virtual_network: b, via: lan-b}
                  - {prefix: 10.1.0.0/16, virtual_network: b, via: lan-b}
                """.formatted(FreePort.tcp(), siteGre, lanA.getLocalPort(), lanB.getLocalPort(), edgeQuic));
        site = Daemon.start(ConfigLoader.load(siteConfig));
    }


    @AfterAll
    static void stop() {
        for (Daemon d : new Daemon[] {site, dc, edge}) {
            if (d != null) {
                d.close();
            }
        }
        for (DatagramSocket s : new DatagramSocket[] {lanA, lanB, server}) {
            if (s != null) {
                s.close();
            }
        }
    }


    /**
     * Sends {@code packet} from {@code from} to vnetd's GRE port until {@code to} receives a GRE packet carrying
     * {@code tag}; a packet carrying {@code tag} at {@code wrong} fails at once.
     */
    private static byte[] sendUntilReceived(DatagramSocket from, int vnetdPort, byte[] packet, DatagramSocket to,
                                            DatagramSocket wrong, String tag) throws Exception {
        to.setSoTimeout(200);
        byte[] buf = new byte[2048];
        for (int attempt = 0; attempt < 75; attempt++) {
            from.send(new DatagramPacket(packet, packet.length, InetAddress.getByName(vnetdAddress(vnetdPort)),
                    vnetdPort));
            long until = System.nanoTime() + 200_000_000L;
            while (System.nanoTime() < until) {
                DatagramPacket received = new DatagramPacket(buf, buf.length);
                try {
                    to.receive(received);
                } catch (SocketTimeoutException e) {
                    break;
                }
                byte[] data = Arrays.copyOf(buf, received.getLength());
                if (new String(data, StandardCharsets.ISO_8859_1).contains(tag)) {
                    assertNothingCarrying(wrong, tag);
                    return data;
                }
            }
        }
        throw new AssertionError("nothing carrying '" + tag + "' arrived");
    }

    private static String vnetdAddress(int port) {
        return port == dcGre ? "127.0.0.4" : "127.0.0.1";
    }

    private static void assertNothingCarrying(DatagramSocket socket, String tag) throws Exception {
        if (socket == null) {
            return;
        }
        socket.setSoTimeout(50);
        byte[] buf = new byte[2048];
        while (true) {
            DatagramPacket received = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(received);
            } catch (SocketTimeoutException e) {
                return;
            }
            String data = new String(buf, 0, received.getLength(), StandardCharsets.ISO_8859_1);
            assertTrue(!data.contains(tag), "'" + tag + "' reached the other client's LAN");
        }
    }


    @Test
    void shouldRouteFromEachMasqueClientIntoEspAndReturnRepliesByArrToThatClient() throws Exception {
        byte[] outA = sendUntilReceived(lanA, siteGre, gre("10.1.0.5", "10.200.0.7", 41000, 53, "from-a"), server,
                null, "from-a");
        assertEquals("10.1.0.5", innerIpv4(outA, 12));
        assertEquals(61, outA[4 + 8] & 0xFF, "TTL decremented once by each of the three vnetds");
        byte[] outB = sendUntilReceived(lanB, siteGre, gre("10.2.0.5", "10.200.0.7", 41000, 53, "from-b"), server,
                null, "from-b");
        assertEquals("10.2.0.5", innerIpv4(outB, 12));

        byte[] backA = sendUntilReceived(server, dcGre, gre("10.200.0.7", "10.1.0.5", 53, 41000, "reply-a"), lanA,
                lanB, "reply-a");
        assertEquals("10.200.0.7", innerIpv4(backA, 12));
        assertEquals("10.1.0.5", innerIpv4(backA, 16));
        byte[] backB = sendUntilReceived(server, dcGre, gre("10.200.0.7", "10.2.0.5", 53, 41000, "reply-b"), lanB,
                lanA, "reply-b");
        assertEquals("10.2.0.5", innerIpv4(backB, 16));
        assertEquals(61, backB[4 + 8] & 0xFF, "TTL decremented once by each of the three vnetds");
    }

    private static int udpPort(byte[] gre, int offset) {
        // GRE header (4 bytes), IPv4 header (20 bytes), then the UDP ports
        return (gre[24 + offset] & 0xFF) << 8 | gre[25 + offset] & 0xFF;
    }

    /**
     * Both clients may use 10.1.0.5 (site-b is assigned 10.1.0.0/16 too, as overlapping sites are): the same 5-tuple
     * from two ARR tunnels gets the second flow's source port translated at the edge, and each reply returns to the
     * client whose flow it answers.
     */
    @Test
    void shouldKeepTheSameFlowFromTwoMasqueClientsApart() throws Exception {
        byte[] outA = sendUntilReceived(lanA, siteGre, gre("10.1.0.5", "10.200.0.7", 42000, 53, "same-a"), server,
                null, "same-a");
        assertEquals(42000, udpPort(outA, 0));
        byte[] outB = sendUntilReceived(lanB, siteGre, gre("10.1.0.5", "10.200.0.7", 42000, 53, "same-b"), server,
                null, "same-b");
        int translated = udpPort(outB, 0);
        assertTrue(translated >= 49152, "the second flow's source port is translated: " + translated);

        byte[] backB = sendUntilReceived(server, dcGre, gre("10.200.0.7", "10.1.0.5", 53, translated, "same-reply-b"),
                lanB, lanA, "same-reply-b");
        assertEquals(42000, udpPort(backB, 2), "the translated port is restored on the reply");
        byte[] backA = sendUntilReceived(server, dcGre, gre("10.200.0.7", "10.1.0.5", 53, 42000, "same-reply-a"),
                lanA, lanB, "same-reply-a");
        assertEquals(42000, udpPort(backA, 2));
    }

    @Test
    void shouldHaveNoRouteTowardTheClientsAtTheEdge() {
        ForwardingState state = edge.stateHolder().get();
        assertTrue(Arrays.stream(state.virtualNetwork("default").routes())
                        .noneMatch(r -> r.prefix().startsWith("10.1.") || r.prefix().startsWith("10.2.")),
                "replies can only find the clients by ARR");
    }
}
