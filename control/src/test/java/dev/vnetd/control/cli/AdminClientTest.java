package dev.vnetd.control.cli;

import dev.vnetd.control.Main;
import dev.vnetd.control.admin.AdminServer;
import dev.vnetd.control.admin.AdminToken;
import dev.vnetd.control.admin.StubAdminApi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI against an admin endpoint that wants a bearer token. */
class AdminClientTest {
    private static final String SECRET = "cli-token-0123456789abcdef";

    @TempDir
    Path dir;

    private AdminServer server;
    private String admin;

    @BeforeEach
    void start() throws Exception {
        server = AdminServer.start(new InetSocketAddress("127.0.0.1", 0), new StubAdminApi(),
                AdminToken.of(SECRET));
        admin = "127.0.0.1:" + server.address().getPort();
    }

    @AfterEach
    void stop() {
        server.close();
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
    void shouldSendTheTokenFromTheTokenFile() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), SECRET + "\n");

        Result tunnels = run("tunnels", "--admin", admin, "--json", "--token-file", token.toString());
        assertEquals(0, tunnels.exit(), tunnels.err());
        assertTrue(tunnels.out().contains("\"tunnels\""), tunnels.out());
        Result reload = run("reload", "--admin", admin, "--token-file", token.toString());
        assertEquals(0, reload.exit(), reload.err());
        assertEquals(0, server.unauthorizedRequests());
    }

    @Test
    void shouldFailWithoutTheToken() {
        Result tunnels = run("tunnels", "--admin", admin);

        assertEquals(1, tunnels.exit());
        assertTrue(tunnels.err().contains("unauthorized"), tunnels.err());
        assertEquals(1, server.unauthorizedRequests());
    }

    @Test
    void shouldNameAnUnreadableTokenFileWithoutReadingIt() {
        Result tunnels = run("tunnels", "--admin", admin, "--token-file", dir.resolve("missing").toString());

        assertEquals(2, tunnels.exit());
        assertTrue(tunnels.err().contains("cannot read token file"), tunnels.err());
        assertFalse(tunnels.err().contains(SECRET));
    }
}
