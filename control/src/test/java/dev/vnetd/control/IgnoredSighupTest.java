package dev.vnetd.control;

import dev.vnetd.control.peers.VnetdProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A vnetd started with SIGHUP ignored ({@code nohup}; a supervisor that ignores it) cannot reload on SIGHUP: the JVM
 * leaves a signal ignored at exec ignored and installs no handler for it. vnetd says so at start rather than ignore
 * {@code systemctl reload} in silence, and names the reloads that still work.
 */
class IgnoredSighupTest {
    @TempDir
    Path dir;

    @Test
    void shouldWarnThatSighupCannotReloadWhenStartedWithItIgnored() throws Exception {
        Path config = dir.resolve("vnetd.yaml");
        Files.writeString(config, VnetdProcess.minimalConfig("nohup-test"));
        Path log = dir.resolve("vnetd.log");
        try (VnetdProcess vnetd = VnetdProcess.start(List.of("nohup"), config, log)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(log).contains("event=heap_settled") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            String text = Files.readString(log);
            assertTrue(text.contains("event=sighup_ignored"), text);
            assertTrue(text.contains("use vnetd reload or POST /api/v1/reload"), text);
        }
    }
}
