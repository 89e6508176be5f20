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

    @Test
    void shouldConnectOnlyTheRemotesHalfTheFileLimitHolds() throws Exception {
        int admin = FreePort.tcp();
        StringBuilder tunnels = new StringBuilder();
        for (int i = 1; i <= REMOTES; i++) {
            tunnels.append("  - {name: dc").append(i).append(", type: gre-udp, listener: gre-udp, remote: 127.0.1.")
                    .append(i).append(", virtual_network: v}\n");
        }
        Path config = dir.resolve("vnetd.yaml");
        Files.writeString(config, """
                node: {name: file-limit, workers: 1}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d, source_ports: %d}
                virtual_networks:
                  - {name: v}
                tunnels:
                %s""".formatted(admin, FreePort.udp("127.0.0.1"), SOURCE_PORTS, tunnels));
        try (VnetdProcess vnetd = VnetdProcess.start(List.of("prlimit", "--nofile=" + FILE_LIMIT + ":" + FILE_LIMIT),
                config, dir.resolve("vnetd.log"))) {
            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + admin + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = Pattern.compile("vnetd_listener_connected_remotes\\{listener=\"gre-udp\"} (\\d+)\\.0")
                    .matcher(metrics);
            assertTrue(m.find(), metrics);
            int connected = Integer.parseInt(m.group(1));
            long files;
            try (var fds = Files.list(Path.of("/proc/" + vnetd.pid() + "/fd"))) {
                files = fds.count();
            }
            String log = vnetd.log();
            assertTrue(connected > 0 && connected < REMOTES, "some remotes connected, not all: " + connected);
            assertTrue(log.contains("event=connect_skipped listener=gre-udp remotes=" + (REMOTES - connected)
                    + " reason=file_limit"), log);
            assertTrue(files <= FILE_LIMIT / 2 + SOURCE_PORTS, "at most half the limit open (one remote's sockets "
                    + "of slack: an admin connection may have opened since): " + files);
        }
    }
}
