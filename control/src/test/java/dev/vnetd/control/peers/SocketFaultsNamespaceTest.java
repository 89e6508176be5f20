package dev.vnetd.control.peers;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Socket faults on vnetd's egress (issue 9), with vnetd as a process in its own namespace ("left") and a plain-socket
 * peer (fault_peer.py) beside it: a site sends GRE-in-UDP toward four data centres, one alive, one whose port is
 * closed (a peer that vanished: ICMP port unreachable comes back), one behind an {@code unreachable} route and one
 * behind a veth whose token bucket (tbf, 20 Mbit/s, deep queue) holds vnetd's packets until the socket's send
 * buffer is full. Every packet must be forwarded or counted, the worker must never stall (alive traffic sent after
 * the faults all arrives), and socket errors must be logged at a limited rate.
 */
class SocketFaultsNamespaceTest {
    private static final int FAULT_ROUNDS = 20;
    private static final int PER_ROUND = 20;
    private static final int SLOW_ROUNDS = 30;
    private static final int SLOW_PER_ROUND = 400;
    private static final int ALIVE_PER_SLOW_ROUND = 10;
    private static final int AFTER_ROUNDS = 10;
    private static final int AFTER_PER_ROUND = 50;

    @TempDir
    static Path dir;

    static Namespaces ns;
    static VnetdProcess vnetd;
    static FaultPeer.Report results;

    @BeforeAll
    static void runPeer() throws Exception {
        Prerequisites.root();
        ns = Namespaces.pair("vt-robust", List.of("198.18.7.1/24"), List.of("198.18.7.2/24"));
        Namespaces.ip("-n", ns.left, "route", "add", "unreachable", "198.18.9.0/24");
        FaultPeer.throttleLeftLink(ns);
        Path config = dir.resolve("vnetd.yaml");
        Files.writeString(config, """
                node: {name: faults, workers: 1, transport: epoll}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 198.18.7.1:4754, source_ports: 0}
                virtual_networks:
                  - {name: production}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2:4754, virtual_network: production}
                  - {name: dc-alive, type: gre-udp, listener: gre-udp, remote: 127.0.0.4:4754, virtual_network: production}
                  - {name: dc-gone, type: gre-udp, listener: gre-udp, remote: 127.0.0.5:4754, virtual_network: production}
                  - {name: dc-unreachable, type: gre-udp, listener: gre-udp, remote: 198.18.9.1:4754, virtual_network: production}
                  - {name: dc-slow, type: gre-udp, listener: gre-udp, remote: 198.18.7.2:4754, virtual_network: production}
                routes:
                  - {prefix: 10.1.0.0/16, virtual_network: production, via: dc-alive}
                  - {prefix: 10.2.0.0/16, virtual_network: production, via: dc-gone}
                  - {prefix: 10.3.0.0/16, virtual_network: production, via: dc-unreachable}
                  - {prefix: 10.4.0.0/16, virtual_network: production, via: dc-slow}
                """);
        vnetd = VnetdProcess.start(Namespaces.exec(ns.left), config, dir.resolve("vnetd.log"));
        String spec = """
                {"vnetd": "198.18.7.1", "port": 4754, "admin": 9400, "site": "127.0.0.2", "alive": "127.0.0.4",
                 "peer_port": 4754, "phases": [
                  {"name": "faults", "rounds": %d, "pause": 0.01,
                   "send": [["10.1.0.1", %d, 100], ["10.2.0.1", %2$d, 100], ["10.3.0.1", %2$d, 100]]},
                  {"name": "slow", "rounds": %d, "pause": 0.02, "settle": 6.0,
                   "send": [["10.4.0.1", %d, 1400], ["10.1.0.1", %d, 100]]},
                  {"name": "after", "rounds": %d, "pause": 0.02, "send": [["10.1.0.1", %d, 100]]}
                 ]}""".formatted(FAULT_ROUNDS, PER_ROUND, SLOW_ROUNDS, SLOW_PER_ROUND, ALIVE_PER_SLOW_ROUND,
                AFTER_ROUNDS, AFTER_PER_ROUND);
        results = FaultPeer.run(ns, dir, spec);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        VnetdProcess.stop(vnetd, ns);
    }

