package dev.vnetd.control.config;

import dev.vnetd.control.config.VnetdConfig.HealthCheckConfig;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the {@code health_check:} block of a tunnel: {@code {enabled, type: request|reply, target, rate:
 * low|mid|high}}, with Cloudflare WAN's defaults (enabled, {@code reply}, {@code mid}). Probes are sent from the
 * tunnel's IPv4 {@code interface_address}, so one is required; the target defaults to the far end of that
 * address's /31 or /30, as Cloudflare addresses its bidirectional probes.
 */
final class HealthCheckReader {
    /** Default type: Cloudflare's; the far end needs no ICMP responder, only a route back into the tunnel. */
    static final String DEFAULT_TYPE = "reply";
    /** Default rate: Cloudflare's. */
    static final String DEFAULT_RATE = "mid";
    /**
     * Time between regular probes per rate. {@code high} (250 ms) puts a dead tunnel down within about a second
     * (next probe, its timeout and two re-probes); {@code mid} (1 s) is Cloudflare's "up to every second";
     * {@code low} (10 s) is for a site that does not need fast failover and wants little probe traffic.
     */
    static final Map<String, Duration> RATES = Map.of("low", Duration.ofSeconds(10), "mid", Duration.ofSeconds(1),
            "high", Duration.ofMillis(250));

    private static final Set<String> KEYS = Set.of("enabled", "type", "target", "rate");

    private final String file;
    private final List<ConfigError> errors;

    HealthCheckReader(String file, List<ConfigError> errors) {
        this.file = file;
        this.errors = errors;
    }

    /** The block at {@code tunnel}'s {@code health_check} key, or null after recording its errors. */
    HealthCheckConfig read(YamlSection tunnel, List<IpPrefix> interfaceAddresses) {
        YamlSection s = YamlSection.of(file, tunnel.node("health_check"), "a health_check block", KEYS, errors);
        Boolean enabled = s.bool("enabled", true);
        String type = s.string("type", false);
        if (type == null && !s.has("type")) {
            type = DEFAULT_TYPE;
        } else if (type != null && !type.equals("request") && !type.equals("reply")) {
            s.error("type", "'type' must be request or reply, not '" + type + "'");
            type = null;
        }
        String rate = s.string("rate", false);
        if (rate == null && !s.has("rate")) {
            rate = DEFAULT_RATE;
        } else if (rate != null && !RATES.containsKey(rate)) {
            s.error("rate", "'rate' must be low, mid or high, not '" + rate + "'");
            rate = null;
        }
        IpPrefix local = interfaceAddresses.stream().filter(p -> !p.ipv6()).findFirst().orElse(null);
        if (local == null) {
            tunnel.error("health_check", "'health_check' needs an IPv4 'interface_address' on the tunnel: probes are "
                    + "sent from it and answered to it");
        }
        InetAddress target = null;
        String targetText = s.string("target", false);
        if (targetText != null) {
            target = Addresses.parseLiteral(targetText);
            if (!(target instanceof Inet4Address)) {
                s.error("target", "'target' must be a literal IPv4 address, not '" + targetText + "'");
                target = null;
            } else if (local != null && target.equals(local.address())) {
                s.error("target", "'target' " + targetText + " is the tunnel's own interface address");
                target = null;
            }
        } else if (local != null && !s.has("target")) {
            target = farEnd(local);
            if (target == null) {
                tunnel.error("health_check", "'health_check' needs a 'target': the interface address " + local
                        + " is not one end of a /31 or a host of a /30, so the far end is unknown");
            }
        }
        if (enabled == null || type == null || rate == null || local == null || target == null) {
            return null;
        }
        return new HealthCheckConfig(s.where(), enabled, type.equals("request"), local.address(), target, rate,
                RATES.get(rate));
    }

    /** The other end of a /31, or the other host of a /30; null for other lengths or a /30's reserved addresses. */
    static InetAddress farEnd(IpPrefix prefix) {
        byte[] bytes = prefix.address().getAddress();
        int address = ((bytes[0] & 0xFF) << 24) | ((bytes[1] & 0xFF) << 16) | ((bytes[2] & 0xFF) << 8)
                | (bytes[3] & 0xFF);
        int far;
        if (prefix.length() == 31) {
            far = address ^ 1;
        } else if (prefix.length() == 30 && (address & 3) == 1) {
            far = address + 1;
        } else if (prefix.length() == 30 && (address & 3) == 2) {
            far = address - 1;
        } else {
            return null;
        }
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (far >>> 24), (byte) (far >>> 16), (byte) (far >>> 8),
                (byte) far});
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are always an IPv4 address", e);
        }
    }
}
