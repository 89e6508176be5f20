package dev.vnetd.control;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.peers.FreePort;
import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reload through the CLI and the admin API against a running daemon: routes change, bad files change nothing. */
class ReloaderTest {
    @TempDir
    Path dir;

    private int port;
    private int dcPort;

    private String config(String routeVia, String extraTunnel) throws Exception {
        return """
                node: {name: reload-test, workers: 1}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d, source_ports: 0}
                virtual_networks:
                  - {name: v}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: v, arr: true}
                  - {name: dc1, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:%d, virtual_network: v}
                  - {name: dc2, type: gre-udp, listener: gre-udp, remote: 127.0.0.4:%3$d, virtual_network: v}
                %s
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: v, via: %s}
                """.formatted(adminPort, port, dcPort, extraTunnel, routeVia);
    }

    private int adminPort;

    private static String run(int exitExpected, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        assertEquals(exitExpected, exit, out + "" + err);
        return out.toString() + err;
    }

    private static boolean arrives(DatagramSocket dc) throws Exception {
        try {
            dc.receive(new DatagramPacket(new byte[2048], 2048));
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    private void send(DatagramSocket site, int sport) throws Exception {
        ByteBuf packet = new PacketBuilder().gre(-1).ip("192.168.1.5", "10.1.1.1", 64).udp(sport, 80, new byte[8])
                .build(UnpooledByteBufAllocator.DEFAULT);
        byte[] bytes = new byte[packet.readableBytes()];
        packet.getBytes(0, bytes);
        packet.release();
        site.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress("127.0.0.1", port)));
    }

    @Test
    void shouldApplyRouteChangesAndRefuseBrokenFilesAndStructuralChanges() throws Exception {
        port = FreePort.udp("127.0.0.1");
        dcPort = FreePort.udp("127.0.0.3");
        adminPort = FreePort.tcp();
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, config("dc1", ""));
        String admin = "127.0.0.1:" + adminPort;
        try (Daemon daemon = Daemon.start(ConfigLoader.load(file));
             DatagramSocket site = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
             DatagramSocket dc1 = new DatagramSocket(new InetSocketAddress("127.0.0.3", dcPort));
             DatagramSocket dc2 = new DatagramSocket(new InetSocketAddress("127.0.0.4", dcPort))) {
            dc1.setSoTimeout(2000);
            dc2.setSoTimeout(300);
            send(site, 1000);
            assertTrue(arrives(dc1), "before the reload the route leads to dc1");

            Files.writeString(file, config("dc2", ""));
            assertEquals("reloaded", run(0, "reload", "--admin", admin).strip());
            dc2.setSoTimeout(2000);
            send(site, 2000);
            assertTrue(arrives(dc2), "a new flow follows the new route");
            send(site, 1000);
            assertTrue(arrives(dc1), "an existing ARR flow keeps its pinned next hop across the reload");

            Files.writeString(file, config("dc3", ""));
            String broken = run(1, "reload", "--admin", admin);
            assertTrue(broken.contains("vnetd.yaml:13:5: route 10.0.0.0/8 goes via unknown tunnel 'dc3'"), broken);
            assertTrue(broken.contains("goes via unknown tunnel 'dc3'"), broken);
            send(site, 3000);
            assertTrue(arrives(dc2), "a failed reload changes nothing");

            Files.writeString(file, config("dc2", "  - {name: dc9, type: gre-udp, listener: gre-udp, remote: "
                    + "127.0.0.9, virtual_network: v}"));
            String structural = run(1, "reload", "--admin", admin);
            assertTrue(structural.contains("tunnel 'dc9' is new: adding a tunnel needs a restart"), structural);

            String metrics = daemon.scrape();
            assertTrue(metrics.contains("vnetd_config_reloads_total{result=\"success\"} 1.0"), metrics);
            assertTrue(metrics.contains("vnetd_config_reloads_total{result=\"failure\"} 2.0"), metrics);
            assertTrue(metrics.contains("vnetd_config_last_reload_success_timestamp_seconds"), metrics);
        }
    }

    @Test
    void shouldRefuseToChangeATunAttachmentsDeviceInPlace() throws Exception {
        String running = """
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: hosts, type: tun, device: vnet0, virtual_network: default, addresses: [10.0.1.1/24]}
                routes:
                  - {prefix: 10.0.1.0/24, virtual_network: default, via: hosts}
                """;
        var before = ConfigLoader.parse("a.yaml", running, null);

        assertEquals(java.util.List.of(), Reloader.changesNeedingRestart(before, ConfigLoader.parse("b.yaml",
                running.replace("10.0.1.0/24, virtual_network", "10.0.0.0/8, virtual_network"), null)),
                "routes via an attachment reload");
        assertEquals(java.util.List.of("tunnel 'hosts' changed its tun device, addresses, host routes or MTU, or "
                        + "became or stopped being a tun attachment: that needs a restart"),
                Reloader.changesNeedingRestart(before, ConfigLoader.parse("c.yaml",
                        running.replace("10.0.1.1/24]", "10.0.1.1/24], mtu: 1400"), null)));
    }
}
