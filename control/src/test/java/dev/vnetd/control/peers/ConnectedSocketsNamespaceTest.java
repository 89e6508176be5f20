package dev.vnetd.control.peers;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A slow peer beside an alive one, as in {@link SocketFaultsNamespaceTest}'s slow phase (a veth whose token bucket
 * holds vnetd's packets until the sending socket's buffer is full), but with the listener's default
 * {@code connected_remotes}: each data centre's packets leave from sockets connected to it, so the slow peer's full
 * send buffer refuses only its own packets and the alive peer beside it receives every one, where with shared
 * sockets it received a third. Twice: data centres behind GRE-in-UDP (sockets on ports of their own), then behind
 * ESP-in-UDP (sockets on the listening port, AES-GCM-128; the peers count datagrams, they need not decrypt them).
 * vnetd runs as a process in its own namespace, one configuration after the other; fault_peer.py sends and sinks.
 */
class ConnectedSocketsNamespaceTest {
    private static final int SLOW_ROUNDS = 30;
    private static final int SLOW_PER_ROUND = 400;
    private static final int ALIVE_PER_SLOW_ROUND = 10;
    private static final int AFTER_ROUNDS = 10;
    private static final int AFTER_PER_ROUND = 50;
    private static final String SPEC = """
            {"vnetd": "198.18.6.1", "port": 4754, "admin": 9400, "site": "127.0.0.2", "alive": "127.0.0.4",
             "peer_port": 4754, "phases": [
              {"name": "slow", "rounds": %d, "pause": 0.02, "settle": 6.0,
               "send": [["10.4.0.1", %d, 1400], ["10.1.0.1", %d, 100]]},
              {"name": "after", "rounds": %d, "pause": 0.02, "send": [["10.1.0.1", %d, 100]]}
             ]}""".formatted(SLOW_ROUNDS, SLOW_PER_ROUND, ALIVE_PER_SLOW_ROUND, AFTER_ROUNDS, AFTER_PER_ROUND);
    private static final String ROUTES = """
            routes:
              - {prefix: 10.1.0.0/16, virtual_network: production, via: dc-alive}
              - {prefix: 10.4.0.0/16, virtual_network: production, via: dc-slow}
            """;

    @TempDir
    static Path dir;

    static Namespaces ns;
    static Run gre;
    static Run esp;

    /** One configuration's run: fault_peer.py's report, vnetd's log, the kernel's UDP drops before it. */
    record Run(FaultPeer.Report results, String log, long kernelDropsBefore) {
    }

