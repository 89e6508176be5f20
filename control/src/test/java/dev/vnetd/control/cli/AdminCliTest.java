package dev.vnetd.control.cli;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.Main;
import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.peers.FreePort;
import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commands that talk to a running daemon, against a real one: tunnels, routes, flows, stat. */
class AdminCliTest {
    @TempDir
    static Path dir;

    static Daemon daemon;
    static String admin;

    @BeforeAll
    static void start() throws Exception {
        int port = FreePort.udp("127.0.0.1");
        Path config = dir.resolve("vnetd.yaml");
        Files.writeString(config, """
                node: {name: cli-test, workers: 1}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d}
                virtual_networks:
                  - {name: default}
                  - {name: prod, fallback: default}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, key: 9, virtual_network: prod, arr: true}
                  - {name: dc1, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:%3$d, virtual_network: prod}
                  - {name: dc2, type: gre-udp, listener: gre-udp, remote: 127.0.0.4:%3$d, virtual_network: prod}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: prod, via: dc1, priority: 100, weight: 2}
                  - {prefix: 10.0.0.0/8, virtual_network: prod, via: dc2, priority: 200}
                """.formatted(FreePort.tcp(), port, FreePort.udp("127.0.0.3")));
        daemon = Daemon.start(ConfigLoader.load(config));
        admin = "127.0.0.1:" + daemon.adminAddress().getPort();
        try (DatagramChannel site = DatagramChannel.open(StandardProtocolFamily.INET)
                .bind(new InetSocketAddress("127.0.0.2", 0))) {
            ByteBuf packet = new PacketBuilder().gre(9).ip("192.168.1.5", "10.1.1.1", 64).udp(5555, 80, new byte[8])
                    .build(UnpooledByteBufAllocator.DEFAULT);
            site.send(packet.nioBuffer(), new InetSocketAddress("127.0.0.1", port));
            packet.release();
        }
        // the flow exists mid-path; the packet counts as sent once its batch's sendmmsg returned
        for (int i = 0; i < 100 && (daemon.flows().liveFlows() == 0
                || !daemon.scrape().contains("vnetd_tx_packets_total{listener=\"gre-udp\",tunnel=\"dc1\"} 1.0")); i++) {
            Thread.sleep(20);
        }
    }

    @AfterAll
    static void stop() {
        daemon.close();
    }

    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void shouldShowTunnelsAsATableAndAsJson() {
        Result table = run("tunnels", "--admin", admin);
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().startsWith("TUNNEL"), table.out());
        assertTrue(table.out().lines().anyMatch(l -> l.matches("site\\s+gre-udp\\s+127.0.0.2:4754\\s+9\\s+prod\\s+"
                + "healthy\\s+yes\\s+1\\s+0\\s+.*")), table.out());
        Result json = run("tunnels", "--admin", admin, "--json");
        assertTrue(json.out().contains("{\"name\":\"dc1\",\"type\":\"gre-udp\",\"listener\":\"gre-udp\""), json.out());
        assertTrue(json.out().contains("\"tx_packets\":1"), json.out());
    }

    @Test
    void shouldShowRoutesWithTheirNextHops() {
        Result table = run("routes", "--admin", admin, "--vn", "prod");
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().lines().anyMatch(l -> l.matches("10.0.0.0/8\\s+dc1\\s+100\\s+2\\s+healthy\\s+100")),
                table.out());
        assertTrue(table.out().lines().anyMatch(l -> l.matches("\\s+dc2\\s+200\\s+1\\s+healthy\\s+200")),
                table.out());
        Result unknown = run("routes", "--admin", admin, "--vn", "nope");
        assertEquals(1, unknown.exit());
        assertTrue(unknown.err().contains("unknown virtual network"), unknown.err());
    }

    @Test
    void shouldShowFlows() {
        Result table = run("flows", "--admin", admin, "--vn", "prod");
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().lines().anyMatch(l -> l.matches("prod\\s+17\\s+192.168.1.5 5555\\s+10.1.1.1 80\\s+site"
                + "\\s+dc1\\s+unreplied\\s+1\\s+0\\s+\\d+")), table.out());
    }

    @Test
    void shouldPrintLiveRates() {
        Result stat = run("stat", "--admin", admin, "--interval", "0.2", "--count", "2");
        assertEquals(0, stat.exit(), stat.err());
        assertEquals(3, stat.out().lines().count(), stat.out());
        assertTrue(stat.out().lines().skip(1).allMatch(l -> l.matches("\\s+0\\s+0\\s+0\\s+1\\s*")), stat.out());
    }

    @Test
    void shouldSayWhenNoDaemonListens() throws Exception {
        Result r = run("tunnels", "--admin", "127.0.0.1:" + FreePort.tcp());
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("cannot reach vnetd at 127.0.0.1:"), r.err());
    }
}
