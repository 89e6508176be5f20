package dev.vnetd.control.config;

import dev.vnetd.control.admin.AdminToken;
import dev.vnetd.control.config.VnetdConfig.Admin;
import dev.vnetd.control.config.VnetdConfig.FlowTable;
import dev.vnetd.control.config.VnetdConfig.HealthCheckConfig;
import dev.vnetd.control.config.VnetdConfig.ListenerConfig;
import dev.vnetd.control.config.VnetdConfig.RouteConfig;
import dev.vnetd.control.config.VnetdConfig.SaConfig;
import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.control.config.VnetdConfig.VirtualNetworkConfig;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.flowtable.FlowTimeouts;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;

import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.regex.PatternSyntaxException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Loads a vnetd configuration: the main YAML file and the files its {@code include} globs name, read into
 * {@link VnetdConfig} and validated ({@link ConfigValidator}). Every error is collected and reported at once as
 * {@code file:line:column: message}; nothing is half-loaded.
 */
public final class ConfigLoader {
    /** Name under which the configuration embedded in the jar is reported. */
    public static final String EMBEDDED_NAME = "embedded:vnetd.yaml";
    /** Classpath resource of the embedded default configuration (a copy of config/vnetd.yaml). */
    public static final String EMBEDDED_RESOURCE = "/vnetd.yaml";

    /** GRE-in-UDP's port (RFC 8086 section 3.2). */
    public static final int GRE_UDP_PORT = 4754;
    /** ESP-in-UDP's port, shared with IKE (RFC 3948 section 2). */
    public static final int ESP_UDP_PORT = 4500;
    /** Default admin endpoint: loopback only, so metrics and control are not exposed by accident. */
    public static final String DEFAULT_ADMIN_LISTEN = "127.0.0.1:9400";
    /**
     * Default flow table capacity: 1 Mi flows, about 128 MiB at 128 bytes a flow; enough for a branch-office edge,
     * and a power of two so the table can mask instead of divide.
     */
    public static final int DEFAULT_FLOW_CAPACITY = 1 << 20;
    /**
     * Default source-port sockets per worker of a GRE-in-UDP listener: 8 ports per worker spread the flows of a
     * tunnel over 8 x workers 5-tuples, enough for a peer's ECMP and RSS to use several paths and queues, at the
     * cost of 8 sockets per worker.
     */
    public static final int DEFAULT_SOURCE_PORTS = 8;
    /** Most source-port sockets per worker of one listener. */
    public static final int MAX_SOURCE_PORTS = 64;
    /**
     * Default remotes per GRE-in-UDP listener (with source ports) and per ESP-in-UDP listener whose packets leave
     * from sockets {@code connect}ed to them (the kernel keeps their route: no route lookup per datagram). Each costs
     * source_ports sockets per worker (ESP-in-UDP: one, on the listening port): 64 remotes of the default 8 source
     * ports are 512 sockets per worker, well inside the file limit systemd gives the service.
     */
    public static final int DEFAULT_CONNECTED_REMOTES = 64;
    /** Most connected remotes of one listener. */
    public static final int MAX_CONNECTED_REMOTES = 4096;
    /** Smallest IPv4 MTU every link must carry (RFC 791). */
    public static final int MIN_MTU_IPV4 = 576;
    /** Largest tunnel MTU: a jumbo frame; the receive buffers are sized for it. */
    public static final int MAX_MTU = 9000;
    /** Smallest {@code mss_clamp}: the MSS every IPv4 host must accept (RFC 9293 section 3.7.1). */
    public static final int MIN_MSS_CLAMP = 536;
    /** IPv4 and TCP headers: the largest useful {@code mss_clamp} is the tunnel MTU less this. */
    private static final int MSS_IPV4_OVERHEAD = 40;
    private static final String MSS_CLAMP_AUTO = "auto";
    /** Lowest priority penalty (degraded); configured priorities stay below it so health always dominates. */
    public static final int MAX_PRIORITY = 499_999;