    @BeforeAll
    static void runPeer() throws Exception {
        Prerequisites.root();
        ns = Namespaces.pair("vt-conn", List.of("198.18.6.1/24"), List.of("198.18.6.2/24"));
        FaultPeer.throttleLeftLink(ns);
        gre = run("gre", """
                node: {name: connected, workers: 1, transport: epoll}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 198.18.6.1:4754, source_ports: 1}
                virtual_networks:
                  - {name: production}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2:4754, virtual_network: production}
                  - {name: dc-alive, type: gre-udp, listener: gre-udp, remote: 127.0.0.4:4754, virtual_network: production}
                  - {name: dc-slow, type: gre-udp, listener: gre-udp, remote: 198.18.6.2:4754, virtual_network: production}
                """ + ROUTES, 0);
        for (String key : List.of("alive-in", "alive-out", "slow-in", "slow-out")) {
            Path file = dir.resolve(key + ".key");
            Files.writeString(file, "%040x%n".formatted(key.hashCode() & 0xFFFF_FFFFL));
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        esp = run("esp", """
                node: {name: connected-esp, workers: 1, transport: epoll}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 198.18.6.1:4754, source_ports: 1}
                  - {name: esp-udp, type: esp-udp, listen: 198.18.6.1:4500}
                virtual_networks:
                  - {name: production}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2:4754, virtual_network: production}
                  - name: dc-alive
                    type: esp-udp
                    listener: esp-udp
                    remote: 127.0.0.4:4754
                    virtual_network: production
                    sa:
                      transform: aes-gcm-128
                      inbound: {spi: 0x1001, key_file: alive-in.key}
                      outbound: {spi: 0x2001, key_file: alive-out.key}
                  - name: dc-slow
                    type: esp-udp
                    listener: esp-udp
                    remote: 198.18.6.2:4754
                    virtual_network: production
                    sa:
                      transform: aes-gcm-128
                      inbound: {spi: 0x1002, key_file: slow-in.key}
                      outbound: {spi: 0x2002, key_file: slow-out.key}
                """ + ROUTES, gre.results().metric("kernel_udp_rcvbuf_errors"));
    }

    /** Runs vnetd on {@code config} (written as NAME.yaml) through the phases, then stops it. */
    private static Run run(String name, String config, long kernelDropsBefore) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, config);
        VnetdProcess vnetd = VnetdProcess.start(Namespaces.exec(ns.left), file, dir.resolve(name + ".log"));
        try {
            FaultPeer.Report results = FaultPeer.run(ns, dir, SPEC);
            return new Run(results, vnetd.log(), kernelDropsBefore);
        } finally {
            VnetdProcess.stop(vnetd, null);
        }
    }

    @AfterAll
    static void stop() throws InterruptedException {
        VnetdProcess.stop(null, ns);
    }

    @Test
    void shouldRefuseOnlyTheSlowPeersPacketsWhileItsConnectedSocketsBufferIsFull() {
        assertOnlyTheSlowPeerRefused(gre);
        assertTrue(gre.log().contains("event=remotes_connected listener=gre-udp remotes=3"), gre.log());
    }

    @Test
    void shouldRefuseOnlyTheSlowEspPeersPacketsWhileItsSocketOnTheListeningPortIsFull() {
        assertOnlyTheSlowPeerRefused(esp);
        assertTrue(esp.log().contains("event=remotes_connected listener=esp-udp remotes=2"), esp.log());
    }

    private static void assertOnlyTheSlowPeerRefused(Run run) {
        FaultPeer.Report results = run.results();
        long slowSent = results.field("slow", "sent_10.4.0.1");
        long aliveSent = results.field("slow", "sent_10.1.0.1");
        long aliveReceived = results.field("slow", "received");
        long afterReceived = results.field("after", "received");
        long kernelDrops = results.metric("kernel_udp_rcvbuf_errors") - run.kernelDropsBefore();
        long refused = results.metric("vnetd_drops_total.tx_buffer_full");
        long rx = results.metric("vnetd_rx_packets_total.site");
        long txAlive = results.metric("vnetd_tx_packets_total.dc-alive");
        long txSlow = results.metric("vnetd_tx_packets_total.dc-slow");
        assertEquals((long) SLOW_ROUNDS * SLOW_PER_ROUND, slowSent);
        assertEquals((long) SLOW_ROUNDS * ALIVE_PER_SLOW_ROUND, aliveSent);
        assertTrue(refused > 0, "the slow peer's full send buffer refused packets: " + results);
        assertEquals(slowSent + aliveSent + AFTER_ROUNDS * AFTER_PER_ROUND, rx + kernelDrops,
                "vnetd read every packet the site sent, or the kernel dropped it at vnetd's full receive buffer");
        assertTrue(aliveReceived + kernelDrops >= aliveSent,
                "the alive peer received every packet sent to it while the slow peer's buffer was full (but those "
                        + "the kernel dropped before anyone read them, counted): " + aliveReceived + " of "
                        + aliveSent + "; " + results);
        assertEquals(txAlive, aliveReceived + afterReceived,
                "none of the alive peer's packets was refused: every one vnetd sent arrived");
        assertEquals(rx, txAlive + txSlow + refused,
                "every packet read was sent or refused, and only the slow peer's were refused");
        assertEquals(AFTER_ROUNDS * AFTER_PER_ROUND, afterReceived);
    }
}
