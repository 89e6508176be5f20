package dev.vnetd.control;

import dev.vnetd.control.peers.FreePort;
import dev.vnetd.control.peers.VnetdProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sockets connected to remotes never take more than half the files the process may open: vnetd as a process under
 * {@code prlimit --nofile}, with more remotes than that half holds, connects as many as fit, sends the rest from the
 * unconnected sockets, says so in its log and its metric, and keeps the other half free.
 */
class ConnectedRemotesFileLimitTest {
    private static final int FILE_LIMIT = 400;
    private static final int REMOTES = 40;
    private static final int SOURCE_PORTS = 8;

    @TempDir
    Path dir;

    /**
     * Then a reload moves every tunnel to another remote: the old remotes' sockets close before the new ones open,
     * so as many of the new remotes connect, not none.
     */
    @Test
    void shouldConnectOnlyTheRemotesHalfTheFileLimitHoldsAndSwapThemOnAReload() throws Exception {
        int admin = FreePort.tcp();
        int port = FreePort.udp("127.0.0.1");
        Path config = dir.resolve("vnetd.yaml");
        Files.writeString(config, config(admin, port, 1));
        try (VnetdProcess vnetd = VnetdProcess.start(List.of("prlimit", "--nofile=" + FILE_LIMIT + ":" + FILE_LIMIT),
                config, dir.resolve("vnetd.log"))) {
            HttpClient http = HttpClient.newHttpClient();
            int connected = connectedRemotes(http, admin);
            assertTrue(connected > 0 && connected < REMOTES, "some remotes connected, not all: " + connected);
            assertTrue(vnetd.log().contains("event=connect_skipped listener=gre-udp remotes=" + (REMOTES - connected)
                    + " reason=file_limit"), vnetd.log());
            assertTrue(openFiles(vnetd) <= FILE_LIMIT / 2 + SOURCE_PORTS, "at most half the limit open (one "
                    + "remote's sockets of slack: an admin connection may have opened since): " + openFiles(vnetd));

            Files.writeString(config, config(admin, port, 2));
            HttpResponse<String> reload = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin
                    + "/api/v1/reload")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, reload.statusCode(), reload.body());
            int swapped = connectedRemotes(http, admin);
            assertTrue(swapped >= connected - 1, "the new remotes took the old ones' room: " + swapped + " after "
                    + connected + "; " + vnetd.log());
            assertTrue(openFiles(vnetd) <= FILE_LIMIT / 2 + SOURCE_PORTS, "still at most half: " + openFiles(vnetd));
        }
    }

    /** One worker, {@value #REMOTES} tunnels, each to its own remote in 127.0.{@code subnet}.0/24. */
    private static String config(int admin, int port, int subnet) {
        StringBuilder tunnels = new StringBuilder();
        for (int i = 1; i <= REMOTES; i++) {
            tunnels.append("  - {name: dc").append(i).append(", type: gre-udp, listener: gre-udp, remote: 127.0.")
                    .append(subnet).append('.').append(i).append(", virtual_network: v}\n");
        }
        return """
                node: {name: file-limit, workers: 1}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d, source_ports: %d}
                virtual_networks:
                  - {name: v}
                tunnels:
                %s""".formatted(admin, port, SOURCE_PORTS, tunnels);
    }

    private static int connectedRemotes(HttpClient http, int admin) throws Exception {
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("vnetd_listener_connected_remotes\\{listener=\"gre-udp\"} (\\d+)\\.0")
                .matcher(metrics);
        assertTrue(m.find(), metrics);
        return Integer.parseInt(m.group(1));
    }

    private static long openFiles(VnetdProcess vnetd) throws Exception {
        try (var fds = Files.list(Path.of("/proc/" + vnetd.pid() + "/fd"))) {
            return fds.count();
        }
    }
}