    private static long metric(String name) {
        return results.metric(name);
    }

    private static long field(String phase, String name) {
        return results.field(phase, name);
    }

    @Test
    void shouldCountSendsIntoAnUnreachableRouteAsUnreachableAndLogThemAtALimitedRate() throws Exception {
        int sent = FAULT_ROUNDS * PER_ROUND;
        assertEquals(sent, metric("vnetd_drops_total.tx_unreachable"), results.toString());
        assertEquals(0, metric("vnetd_tx_packets_total.dc-unreachable"),
                "counted once, when the kernel refused it: a drop, never tx as well");
        long logged = vnetd.log().lines()
                .filter(l -> l.contains("event=socket_error") && l.contains("reason=tx_unreachable")).count();
        assertTrue(logged >= 1 && logged <= 2, "one line per 10 s with the suppressed count, not one per packet: "
                + logged);
        assertTrue(vnetd.log().contains("reason=tx_unreachable"), vnetd.log());
    }

    @Test
    void shouldKeepSendingToAVanishedPeerAndCountItsIcmpErrorsAgainstItsTunnel() {
        int sent = FAULT_ROUNDS * PER_ROUND;
        assertEquals(sent, metric("vnetd_tx_packets_total.dc-gone"), results.toString());
        assertEquals(sent, field("faults", "received"), "the alive data centre beside it got everything");
        assertEquals(sent, metric("vnetd_drops_total.tx_unreachable"), "no packet dropped for the vanished peer");
        long unreachable = metric("vnetd_tunnel_peer_unreachable_total.dc-gone");
        assertTrue(unreachable > 0 && unreachable <= sent,
                "its port unreachables (IP_RECVERR) counted against dc-gone, at most one per packet: " + unreachable);
        assertEquals(0, metric("vnetd_tunnel_peer_unreachable_total.dc-alive"), results.toString());
    }

    @Test
    void shouldRefuseAndCountPacketsWhileTheSendBufferIsFullAndForwardAgainAfterwards() {
        long slowSent = field("slow", "sent_10.4.0.1");
        long aliveSent = field("slow", "sent_10.1.0.1");
        assertEquals((long) SLOW_ROUNDS * SLOW_PER_ROUND, slowSent);
        long refused = metric("vnetd_drops_total.tx_buffer_full");
        assertTrue(refused > 0, "the full send buffer refused packets: " + results);
        assertEquals(0, metric("vnetd_drops_total.tx_failed"), "a full buffer is its own reason");
        long unreachable = metric("vnetd_drops_total.tx_unreachable");
        assertEquals(AFTER_ROUNDS * AFTER_PER_ROUND, field("after", "received"),
                "the worker did not stall: everything sent after the buffer drained arrived");
        long rx = metric("vnetd_rx_packets_total.site");
        long tx = metric("vnetd_tx_packets_total.dc-alive") + metric("vnetd_tx_packets_total.dc-gone")
                + metric("vnetd_tx_packets_total.dc-unreachable") + metric("vnetd_tx_packets_total.dc-slow");
        assertEquals(3L * FAULT_ROUNDS * PER_ROUND + slowSent + aliveSent + AFTER_ROUNDS * AFTER_PER_ROUND,
                rx + metric("kernel_udp_rcvbuf_errors"),
                "vnetd read every packet the site sent, or the kernel dropped it at vnetd's full receive buffer");
        assertEquals(rx, tx + refused + unreachable,
                "every packet read was taken by the kernel (tx) or refused and counted as a drop, never both");
        assertEquals(metric("vnetd_tx_packets_total.dc-alive"),
                field("faults", "received") + field("slow", "received") + field("after", "received"),
                "the alive sink received every packet vnetd sent it");
    }
}
