package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.state.TunSettings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sets up a TUN attachment's link once its first queue exists: MTU, addresses, accept_local, link up, then the host
 * routes into it, with the {@code ip} command (iproute2) — run at start only, never on the packet path. The
 * addresses and routes go with the device when its last queue closes.
 */
final class TunLink {
    /** How long one {@code ip} command may take; it normally returns in milliseconds. */
    private static final long COMMAND_TIMEOUT_SECONDS = 10;

    private TunLink() {
    }

    /**
     * Configures {@code tun}'s device as {@code tun} says.
     *
     * @throws IOException naming the command that failed and what it printed
     */
    static void configure(TunSettings tun) throws IOException, InterruptedException {
        String device = tun.device();
        ip("link", "set", "dev", device, "mtu", Integer.toString(tun.mtu()));
        for (String address : tun.addresses()) {
            if (address.contains(":")) {
                ip("-6", "addr", "add", address, "dev", device, "nodad");
            } else {
                ip("addr", "add", address, "dev", device);
            }
        }
        if (tun.addresses().stream().anyMatch(a -> !a.contains(":"))) {
            acceptLocal(device);
        }
        ip("link", "set", "dev", device, "up");
        for (String prefix : tun.hostRoutes()) {
            ip(prefix.contains(":") ? "-6" : "-4", "route", "replace", prefix, "dev", device);
        }
    }

    /**
     * Lets the host accept packets from the device whose source is one of its own addresses: vnetd's ICMP errors
     * to the host (Fragmentation Needed, Time Exceeded) come from the attachment's address, which is also the
     * host's, and Linux drops such packets as martians unless accept_local is set on the receiving interface.
     */
    private static void acceptLocal(String device) throws IOException {
        Path setting = Path.of("/proc/sys/net/ipv4/conf", device, "accept_local");
        try {
            Files.writeString(setting, "1\n");
        } catch (IOException e) {
            throw new IOException("set " + setting + " to 1 (ICMP errors from the device address would be dropped): "
                    + e.getMessage(), e);
        }
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("ip");
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException(String.join(" ", command) + ": cannot run ip (install iproute2): " + e.getMessage(),
                    e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + ": no answer within " + COMMAND_TIMEOUT_SECONDS + "s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + out);
        }
    }
}
