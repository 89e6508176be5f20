package dev.vnetd.control.config;

import dev.vnetd.control.config.VnetdConfig.TunConfig;
import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.TunSettings;
import dev.vnetd.dataplane.state.Tunnel;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads a TUN attachment: a tunnel of {@code type: tun} toward the local host's stack, with {@code device},
 * {@code virtual_network}, {@code addresses}, {@code mtu}, {@code host_routes} and {@code arr}. It has no listener,
 * remote, GRE key or SA; its first IPv4 and IPv6 address are also its ICMP error sources.
 */
final class TunConfigReader {
    /**
     * Default device MTU: 1420, what WireGuard uses, so a host's packet fits a GRE-in-UDP or ESP-in-UDP tunnel over
     * a 1500-byte path (their default MTUs are 1468 and 1435) without ICMP round trips; IPv6 needs at least 1280.
     */
    static final int DEFAULT_TUN_MTU = 1420;
    /** Keys a tunnel of another type has that a TUN attachment must not. */
    private static final List<String> SOCKET_KEYS = List.of("listener", "remote", "key", "sa", "interface_address",
            "health_check", "mss_clamp", "max_flows");
    /** What Linux accepts in an interface name (dev_valid_name): no '/', ':' or whitespace, not '.' or '..'. */
    private static final Pattern DEVICE_NAME = Pattern.compile("[^/:\\s]+");

    private final String file;
    private final List<ConfigError> errors;

    TunConfigReader(String file, List<ConfigError> errors) {
        this.file = file;
        this.errors = errors;
    }

    /** The attachment of tunnel section {@code s} named {@code name}, or null after reporting its errors. */
    TunnelConfig read(YamlSection s, String name) {
        boolean valid = true;
        for (String key : SOCKET_KEYS) {
            if (s.has(key)) {
                s.error(key, "'" + key + "' does not apply to a tun attachment: it carries packets to and from the "
                        + "local host through its device");
                valid = false;
            }
        }
        String device = s.string("device", true);
        if (device != null && !validDevice(device)) {
            s.error("device", "'device' must be an interface name of 1 to " + TunSettings.MAX_DEVICE_NAME
                    + " bytes without '/', ':' or spaces, not '" + device + "'");
            device = null;
        }
        String vn = s.string("virtual_network", true);
        Long mtu = s.integer("mtu", DEFAULT_TUN_MTU, ConfigLoader.MIN_MTU_IPV4, ConfigLoader.MAX_MTU);
        Boolean arr = s.bool("arr", false);
        List<IpPrefix> addresses = prefixes(s, "addresses", false);
        List<IpPrefix> hostRoutes = prefixes(s, "host_routes", true);
        if (!valid || name == null || device == null || vn == null || mtu == null || arr == null || addresses == null
                || hostRoutes == null) {
            return null;
        }
        List<IpPrefix> icmpSources = new ArrayList<>();
        for (boolean ipv6 : new boolean[] {false, true}) {
            addresses.stream().filter(p -> p.ipv6() == ipv6).findFirst().ifPresent(icmpSources::add);
        }
        return new TunnelConfig(s.where(), name, ListenerType.TUN, null, null, -1, vn, mtu.intValue(), arr,
                List.copyOf(icmpSources), null, Tunnel.MSS_CLAMP_OFF, null,
                new TunConfig(device, addresses, hostRoutes), Tunnel.UNLIMITED_FLOWS);
    }

    private static boolean validDevice(String device) {
        int bytes = device.getBytes(StandardCharsets.UTF_8).length;
        return bytes >= 1 && bytes <= TunSettings.MAX_DEVICE_NAME && DEVICE_NAME.matcher(device).matches()
                && !device.equals(".") && !device.equals("..");
    }

    /** The prefixes listed under {@code key}, or null after an error; {@code network} refuses host bits. */
    private List<IpPrefix> prefixes(YamlSection s, String key, boolean network) {
        List<IpPrefix> out = new ArrayList<>();
        boolean valid = true;
        for (ScalarNode item : s.scalars(key)) {
            IpPrefix prefix = IpPrefix.parse(item.getValue());
            Where where = YamlSection.where(file, item);
            if (prefix == null) {
                errors.add(where.error("items of '" + key + "' must be ADDRESS/LENGTH, like "
                        + (network ? "10.0.0.0/8" : "10.0.1.1/24") + ", not '" + item.getValue() + "'"));
                valid = false;
            } else if (network && prefix.hasHostBits()) {
                errors.add(where.error("'" + key + "' prefix " + item.getValue() + " has host bits set (did you mean "
                        + prefix.network() + "?)"));
                valid = false;
            } else {
                out.add(prefix);
            }
        }
        return valid ? List.copyOf(out) : null;
    }
}
