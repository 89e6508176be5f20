package dev.vnetd.control.peers;

import dev.vnetd.dataplane.transport.TransportKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Socket faults on vnetd's raw-socket listeners (issue 9), on epoll and io_uring: vnetd in its own namespace with
 * two workers, plain GRE and plain ESP listeners; a site in the peer namespace sends plain GRE toward data centres
 * there: one alive, two that vanished (dc-gone over IPv4 and dc-gone6 over IPv6 for GRE, esp-gone for ESP: nothing
 * in their namespace handles protocol 47 or 50, so its kernel answers ICMP protocol unreachable, or ICMPv6
 * parameter problem), and one behind an {@code unreachable} route on vnetd's side. The vanished peers then come
 * back (raw sockets open at their addresses). Every ICMP error reaches every worker's raw socket of its protocol and
 * must be counted once; every packet must be forwarded or counted as a drop, once.
 */
@ParameterizedClass
@EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
class RawSocketFaultsNamespaceTest {
    private static final int ROUNDS = 20;
    private static final int PER_ROUND = 10;
    private static final int BACK_ROUNDS = 10;
    private static final List<String> FAULT_TARGETS = List.of("10.1.0.1", "10.2.0.1", "10.3.0.1", "10.5.0.1",
            "10.6.0.1");

    @TempDir
    static Path dir;

    static Namespaces ns;
    static VnetdProcess vnetd;
    static Map<String, Map<String, String>> results;

    @Parameter
    TransportKind transport;

    @BeforeParameterizedClassInvocation
    static void runPeer(TransportKind transport) throws Exception {
        Prerequisites.root();
        ns = Namespaces.pair("vt-rawf", List.of("198.18.8.1/24", "198.18.8.11/24", "2001:db8:8::1/64"),
                List.of("198.18.8.2/24", "198.18.8.3/24", "198.18.8.5/24", "198.18.8.6/24", "2001:db8:8::5/64"));
        Namespaces.ip("-n", ns.left, "route", "add", "unreachable", "198.18.9.0/24");
        EspKeys.write(dir.resolve("esp.in"), EspKeys.randomHex(EspKeys.materialLength("aes-gcm-128")));
        EspKeys.write(dir.resolve("esp.out"), EspKeys.randomHex(EspKeys.materialLength("aes-gcm-128")));
        // The ESP listener has an address of its own: the peer's kernel rate-limits its ICMP errors per destination
        // (6, then 1 per second), so GRE's errors do not use up ESP's.
        Path config = dir.resolve("vnetd-" + transport.configName() + ".yaml");
        Files.writeString(config, """
                node: {name: raw-faults, workers: 2, transport: %s}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: gre, type: gre, listen: 198.18.8.1}
                  - {name: gre6, type: gre, listen: "2001:db8:8::1"}
                  - {name: esp, type: esp, listen: 198.18.8.11}
                virtual_networks:
                  - {name: production}
                tunnels:
                  - {name: site, type: gre, listener: gre, remote: 198.18.8.2, virtual_network: production}
                  - {name: dc-alive, type: gre, listener: gre, remote: 198.18.8.3, virtual_network: production}
                  - {name: dc-gone, type: gre, listener: gre, remote: 198.18.8.5, virtual_network: production}
                  - {name: dc-unreachable, type: gre, listener: gre, remote: 198.18.9.1, virtual_network: production}
                  - {name: dc-gone6, type: gre, listener: gre6, remote: "2001:db8:8::5", virtual_network: production}
                  - name: esp-gone
                    type: esp
                    listener: esp
                    remote: 198.18.8.6
                    virtual_network: production
                    sa: {transform: aes-gcm-128, inbound: {spi: 0x3001, key_file: esp.in},
                         outbound: {spi: 0x4001, key_file: esp.out}}
                routes:
                  - {prefix: 10.1.0.0/16, virtual_network: production, via: dc-alive}
                  - {prefix: 10.2.0.0/16, virtual_network: production, via: dc-gone}
                  - {prefix: 10.3.0.0/16, virtual_network: production, via: dc-unreachable}
                  - {prefix: 10.5.0.0/16, virtual_network: production, via: esp-gone}
                  - {prefix: 10.6.0.0/16, virtual_network: production, via: dc-gone6}
                """.formatted(transport.configName()));
        vnetd = VnetdProcess.start(Namespaces.exec(ns.left), config,
                dir.resolve("vnetd-" + transport.configName() + ".log"));
        String faults = FAULT_TARGETS.stream().map(t -> "[\"%s\", %d, 100]".formatted(t, PER_ROUND))
                .collect(Collectors.joining(", "));
        String spec = """
                {"carrier": "raw", "vnetd": "198.18.8.1", "site": "198.18.8.2",
                 "alive": "198.18.8.3", "phases": [
                  {"name": "faults", "rounds": %d, "pause": 0.02, "settle": 1.0, "send": [%s]},
                  {"name": "back", "rounds": %d, "pause": 0.02, "settle": 1.0,
                   "open": [["198.18.8.5", 47], ["198.18.8.6", 50], ["2001:db8:8::5", 47]],
                   "send": [["10.1.0.1", %d, 100], ["10.2.0.1", %4$d, 100], ["10.5.0.1", %4$d, 100],
                            ["10.6.0.1", %4$d, 100]]}
                 ]}""".formatted(ROUNDS, faults, BACK_ROUNDS, PER_ROUND);
        Path script = PeerScript.extract("fault_peer.py", dir);
        List<String> peers = new ArrayList<>(Namespaces.exec(ns.right));
        peers.addAll(List.of(Prerequisites.PYTHON, script.toString(), spec));
        List<String> metrics = new ArrayList<>(Namespaces.exec(ns.left));
        metrics.addAll(List.of(Prerequisites.PYTHON, script.toString(), "{\"admin\": 9400}"));
        List<Map<String, String>> reports = new ArrayList<>(PeerScript.run(peers, 120));
        reports.addAll(PeerScript.run(metrics, 30));
        results = reports.stream().collect(Collectors.toMap(m -> m.get("case"), m -> m));
    }

