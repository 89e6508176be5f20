package dev.vnetd.control.config;

import dev.vnetd.control.config.VnetdConfig.ListenerConfig;
import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.dataplane.masque.MasqueUriTemplate;
import dev.vnetd.dataplane.state.ListenerType;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the MASQUE parts of a configuration: a {@code masque} listener's {@code tls} and {@code uri_template}, a
 * {@code masque} tunnel's {@code auth}, {@code assign} and {@code advertise}, a {@code masque-client} tunnel's
 * {@code server}, {@code server_name}, {@code auth} (token, client certificate or both), {@code ca} and
 * {@code uri_template}. Secrets (the TLS keys, tokens) are files that only their owner may read; their content never
 * appears in an error. Afterwards {@link #validate} checks what spans entries (a token names one tunnel per
 * listener).
 */
final class MasqueConfigReader {
    /** HTTPS's port, where MASQUE servers listen unless told otherwise. */
    static final int MASQUE_PORT = 443;
    /**
     * Default MTU of a MASQUE tunnel: 1280, the IPv6 minimum that RFC 9484 section 10.1 requires a CONNECT-IP tunnel
     * to carry; with the QUIC short header, DATAGRAM frame, AEAD tag and HTTP datagram header it fits the 1452-byte
     * UDP payload vnetd's QUIC sends, and so a 1500-byte path over IPv4 or IPv6.
     */
    static final int DEFAULT_MTU = 1280;
    /** Prefix of the listener each {@code masque-client} tunnel gets: its own QUIC socket. */
    static final String CLIENT_LISTENER_PREFIX = "masque-client/";

    private static final Set<String> TLS_KEYS = Set.of("cert", "key");
    private static final Set<String> AUTH_KEYS = Set.of("token_file", "client_cert_sha256", "client_cert_subject");
    private static final Set<String> CLIENT_AUTH_KEYS = Set.of("token_file", "cert", "key");
    private static final Set<String> SERVER_TUNNEL_KEYS = Set.of("name", "type", "listener", "virtual_network", "mtu",
            "arr", "interface_address", "auth", "assign", "advertise");
    private static final Set<String> CLIENT_TUNNEL_KEYS = Set.of("name", "type", "server", "server_name", "auth",
            "ca", "uri_template", "virtual_network", "mtu", "arr", "interface_address");
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = Set.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private final List<ConfigError> errors;
    private final Map<String, MasqueConfig.Listener> listeners = new LinkedHashMap<>();
    private final Map<String, MasqueConfig.Tunnel> tunnels = new LinkedHashMap<>();
    private final Map<String, TunnelConfig> tunnelConfigs = new HashMap<>();

    MasqueConfigReader(List<ConfigError> errors) {
        this.errors = errors;
    }

    /** The keys a {@code masque} listener may have. */
    static final Set<String> LISTENER_KEYS = Set.of("name", "type", "listen", "tls", "uri_template");

    /**
     * Whether the YAML mapping {@code item} (a listener or tunnel) says {@code type: masque} or
     * {@code masque-client}: it is then checked against the MASQUE keys, so the other types' messages list only
     * their own.
     */
    static boolean isMasque(Node item) {
        ListenerType type = type(item);
        return type != null && type.masque();
    }

    /** The keys the tunnel {@code item} may have: a {@code masque} or a {@code masque-client} tunnel's. */
    static Set<String> tunnelKeys(Node item) {
        return type(item) == ListenerType.MASQUE ? SERVER_TUNNEL_KEYS : CLIENT_TUNNEL_KEYS;
    }