    private static final Set<String> TOP_KEYS = Set.of("node", "admin", "flow_table", "include", "listeners",
            "virtual_networks", "tunnels", "routes");
    private static final Set<String> INCLUDED_KEYS = Set.of("listeners", "virtual_networks", "tunnels", "routes");
    private static final Set<String> NODE_KEYS = Set.of("name", "workers", "transport");
    private static final Set<String> ADMIN_KEYS = Set.of("listen", "token_file");
    private static final Set<String> FLOW_TABLE_KEYS = Set.of("capacity", "persist", "timeouts");
    private static final Set<String> TIMEOUT_KEYS = Set.of("tcp_established", "tcp_transitory", "udp", "icmp");
    private static final Set<String> LISTENER_KEYS = Set.of("name", "type", "listen", "source_ports",
            "connected_remotes");
    private static final Set<String> VN_KEYS = Set.of("name", "fallback");
    private static final Set<String> TUNNEL_KEYS = Set.of("name", "type", "listener", "remote", "key",
            "virtual_network", "mtu", "arr", "interface_address", "sa", "mss_clamp", "health_check",
            "device", "addresses", "host_routes", "max_flows");
    private static final Set<String> ROUTE_KEYS = Set.of("prefix", "virtual_network", "via", "priority", "weight");
    private static final Set<String> TRANSPORTS = Set.of("auto", "io_uring", "epoll", "nio");

    private final List<ConfigError> errors = new ArrayList<>();
    private VnetdConfig.Node node = new VnetdConfig.Node("vnetd", 0, "auto");
    private Admin admin;
    private FlowTable flowTable = new FlowTable(DEFAULT_FLOW_CAPACITY, null, FlowTimeouts.DEFAULTS);
    private final List<ListenerConfig> listeners = new ArrayList<>();
    private final List<VirtualNetworkConfig> virtualNetworks = new ArrayList<>();
    private final List<TunnelConfig> tunnels = new ArrayList<>();
    private final List<RouteConfig> routes = new ArrayList<>();
    /** Names of entries that were named but had errors: references to them are not reported again. */
    private final Set<String> invalid = new HashSet<>();
    /** Directory of the file being read: key files it names resolve against it; null for the embedded file. */
    private Path currentDir;
    private final MasqueConfigReader masque = new MasqueConfigReader(errors);

    private ConfigLoader() {
        admin = new Admin(new InetSocketAddress(Addresses.parseLiteral("127.0.0.1"), 9400));
    }

