package dev.vnetd.control.peers;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What tests against real peers need: scapy under /usr/bin/python3, tshark, root for namespaces and raw sockets.
 * When something is missing the test does not pass silently: under CI (CI=true) it fails, elsewhere it is reported
 * as skipped with the reason and the command that installs what is missing.
 */
public final class Prerequisites {
    /** Debian's python, which sees python3-scapy (the pyenv python first on PATH does not). */
    public static final String PYTHON = "/usr/bin/python3";
    private static final String INSTALL = "run scripts/install-test-deps.sh as root";

    private Prerequisites() {
    }

    /** Requires scapy. */
    public static void scapy() {
        require(run(PYTHON, "-c", "import scapy.all") == 0, "scapy (Debian python3-scapy) is not importable from "
                + PYTHON);
    }

    /** Requires tshark. */
    public static void tshark() {
        require(run("tshark", "--version") == 0, "tshark (Debian tshark) is not installed");
    }

    /** Requires the openssl command (Debian openssl), which makes test certificates. */
    public static void openssl() {
        require(run("openssl", "version") == 0, "openssl (Debian openssl) is not installed");
    }

    /** Requires {@code command} (run with {@code versionArgument} it must exit 0) from Debian {@code debianPackage}. */
    public static void tool(String command, String versionArgument, String debianPackage) {
        require(run(command, versionArgument) == 0, command + " (Debian " + debianPackage + ") is not installed");
    }

    /** Requires root (network namespaces, raw sockets). */
    public static void root() {
        require(isRoot(), "needs root for network namespaces and raw sockets");
        require(run("ip", "netns", "list") == 0, "the ip command (Debian iproute2) cannot list namespaces");
    }

    /** Whether this process runs as root. */
    public static boolean isRoot() {
        try {
            return Files.readString(Path.of("/proc/self/status")).lines()
                    .filter(l -> l.startsWith("Uid:"))
                    .anyMatch(l -> l.split("\\s+")[1].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    private static void require(boolean ok, String what) {
        if (ok) {
            return;
        }
        String message = what + " (" + INSTALL + ")";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("required under CI: " + message);
        }
        Assumptions.abort("SKIPPED, not passed: " + message);
    }

    private static int run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