    @AfterParameterizedClassInvocation
    static void stop() throws InterruptedException {
        VnetdProcess.stop(vnetd, ns);
    }

    private static long metric(String name) {
        return Long.parseLong(results.get("metrics").getOrDefault(name, "0"));
    }

    private static long field(String phase, String name) {
        return Long.parseLong(results.get(phase).getOrDefault(name, "0"));
    }

    private static long unreachable(String tunnel) {
        return metric("vnetd_tunnel_peer_unreachable_total." + tunnel);
    }

    @Test
    void shouldCarryEveryRawListenerOnTheConfiguredTransport() throws Exception {
        String log = vnetd.log();
        assertTrue(log.contains("transport=" + transport.configName()), log);
        assertFalse(log.contains("listener_failed"), log);
    }

    @Test
    void shouldCountEachIcmpErrorOfAVanishedPeerOnceAgainstItsTunnel() {
        assertTrue(unreachable("dc-gone") > 0, "protocol unreachables (IP_RECVERR on the raw socket): " + results);
        assertTrue(unreachable("esp-gone") > 0, "the same for plain ESP: " + results);
        assertTrue(unreachable("dc-gone6") > 0, "parameter problems (IPV6_RECVERR): " + results);
        assertEquals(field("kernel", "icmp_out_dest_unreachs"), unreachable("dc-gone") + unreachable("esp-gone"),
                "each ICMP error the peer's kernel sent counted once, though both workers' raw sockets receive it");
        assertEquals(field("kernel", "icmp6_out_parm_problems"), unreachable("dc-gone6"), results.toString());
        assertEquals(0, unreachable("dc-alive") + unreachable("site") + unreachable("dc-unreachable"),
                results.toString());
    }

    @Test
    void shouldDropNothingForAVanishedPeerAndKeepForwardingTheOthers() {
        long sent = (long) ROUNDS * PER_ROUND;
        long back = (long) BACK_ROUNDS * PER_ROUND;
        assertEquals(sent + back, metric("vnetd_tx_packets_total.dc-gone"), results.toString());
        assertEquals(sent + back, metric("vnetd_tx_packets_total.esp-gone"), results.toString());
        assertEquals(sent + back, metric("vnetd_tx_packets_total.dc-gone6"), results.toString());
        assertEquals(sent, field("faults", "received"), "the alive data centre beside them got everything");
        assertEquals(sent, metric("vnetd_drops_total.tx_unreachable"), "the unreachable route's packets, no other");
        assertEquals(List.of(), otherDrops(), "no drop but the unreachable route's");
    }

    @Test
    void shouldForwardToAVanishedPeerAgainWhenItComesBack() {
        long back = (long) BACK_ROUNDS * PER_ROUND;
        assertEquals(back, field("back", "received_198.18.8.5"), results.toString());
        assertEquals(back, field("back", "received_198.18.8.6"), results.toString());
        assertEquals(back, field("back", "received_2001:db8:8::5"), results.toString());
        assertEquals(back, field("back", "received"), "and the alive one still gets everything");
    }

    @Test
    void shouldCountEveryPacketReadOnceAsTxOrAsADropWhenSendsFail() throws Exception {
        long sent = (long) ROUNDS * PER_ROUND;
        long read = metric("vnetd_rx_packets_total.site");
        assertEquals(FAULT_TARGETS.size() * sent + 4L * BACK_ROUNDS * PER_ROUND,
                read + metric("vnetd_socket_receive_drops_total.gre"),
                "vnetd read every packet the site sent, or the kernel dropped it at vnetd's full receive buffer");
        long tx = List.of("dc-alive", "dc-gone", "dc-unreachable", "esp-gone", "dc-gone6").stream()
                .mapToLong(t -> metric("vnetd_tx_packets_total." + t)).sum();
        long drops = results.get("metrics").entrySet().stream().filter(e -> e.getKey().startsWith("vnetd_drops_total."))
                .mapToLong(e -> Long.parseLong(e.getValue())).sum();
        assertEquals(0, metric("vnetd_tx_packets_total.dc-unreachable"), "refused by the kernel: a drop, not tx");
        assertEquals(read, tx + drops, "taken by the kernel (tx) or refused and counted as a drop, never both");
        long logged = vnetd.log().lines()
                .filter(l -> l.contains("event=socket_error") && l.contains("reason=tx_unreachable")).count();
        assertTrue(logged >= 1 && logged <= 2, "one line per 10 s per socket, not one per packet: " + logged);
        assertTrue(vnetd.log().contains("peer_unreachable tunnel=dc-gone"), vnetd.log());
    }

    private static List<String> otherDrops() {
        return results.get("metrics").entrySet().stream()
                .filter(e -> e.getKey().startsWith("vnetd_drops_total.") && !e.getKey().endsWith(".tx_unreachable"))
                .filter(e -> !e.getValue().equals("0")).map(e -> e.getKey() + "=" + e.getValue()).toList();
    }
}