    /** Loads and validates the configuration at {@code path}. */
    public static VnetdConfig load(Path path) throws ConfigException {
        ConfigLoader loader = new ConfigLoader();
        String name = path.toString();
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(List.of(new ConfigError(name, 1, 1, "no such file")));
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigError(name, 1, 1, "cannot read: " + e.getMessage())));
        }
        Path dir = path.toAbsolutePath().getParent();
        return loader.loadMain(name, text, dir);
    }

    /** Loads and validates the default configuration embedded in the jar. */
    public static VnetdConfig loadEmbedded() throws ConfigException {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(EMBEDDED_RESOURCE)) {
            if (in == null) {
                throw new ConfigException(List.of(new ConfigError(EMBEDDED_NAME, 1, 1, "not found in the jar")));
            }
            return new ConfigLoader().loadMain(EMBEDDED_NAME, new String(in.readAllBytes(), StandardCharsets.UTF_8),
                    null);
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigError(EMBEDDED_NAME, 1, 1, e.toString())));
        }
    }

    /** Loads and validates configuration text; relative includes resolve against {@code dir}. */
    public static VnetdConfig parse(String name, String text, Path dir) throws ConfigException {
        return new ConfigLoader().loadMain(name, text, dir);
    }

    private VnetdConfig loadMain(String name, String text, Path dir) throws ConfigException {
        Node root = compose(name, text);
        if (root == null && errors.isEmpty()) {
            errors.add(new ConfigError(name, 1, 1, "the configuration is empty"));
        }
        if (root != null) {
            YamlSection top = YamlSection.of(name, root, "the configuration", TOP_KEYS, errors);
            currentDir = dir;
            readTop(name, top, dir);
            readIncludes(top, dir);
        }
        ConfigValidator.validate(listeners, virtualNetworks, tunnels, routes, invalid, errors);
        masque.validate(errors);
        if (!errors.isEmpty()) {
            Collections.sort(errors);
            throw new ConfigException(errors);
        }
        return new VnetdConfig(name, node, admin, flowTable, List.copyOf(listeners), List.copyOf(virtualNetworks),
                List.copyOf(tunnels), List.copyOf(routes), masque.config());
    }

    private Node compose(String name, String text) {
        LoadSettings settings = LoadSettings.builder().setLabel(name).setUseMarks(true)
                .setAllowDuplicateKeys(true).build();
        try {
            Composer composer = new Composer(settings, new ParserImpl(settings, new StreamReader(settings, text)));
            return composer.getSingleNode().orElse(null);
        } catch (MarkedYamlEngineException e) {
            var mark = e.getProblemMark().or(e::getContextMark);
            int line = mark.map(m -> m.getLine() + 1).orElse(1);
            int column = mark.map(m -> m.getColumn() + 1).orElse(1);
            errors.add(new ConfigError(name, line, column, "YAML syntax: " + e.getProblem()));
        } catch (YamlEngineException e) {
            errors.add(new ConfigError(name, 1, 1, "YAML: " + e.getMessage()));
        }
        return null;
    }

    private void readTop(String file, YamlSection top, Path dir) {
        if (top.has("node")) {
            YamlSection s = YamlSection.of(file, top.node("node"), "node", NODE_KEYS, errors);
            String name = s.string("name", false);
            Long workers = s.integer("workers", 0, 0, 1024);
            String transport = s.string("transport", false);
            if (transport != null && !TRANSPORTS.contains(transport)) {
                s.error("transport", "'transport' must be one of auto, io_uring, epoll, nio, not '" + transport + "'");
                transport = null;
            }
            node = new VnetdConfig.Node(name == null ? "vnetd" : name, workers == null ? 0 : workers.intValue(),
                    transport == null ? "auto" : transport);
        }
        if (top.has("admin")) {
            YamlSection s = YamlSection.of(file, top.node("admin"), "admin", ADMIN_KEYS, errors);
            String listen = s.string("listen", false);
            if (listen != null) {
                InetSocketAddress address = socketAddress(s, "listen", listen, -1, true);
                if (address != null) {
                    admin = new Admin(address);
                }
            }
            String tokenFile = s.string("token_file", false);
            AdminToken token = tokenFile == null ? null : AdminTokenReader.read(s, tokenFile, dir);
            if (token != null) {
                admin = new Admin(admin.listen(), token);
            } else if (tokenFile == null && !admin.listen().getAddress().isLoopbackAddress()) {
                s.error("listen", "'listen' " + listen + " is not a loopback address: the admin API may listen "
                        + "elsewhere only with a bearer token ('token_file')");
            }
        }
        if (top.has("flow_table")) {
            readFlowTable(file, YamlSection.of(file, top.node("flow_table"), "flow_table", FLOW_TABLE_KEYS, errors),
                    dir);
        }
        readLists(file, top);
    }

    private void readFlowTable(String file, YamlSection s, Path dir) {
        Long capacity = s.integer("capacity", DEFAULT_FLOW_CAPACITY, 1024, 1 << 28);
        String persistText = s.string("persist", false);
        Path persist = null;
        if (persistText != null) {
            persist = ConfigPaths.resolve(dir, persistText);
            if (persist == null) {
                s.error("persist", "'persist' is not a valid path");
            } else if (!persist.isAbsolute()) {
                s.error("persist", "'persist' must be an absolute path in the embedded configuration");
                persist = null;
            }
        }
        FlowTimeouts d = FlowTimeouts.DEFAULTS;
        Duration[] timeouts = {d.tcpEstablished(), d.tcpTransitory(), d.udp(), d.icmp()};
        if (s.has("timeouts")) {
            YamlSection t = YamlSection.of(file, s.node("timeouts"), "flow_table.timeouts", TIMEOUT_KEYS, errors);
            String[] keys = {"tcp_established", "tcp_transitory", "udp", "icmp"};
            for (int i = 0; i < keys.length; i++) {
                String text = t.string(keys[i], false);
                if (text == null) {
                    continue;
                }
                Duration parsed = Durations.parse(text);
                if (parsed == null || parsed.compareTo(Duration.ofSeconds(1)) < 0
                        || parsed.compareTo(FlowTimeouts.MAX) > 0) {
                    t.error(keys[i], "'" + keys[i] + "' must be a duration from 1s to " + FlowTimeouts.MAX.toDays()
                            + "d like 30s, 5m, 6h or 2d, not '" + text + "'");
                } else {
                    timeouts[i] = parsed;
                }
            }
        }
        if (capacity != null) {
            flowTable = new FlowTable(capacity.intValue(), persist,
                    new FlowTimeouts(timeouts[0], timeouts[1], timeouts[2], timeouts[3]));
        }
    }

    private void readLists(String file, YamlSection section) {
        for (Node item : section.list("listeners")) {
            Set<String> keys = MasqueConfigReader.isMasque(item) ? MasqueConfigReader.LISTENER_KEYS : LISTENER_KEYS;
            readListener(file, YamlSection.of(file, item, "a listener", keys, errors));
        }
        for (Node item : section.list("virtual_networks")) {
            YamlSection s = YamlSection.of(file, item, "a virtual network", VN_KEYS, errors);
            String name = s.string("name", true);
            String fallback = s.string("fallback", false);
            if (name != null) {
                virtualNetworks.add(new VirtualNetworkConfig(s.where(), name, fallback));
            }
        }
        for (Node item : section.list("tunnels")) {
            Set<String> keys = MasqueConfigReader.isMasque(item) ? MasqueConfigReader.tunnelKeys(item) : TUNNEL_KEYS;
            readTunnel(file, YamlSection.of(file, item, "a tunnel", keys, errors));
        }
        for (Node item : section.list("routes")) {
            readRoute(YamlSection.of(file, item, "a route", ROUTE_KEYS, errors));
        }
    }

    private void readListener(String file, YamlSection s) {
        String name = s.string("name", true);
        ListenerType type = listenerType(s, false);
        if (type == ListenerType.TUN) {
            s.error("type", "a tun attachment is a tunnel of type tun with a 'device', not a listener");
            type = null;
        }
        String listen = s.string("listen", true);
        InetSocketAddress address = type == null || listen == null ? null : type.raw()
                ? socketAddress(s, "listen", listen, 0, false)
                : socketAddress(s, "listen", listen, defaultPort(type), true);
        if (type == ListenerType.MASQUE_CLIENT) {
            s.error("type", "'masque-client' is a tunnel type: a masque-client tunnel opens its own connection");
            address = null;
        } else if (type == ListenerType.MASQUE && !masque.readListener(file, currentDir, s, name)) {
            address = null;
        }
        Long sourcePorts = s.integer("source_ports", type == ListenerType.GRE_UDP ? DEFAULT_SOURCE_PORTS : 0, 0,
                MAX_SOURCE_PORTS);
        if (type != null && type != ListenerType.GRE_UDP && s.has("source_ports")) {
            s.error("source_ports", "'source_ports' applies to gre-udp listeners only");
            sourcePorts = null;
        }
        boolean connects = type == ListenerType.GRE_UDP || type == ListenerType.ESP_UDP;
        Long connectedRemotes = s.integer("connected_remotes", type == ListenerType.ESP_UDP
                || type == ListenerType.GRE_UDP && sourcePorts != null && sourcePorts > 0
                ? DEFAULT_CONNECTED_REMOTES : 0, 0, MAX_CONNECTED_REMOTES);
        if (type != null && !connects && s.has("connected_remotes")) {
            s.error("connected_remotes", "'connected_remotes' applies to gre-udp and esp-udp listeners only");
            connectedRemotes = null;
        } else if (type == ListenerType.GRE_UDP && sourcePorts != null && sourcePorts == 0
                && connectedRemotes != null && connectedRemotes > 0) {
            s.error("connected_remotes", "'connected_remotes' needs 'source_ports' of 1 or more: with 0, packets "
                    + "leave from the listening socket, which cannot be connected to one remote");
            connectedRemotes = null;
        }
        if (name != null && address != null && sourcePorts != null && connectedRemotes != null) {
            listeners.add(new ListenerConfig(s.where(), name, type, address, sourcePorts.intValue(),
                    connectedRemotes.intValue()));
        } else if (name != null) {
            invalid.add(name);
        }
    }

    private ListenerType listenerType(YamlSection s, boolean tunnel) {
        String type = s.string("type", true);
        if (type == null) {
            return null;
        }
        ListenerType parsed = ListenerType.fromConfigName(type);
        if (parsed == null) {
            s.error("type", "'type' must be gre-udp, gre, esp-udp, " + (tunnel ? "esp, tun, masque or masque-client"
                    : "esp or masque") + ", not '" + type + "'");
        }
        return parsed;
    }

    private void readTunnel(String file, YamlSection s) {
        String name = s.string("name", true);
        ListenerType type = listenerType(s, true);
        if (type == ListenerType.TUN) {
            TunnelConfig tun = new TunConfigReader(file, errors).read(s, name);
            if (tun != null) {
                tunnels.add(tun);
            } else if (name != null) {
                invalid.add(name);
            }
            return;
        }
        if (type != null && type.masque()) {
            TunnelConfig t = masque.readTunnel(file, currentDir, s, name, type, listeners);
            if (t != null) {
                tunnels.add(t);
            } else if (name != null) {
                invalid.add(name);
            }
            return;
        }
        String listener = s.string("listener", true);
        String remoteText = s.string("remote", true);
        Long key = s.integer("key", -1, 0, 0xFFFF_FFFFL);
        String vn = s.string("virtual_network", true);
        Boolean arr = s.bool("arr", false);
        Long maxFlows = s.integer("max_flows", Tunnel.UNLIMITED_FLOWS, 1, 1 << 28);
        if (maxFlows != null && s.has("max_flows") && Boolean.FALSE.equals(arr)) {
            s.error("max_flows", "'max_flows' limits the ARR flows a tunnel opens; it needs 'arr: true'");
            maxFlows = null;
        }
        List<IpPrefix> interfaceAddresses = new ArrayList<>();
        for (ScalarNode item : s.scalars("interface_address")) {
            IpPrefix prefix = IpPrefix.parse(item.getValue());
            Where where = YamlSection.where(file, item);
            if (prefix == null) {
                errors.add(where.error("'interface_address' must be ADDRESS/LENGTH, like 169.254.10.0/31, not '"
                        + item.getValue() + "'"));
            } else if (interfaceAddresses.stream().anyMatch(p -> p.ipv6() == prefix.ipv6())) {
                errors.add(where.error("at most one IPv4 and one IPv6 'interface_address' per tunnel"));
            } else {
                interfaceAddresses.add(prefix);
            }
        }
        HealthCheckConfig healthCheck = s.has("health_check")
                ? new HealthCheckReader(file, errors).read(s, interfaceAddresses) : null;
        boolean healthCheckValid = healthCheck != null || !s.has("health_check");
        InetSocketAddress remote = type == null || remoteText == null ? null : type.raw()
                ? socketAddress(s, "remote", remoteText, 0, false)
                : socketAddress(s, "remote", remoteText, defaultPort(type), true);
        SaConfig sa = null;
        boolean saValid = true;
        if (type != null && type.esp()) {
            if (s.has("key")) {
                s.error("key", "'key' is a GRE key; an " + type.configName() + " tunnel is identified by its inbound"
                        + " SPI (sa.inbound.spi)");
                key = null;
            }
            if (s.has("sa")) {
                sa = new SaConfigReader(file, currentDir, errors).read(s);
            } else {
                s.string("sa", true);
            }
            saValid = sa != null;
        } else if (type != null && s.has("sa")) {
            s.error("sa", "'sa' applies to esp-udp and esp tunnels only");
            saValid = false;
        }
        Long mtu = remote == null || key == null || (type.esp() && sa == null) ? null
                : s.integer("mtu", type.esp() ? defaultEspMtu(type, remote.getAddress(), sa.transform())
                        : defaultMtu(type, remote.getAddress(), key >= 0), MIN_MTU_IPV4, MAX_MTU);
        Integer mssClamp = mtu == null ? null : mssClamp(s, mtu.intValue());
        if (name == null || listener == null || vn == null || arr == null || mtu == null || !saValid
                || mssClamp == null || !healthCheckValid || maxFlows == null) {
            if (name != null) {
                invalid.add(name);
            }
            return;
        }
        tunnels.add(new TunnelConfig(s.where(), name, type, listener, remote, key, vn, mtu.intValue(), arr,
                List.copyOf(interfaceAddresses), sa, mssClamp, healthCheck, null,
                maxFlows.intValue()));
    }

    /**
     * {@code mss_clamp}: absent (off), {@code auto} (the MTU less 40 for IPv4 and 60 for IPv6), or an MSS from
     * {@link #MIN_MSS_CLAMP} to the MTU less 40, above which it would not clamp anything the MTU allows; null after
     * an error.
     */
    private static Integer mssClamp(YamlSection s, int mtu) {
        Node value = s.node("mss_clamp");
        if (value == null) {
            return Tunnel.MSS_CLAMP_OFF;
        }
        if (value instanceof ScalarNode scalar && MSS_CLAMP_AUTO.equals(scalar.getValue())) {
            return Tunnel.MSS_CLAMP_AUTO;
        }
        if (!(value instanceof ScalarNode scalar) || !scalar.getTag().equals(Tag.INT)) {
            s.error("mss_clamp", "'mss_clamp' must be auto or a segment size in bytes, not "
                    + YamlSection.describe(value));
            return null;
        }
        Long mss = s.integer("mss_clamp", Tunnel.MSS_CLAMP_OFF, MIN_MSS_CLAMP, mtu - MSS_IPV4_OVERHEAD);
        return mss == null ? null : mss.intValue();
    }

    private static int defaultPort(ListenerType type) {
        return type == ListenerType.ESP_UDP ? ESP_UDP_PORT : type == ListenerType.MASQUE
                ? MasqueConfigReader.MASQUE_PORT : GRE_UDP_PORT;
    }

    /**
     * The MTU an ESP tunnel gets when none is configured: a 1500-byte outer link less the outer IP header, the UDP
     * header for ESP-in-UDP, and the transform's worst case: ESP header (8), IV, pad length and next header (2),
     * padding up to the block size less one, ICV. AES-GCM-128 in UDP over IPv4 gives 1435, so that a full-size
     * inner packet fills the 1500-byte outer packet exactly.
     */
    public static int defaultEspMtu(ListenerType type, InetAddress remote, EspTransform transform) {
        int outer = remote instanceof Inet4Address ? 20 : 40;
        int udp = type == ListenerType.ESP_UDP ? 8 : 0;
        int esp = 8 + transform.ivLength() + 2 + transform.blockSize() - 1 + transform.icvLength();
        return 1500 - outer - udp - esp;
    }

    /**
     * The MTU a tunnel gets when none is configured: a 1500-byte outer link less the outer IP header (20 or 40),
     * the UDP header for GRE-in-UDP (8) and the GRE header (4, or 8 with a key). Plain GRE over IPv4 without a key
     * gives 1476, the figure Cloudflare and most routers use.
     */
    public static int defaultMtu(ListenerType type, InetAddress remote, boolean key) {
        int outer = remote instanceof Inet4Address ? 20 : 40;
        int udp = type == ListenerType.GRE_UDP ? 8 : 0;
        return 1500 - outer - udp - (key ? 8 : 4);
    }

    private void readRoute(YamlSection s) {
        String prefixText = s.string("prefix", true);
        String vn = s.string("virtual_network", true);
        String via = s.string("via", true);
        Long priority = s.integer("priority", 100, 0, MAX_PRIORITY);
        Long weight = s.integer("weight", 1, 1, 256);
        IpPrefix prefix = null;
        if (prefixText != null) {
            prefix = IpPrefix.parse(prefixText);
            if (prefix == null) {
                s.error("prefix", "'prefix' must be ADDRESS/LENGTH, like 10.0.0.0/8 or fd00::/8, not '"
                        + prefixText + "'");
            } else if (prefix.hasHostBits()) {
                s.error("prefix", "'prefix' " + prefixText + " has host bits set (did you mean " + prefix.network()
                        + "?)");
                prefix = null;
            }
        }
        if (prefix != null && vn != null && via != null && priority != null && weight != null) {
            routes.add(new RouteConfig(s.where(), prefix, vn, via, priority.intValue(), weight.intValue()));
        }
    }

    private InetSocketAddress socketAddress(YamlSection s, String key, String text, int defaultPort,
                                            boolean portAllowed) {
        Addresses.HostPort hostPort = Addresses.parseHostPort(text);
        if (hostPort == null) {
            s.error(key, "'" + key + "' must be a literal IP address" + (portAllowed ? " with an optional :PORT" : "")
                    + ", not '" + text + "'");
            return null;
        }
        if (!hostPort.portValid()) {
            s.error(key, "'" + key + "' has a port that is not a number in 0..65535: '" + text + "'");
            return null;
        }
        if (hostPort.hasPort() && !portAllowed) {
            s.error(key, "'" + key + "' of a plain GRE or ESP (IP protocol 47 or 50) listener or tunnel takes no port:"
                    + " '" + text + "'");
            return null;
        }
        if (!hostPort.hasPort() && defaultPort < 0) {
            s.error(key, "'" + key + "' needs a port, like 127.0.0.1:9400");
            return null;
        }
        return new InetSocketAddress(hostPort.address(), hostPort.hasPort() ? hostPort.port() : defaultPort);
    }

    private void readIncludes(YamlSection top, Path dir) {
        for (ScalarNode item : top.scalars("include")) {
            String pattern = item.getValue();
            Where where = YamlSection.where(top.where().file(), item);
            if (dir == null) {
                errors.add(where.error("'include' cannot be used in the embedded configuration"));
                continue;
            }
            for (Path file : expand(dir, pattern, where)) {
                loadIncluded(file);
            }
        }
    }

    private List<Path> expand(Path dir, String pattern, Where where) {
        Path full = ConfigPaths.resolve(dir, pattern);
        if (full == null) {
            errors.add(where.error("'include' is not a valid path: '" + pattern.replace("\0", "\\0") + "'"));
            return List.of();
        }
        String last = full.getFileName() == null ? "" : full.getFileName().toString();
        boolean glob = last.contains("*") || last.contains("?") || last.contains("[") || last.contains("{");
        if (!glob) {
            if (!Files.isRegularFile(full)) {
                errors.add(where.error("included file " + full + " does not exist"));
                return List.of();
            }
            return List.of(full);
        }
        Path parent = full.getParent();
        List<Path> matches = new ArrayList<>();
        if (parent == null || !Files.isDirectory(parent)) {
            errors.add(where.error(noMatch(full)));
            return matches;
        }
        PathMatcher matcher;
        try {
            matcher = FileSystems.getDefault().getPathMatcher("glob:" + last);
        } catch (PatternSyntaxException e) {
            errors.add(where.error("'include' has a bad glob '" + last + "': " + e.getDescription()));
            return matches;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(parent)) {
            for (Path p : stream) {
                if (Files.isRegularFile(p) && matcher.matches(p.getFileName())) {
                    matches.add(p);
                }
            }
        } catch (IOException e) {
            errors.add(where.error("cannot list " + parent + ": " + e.getMessage()));
        }
        if (matches.isEmpty()) {
            errors.add(where.error(noMatch(full)));
        }
        Collections.sort(matches);
        return matches;
    }

    /**
     * A glob that matches no file is an error: otherwise a directory emptied for a moment (a deployment that deletes
     * before it writes) would load as a configuration without the tunnels and routes it held, and a reload would
     * remove them.
     */
    private static String noMatch(Path glob) {
        return "'include' glob " + glob + " matches no file";
    }

    private void loadIncluded(Path file) {
        String name = file.toString();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            errors.add(new ConfigError(name, 1, 1, "cannot read: " + e.getMessage()));
            return;
        }
        Node root = compose(name, text);
        if (root == null && errors.stream().noneMatch(e -> e.file().equals(name))) {
            // an empty include is what a reader racing a writer that truncates first sees: never "no tunnels"
            errors.add(new ConfigError(name, 1, 1, "included file is empty"));
        }
        if (root != null) {
            currentDir = file.toAbsolutePath().getParent();
            readLists(name, YamlSection.of(name, root, "an included file", INCLUDED_KEYS, errors));
        }
    }
}
