package dev.vnetd.control;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipped unit passes {@code systemd-analyze verify} (with its executable pointed at a stand-in script). */
class SystemdUnitTest {
    @TempDir
    Path dir;

    @Test
    void shouldPassSystemdAnalyzeVerify() throws Exception {
        boolean available = new ProcessBuilder("sh", "-c", "command -v systemd-analyze").start().waitFor() == 0;
        if (!available && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("systemd-analyze is required under CI (Debian systemd)");
        }
        Assumptions.assumeTrue(available, "SKIPPED, not passed: systemd-analyze not installed");
        String unit = Files.readString(Path.of("../config/systemd/vnetd.service"));
        assertTrue(unit.contains("Type=notify"));
        assertTrue(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"));
        Path executable = dir.resolve("vnetd");
        Files.writeString(executable, "#!/bin/sh\n");
        Files.setPosixFilePermissions(executable, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path copy = dir.resolve("vnetd.service");
        Files.writeString(copy, unit.replace("/usr/bin/vnetd", executable.toString()));

        Process verify = new ProcessBuilder("systemd-analyze", "verify", copy.toString()).redirectErrorStream(true)
                .start();
        String output = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(verify.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, verify.exitValue(), output);
        assertEquals("", output.strip(), "no warnings");
    }
}
