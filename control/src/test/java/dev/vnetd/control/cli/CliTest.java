package dev.vnetd.control.cli;

import dev.vnetd.control.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {
    @TempDir
    Path dir;

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
    void shouldValidateTheShippedConfiguration() {
        Result r = run("validate", "../config/vnetd.yaml");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("ok (1 listeners, 3 virtual networks, 5 tunnels, 7 routes)"), r.out());
    }

    @Test
    void shouldPrintEveryMistakeAsFileLineColumnAndExitOne() throws Exception {
        Path file = dir.resolve("broken.yaml");
        Files.writeString(file, """
                node: {workers: -1}
                listeners:
                  - {name: l, type: gre-udp, listen: 127.0.0.1:4754, colour: blue}
                virtual_networks:
                  - {name: v}
                tunnels:
                  - {name: t, type: gre-udp, listener: l, remote: 127.0.0.2, virtual_network: v, mtu: 100}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: v, via: t, weight: 0}
                  - {prefix: 10.0.0.0/8, virtual_network: nowhere, via: t}
                """);

        Result r = run("validate", file.toString());

        assertEquals(1, r.exit());
        List<String> lines = r.err().lines().toList();
        assertEquals(List.of(
                file + ":1:17: 'workers' must be between 0 and 1024, not -1",
                file + ":3:54: unknown key 'colour' in a listener (allowed: connected_remotes, listen, name, source_ports, type)",
                file + ":7:87: 'mtu' must be between 576 and 9000, not 100",
                file + ":9:62: 'weight' must be between 1 and 256, not 0",
                file + ":10:5: route 10.0.0.0/8 names unknown virtual network 'nowhere'",
                file + ": 5 error(s)"), lines);
    }

    @Test
    void shouldLookUpTheDecisionWithTheMatchedPrefix() {
        Result prod = run("lookup", "--config", "../config/vnetd.yaml", "--vn", "production", "10.1.2.3");
        assertEquals("10.1.2.3 via dc-prod prefix 10.0.0.0/8 priority 100", prod.out().strip(), prod.err());
        Result staging = run("lookup", "--config", "../config/vnetd.yaml", "--vn", "staging", "10.1.2.3",
                "--src", "192.168.10.5", "--proto", "tcp", "--sport", "40000", "--dport", "443");
        assertEquals("10.1.2.3 via dc-staging prefix 10.0.0.0/8 priority 100", staging.out().strip());
        Result fallback = run("lookup", "--config", "../config/vnetd.yaml", "--vn", "production", "198.51.100.7");
        assertEquals("198.51.100.7 via internet prefix 0.0.0.0/0 priority 100 (fallback to virtual network default)",
                fallback.out().strip());
        Result v6 = run("lookup", "--config", "../config/vnetd.yaml", "--vn", "staging", "fd00:10::5");
        assertEquals("fd00:10:0:0:0:0:0:5 via dc-staging prefix fd00:10:0:0:0:0:0:0/32 priority 100",
                v6.out().strip());
        Result none = run("lookup", "--config", "../config/vnetd.yaml", "--vn", "staging", "198.51.100.7");
        assertEquals("no route", none.out().strip());
        assertEquals(0, none.exit());
    }

    @Test
    void shouldRefuseAnUnknownVirtualNetwork() {
        Result r = run("lookup", "--config", "../config/vnetd.yaml", "--vn", "nope", "10.1.2.3");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown virtual network 'nope'"), r.err());
    }

    @Test
    void shouldPlayTheDemoWithEveryPacketWhereTheRoutesSay() {
        Result r = run("demo", "--rounds", "2");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("round 1: every packet went where the routes and flows say"), r.out());
        assertTrue(r.out().contains("=> dc-staging (127.0.0.4) ttl 63"), r.out());
        assertTrue(r.out().contains("ICMP time exceeded from 169.254.10.0"), r.out());
    }
}
