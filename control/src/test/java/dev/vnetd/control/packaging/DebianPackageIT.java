package dev.vnetd.control.packaging;

import dev.vnetd.control.peers.Prerequisites;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Debian package the build makes (integration-test phase, after {@code package}): {@code dpkg -i} installs it
 * on this machine, the installed {@code vnetd validate /etc/vnetd/vnetd.yaml} passes, the system user exists; then
 * it is purged again.
 */
class DebianPackageIT {
    private record Result(int exit, String output) {
    }

    private static Result run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out: " + List.of(command));
        return new Result(p.exitValue(), output);
    }

    @Test
    void shouldInstallValidateAndPurge() throws Exception {
        Prerequisites.root();
        Path deb = null;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(Path.of("target"), "vnetd_*_amd64.deb")) {
            for (Path f : files) {
                deb = f;
            }
        }
        assertTrue(deb != null, "the build made target/vnetd_*_amd64.deb");
        Result contents = run("dpkg-deb", "--contents", deb.toString());
        for (String path : List.of("./usr/bin/vnetd", "./usr/lib/vnetd/vnetd.jar", "./etc/vnetd/vnetd.yaml",
                "./lib/systemd/system/vnetd.service")) {
            assertTrue(contents.output().contains(path), path + " in " + contents.output());
        }
        try {
            Result install = run("dpkg", "-i", deb.toString());
            assertEquals(0, install.exit(), install.output());
            Result validate = run("/usr/bin/vnetd", "validate", "/etc/vnetd/vnetd.yaml");
            assertEquals(0, validate.exit(), validate.output());
            assertTrue(validate.output().contains("/etc/vnetd/vnetd.yaml: ok"), validate.output());
            assertEquals(0, run("getent", "passwd", "vnetd").exit(), "the system user exists");
        } finally {
            Result purge = run("dpkg", "--purge", "vnetd");
            assertEquals(0, purge.exit(), purge.output());
        }
        assertTrue(!Files.exists(Path.of("/usr/bin/vnetd")), "purged");
    }
}