    private static ListenerType type(Node item) {
        if (item instanceof MappingNode mapping) {
            for (NodeTuple t : mapping.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals("type")
                        && t.getValueNode() instanceof ScalarNode v) {
                    return ListenerType.fromConfigName(v.getValue());
                }
            }
        }
        return null;
    }

    /** Reads a {@code masque} listener's own keys; false after recording errors. */
    boolean readListener(String file, Path dir, YamlSection s, String name) {
        String template = s.has("uri_template") ? s.string("uri_template", false) : MasqueUriTemplate.DEFAULT;
        boolean ok = template != null && checkTemplate(s, template);
        if (!s.has("tls")) {
            s.string("tls", true);
            return false;
        }
        YamlSection tls = YamlSection.of(file, s.node("tls"), "'tls'", TLS_KEYS, errors);
        Path cert = file(tls, "cert", dir, false);
        Path key = file(tls, "key", dir, true);
        if (!ok || cert == null || key == null || name == null) {
            return false;
        }
        listeners.put(name, new MasqueConfig.Listener(cert, key, template));
        return true;
    }

    private boolean checkTemplate(YamlSection s, String template) {
        try {
            MasqueUriTemplate.parse(template);
            return true;
        } catch (IllegalArgumentException e) {
            s.error("uri_template", "'uri_template': " + e.getMessage());
            return false;
        }
    }

    /**
     * Reads a {@code masque} or {@code masque-client} tunnel: returns its {@link TunnelConfig} (for a client with
     * the listener {@code clientListener} receives), or null after recording errors.
     */
    TunnelConfig readTunnel(String file, Path dir, YamlSection s, String name, ListenerType type,
                            List<ListenerConfig> clientListener) {
        String vn = s.string("virtual_network", true);
        Boolean arr = s.bool("arr", false);
        Long mtu = s.integer("mtu", DEFAULT_MTU, ConfigLoader.MIN_MTU_IPV4, ConfigLoader.MAX_MTU);
        List<IpPrefix> interfaceAddresses = prefixes(file, s, "interface_address");
        MasqueConfig.Tunnel settings;
        String listener;
        InetSocketAddress remote;
        if (type == ListenerType.MASQUE) {
            listener = s.string("listener", true);
            settings = readServerTunnel(file, dir, s);
            remote = new InetSocketAddress(Addresses.parseLiteral("0.0.0.0"), 0);
        } else {
            settings = readClientTunnel(file, dir, s);
            listener = CLIENT_LISTENER_PREFIX + name;
            remote = settings == null ? null : settings.server();
        }
        if (name == null || vn == null || arr == null || mtu == null || interfaceAddresses == null || settings == null
                || listener == null) {
            return null;
        }
        if (type == ListenerType.MASQUE_CLIENT) {
            boolean v4 = remote.getAddress() instanceof Inet4Address;
            clientListener.add(new ListenerConfig(s.where(), listener, ListenerType.MASQUE_CLIENT,
                    new InetSocketAddress(Addresses.parseLiteral(v4 ? "0.0.0.0" : "::"), 0), 0, 0));
        }
        tunnels.put(name, settings);
        TunnelConfig config = new TunnelConfig(s.where(), name, type, listener, remote, -1, vn, mtu.intValue(), arr,
                interfaceAddresses, null);
        tunnelConfigs.put(name, config);
        return config;
    }

    private MasqueConfig.Tunnel readServerTunnel(String file, Path dir, YamlSection s) {
        List<IpPrefix> assign = prefixes(file, s, "assign");
        List<IpPrefix> advertise = prefixes(file, s, "advertise");
        if (assign != null && assign.isEmpty()) {
            s.error(s.has("assign") ? "assign" : "name", "a masque tunnel needs 'assign': the client's addresses,"
                    + " also the only sources its packets may carry");
            assign = null;
        }
        if (!s.has("auth")) {
            s.string("auth", true);
            return null;
        }
        YamlSection auth = YamlSection.of(file, s.node("auth"), "'auth'", AUTH_KEYS, errors);
        byte[] token = auth.has("token_file") ? token(auth, dir) : null;
        byte[] sha256 = null;
        String fingerprint = auth.string("client_cert_sha256", false);
        if (fingerprint != null) {
            String hex = fingerprint.replace(":", "");
            try {
                sha256 = HexFormat.of().parseHex(hex);
            } catch (IllegalArgumentException e) {
                sha256 = null;
            }
            if (sha256 == null || sha256.length != 32) {
                auth.error("client_cert_sha256", "'client_cert_sha256' must be 64 hex digits (colons allowed)");
                return null;
            }
        }
        String subject = auth.string("client_cert_subject", false);
        int ways = (auth.has("token_file") ? 1 : 0) + (fingerprint != null ? 1 : 0) + (subject != null ? 1 : 0);
        if (ways != 1) {
            s.error("auth", "'auth' needs exactly one of token_file, client_cert_sha256, client_cert_subject");
            return null;
        }
        if (auth.has("token_file") && token == null || assign == null || advertise == null) {
            return null;
        }
        return new MasqueConfig.Tunnel(false, token, sha256, subject, assign, advertise, null, null, null, null, null,
                null);
    }

    private MasqueConfig.Tunnel readClientTunnel(String file, Path dir, YamlSection s) {
        String serverText = s.string("server", true);
        String serverName = s.string("server_name", true);
        String template = s.has("uri_template") ? s.string("uri_template", false) : MasqueUriTemplate.DEFAULT;
        boolean templateOk = template != null && checkTemplate(s, template);
        InetSocketAddress server = null;
        if (serverText != null) {
            Addresses.HostPort hp = Addresses.parseHostPort(serverText);
            if (hp == null || !hp.portValid()) {
                s.error("server", "'server' must be a literal IP address with an optional :PORT, not '" + serverText
                        + "'");
            } else {
                server = new InetSocketAddress(hp.address(), hp.hasPort() ? hp.port() : MASQUE_PORT);
            }
        }
        Path ca = s.has("ca") ? file(s, "ca", dir, false) : null;
        if (!s.has("auth")) {
            s.string("auth", true);
            return null;
        }
        YamlSection auth = YamlSection.of(file, s.node("auth"), "'auth'", CLIENT_AUTH_KEYS, errors);
        boolean hasToken = auth.has("token_file");
        boolean hasCert = auth.has("cert") || auth.has("key");
        if (!hasToken && !hasCert) {
            s.error("auth", "'auth' needs token_file, or cert and key (a client certificate), or both");
            return null;
        }
        byte[] token = hasToken ? token(auth, dir) : null;
        Path cert = hasCert ? file(auth, "cert", dir, false) : null;
        Path key = hasCert ? file(auth, "key", dir, true) : null;
        if (server == null || serverName == null || !templateOk || hasToken && token == null
                || hasCert && (cert == null || key == null) || s.has("ca") && ca == null) {
            return null;
        }
        return new MasqueConfig.Tunnel(true, token, null, null, List.of(), List.of(), server, serverName, ca,
                template, cert, key);
    }

    private List<IpPrefix> prefixes(String file, YamlSection s, String key) {
        List<IpPrefix> out = new ArrayList<>();
        boolean ok = true;
        for (ScalarNode item : s.scalars(key)) {
            IpPrefix prefix = IpPrefix.parse(item.getValue());
            Where where = YamlSection.where(file, item);
            if (prefix == null) {
                errors.add(where.error("'" + key + "' must be ADDRESS/LENGTH, like 100.96.0.10/32, not '"
                        + item.getValue() + "'"));
                ok = false;
            } else if (prefix.hasHostBits() && !key.equals("interface_address")) {
                errors.add(where.error("'" + key + "' " + item.getValue() + " has host bits set (did you mean "
                        + prefix.network() + "?)"));
                ok = false;
            } else {
                out.add(prefix);
            }
        }
        return ok ? List.copyOf(out) : null;
    }

    private byte[] token(YamlSection auth, Path dir) {
        Path path = file(auth, "token_file", dir, true);
        if (path == null) {
            return null;
        }
        try {
            String token = Files.readString(path, StandardCharsets.UTF_8).strip();
            if (token.isEmpty() || token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
                auth.error("token_file", "token file " + path + " must hold one token of printable ASCII");
                return null;
            }
            return token.getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            auth.error("token_file", "cannot read token file " + path + ": " + e.getMessage());
            return null;
        }
    }

    /** A file named at {@code key}, resolved against {@code dir}; {@code secret} files must be mode 600 or less. */
    private static Path file(YamlSection s, String key, Path dir, boolean secret) {
        String text = s.string(key, true);
        if (text == null) {
            return null;
        }
        if (dir == null) {
            s.error(key, "'" + key + "' cannot be used in the embedded configuration");
            return null;
        }
        Path path = ConfigPaths.resolve(dir, text);
        if (path == null || !Files.isRegularFile(path)) {
            s.error(key, "'" + key + "' file " + (path == null ? text : path) + " does not exist");
            return null;
        }
        if (secret) {
            try {
                if (Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS).stream()
                        .anyMatch(GROUP_OR_OTHERS::contains)) {
                    s.error(key, "'" + key + "' file " + path + " is accessible to group or others; chmod 600 it");
                    return null;
                }
            } catch (UnsupportedOperationException | IOException e) {
                s.error(key, "cannot check the permissions of " + path + ": " + e.getMessage());
                return null;
            }
        }
        return path;
    }

    /** Checks across entries: a token names one client of a listener. */
    void validate(List<ConfigError> out) {
        Map<String, String> tokens = new HashMap<>();
        for (Map.Entry<String, MasqueConfig.Tunnel> e : tunnels.entrySet()) {
            MasqueConfig.Tunnel t = e.getValue();
            TunnelConfig config = tunnelConfigs.get(e.getKey());
            if (t.client() || t.token() == null) {
                continue;
            }
            String key = config.listener() + "|" + new String(t.token(), StandardCharsets.UTF_8);
            String other = tokens.putIfAbsent(key, e.getKey());
            if (other != null) {
                out.add(config.where().error("tunnel '" + e.getKey() + "' has the same token as tunnel '" + other
                        + "' on listener '" + config.listener() + "'; a token names one client"));
            }
        }
    }

    /** What was read. */
    MasqueConfig config() {
        return tunnels.isEmpty() && listeners.isEmpty() ? MasqueConfig.NONE
                : new MasqueConfig(Map.copyOf(listeners), Map.copyOf(tunnels));
    }
}
