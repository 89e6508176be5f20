package dev.vnetd.control;

import dev.vnetd.control.admin.AdminServer;
import dev.vnetd.control.config.VnetdConfig;
import dev.vnetd.control.health.DataplaneProbeChannel;
import dev.vnetd.control.health.HealthChecker;
import dev.vnetd.control.health.HealthStateMachine;
import dev.vnetd.control.masque.MasqueService;
import dev.vnetd.control.metrics.DataplaneMetrics;
import dev.vnetd.control.metrics.FlowMetrics;
import dev.vnetd.control.metrics.OuterFragments;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.transport.Dataplane;
import dev.vnetd.dataplane.transport.TransportKind;
import dev.vnetd.flowtable.FlowTable;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Properties;

/**
 * A running vnetd: the dataplane workers on the chosen transport, the metrics registry and the admin endpoint,
 * all built from one validated configuration.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    private final VnetdConfig config;
    private final ForwardingStateHolder holder;
    private final Dataplane dataplane;
    private final PrometheusMeterRegistry registry;
    private final AdminServer admin;

    private final FlowTable flows;
    private final FlowSweeper sweeper;
    private final Reloader reloader;
    private final HealthChecker health;
    private MasqueService masque;

    private Daemon(VnetdConfig config, ForwardingStateHolder holder, Dataplane dataplane,
                   PrometheusMeterRegistry registry, AdminServer admin, FlowTable flows,
                   FlowSweeper sweeper, Reloader reloader, HealthChecker health) {
        this.health = health;
        this.reloader = reloader;
        this.flows = flows;
        this.sweeper = sweeper;
        this.config = config;
        this.holder = holder;
        this.dataplane = dataplane;
        this.registry = registry;
        this.admin = admin;
    }

    /** Starts vnetd on {@code config}. */
    public static Daemon start(VnetdConfig config) throws IOException, InterruptedException {
        return start(config, HealthStateMachine.DEGRADED_WINDOW_MILLIS);
    }

    /**
     * Starts vnetd on {@code config} with another window for the health checks' degraded rule, so that tests see a
     * tunnel recover within seconds rather than Cloudflare's five minutes.
     */
    static Daemon start(VnetdConfig config, long degradedWindowMillis) throws IOException, InterruptedException {
        ForwardingState state = ForwardingStateBuilder.build(config);
        ForwardingStateHolder holder = new ForwardingStateHolder(state);
        boolean rawSockets = Arrays.stream(state.listeners()).anyMatch(l -> l.type().raw());
        TransportKind transport = TransportSelector.choose(config.node().transport(), rawSockets);
        int workers = config.node().workers() == 0 ? Runtime.getRuntime().availableProcessors()
                : config.node().workers();
        FlowTable flows = openFlowTable(config.flowTable());
        int tunnelCapacity = Reloader.capacity(state.tunnels().length);
        int virtualNetworkCapacity = Reloader.capacity(state.virtualNetworks().length);
        Dataplane dataplane;
        try {
            dataplane = Dataplane.start(holder, workers, transport, tunnelCapacity,
                    Reloader.listenerCapacity(state.listeners().length), flows);
        } catch (InterruptedException | RuntimeException e) {
            flows.close();
            throw e;
        }
        try {
            dataplane.connectRemotes(state);
        } catch (InterruptedException | RuntimeException e) {
            dataplane.close();
            flows.close();
            throw e;
        }
        FlowSweeper sweeper = new FlowSweeper(flows, virtualNetworkCapacity, holder);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AdminServer admin;
        Reloader reloader;
        HealthChecker health = new HealthChecker(holder, new DataplaneProbeChannel(dataplane), registry,
                () -> System.nanoTime() / 1_000_000, degradedWindowMillis);
        try {
            DataplaneMetrics.register(registry, dataplane, holder, config.node().name(), version());
            FlowMetrics.register(registry, flows, sweeper::flows, holder, dataplane);
            new OuterFragments(Path.of("/proc/net")).register(registry);
            OuterFragments.checkLimits(Path.of("/proc/sys"));
            health.apply(config);
            reloader = new Reloader(config, holder, registry, next -> {
                DataplaneMetrics.removeRetired(registry, holder.get());
                DataplaneMetrics.registerAdded(registry, dataplane, holder);
                FlowMetrics.registerAdded(registry, flows, sweeper::flows, holder, dataplane);
                health.apply(next);
            }, tunnelCapacity, virtualNetworkCapacity, dataplane);
            admin = AdminServer.start(config.admin().listen(),
                    new DaemonAdminApi(holder, dataplane, flows, sweeper, registry, reloader, health),
                    config.admin().token());
            FunctionCounter.builder("vnetd.admin.unauthorized", admin, AdminServer::unauthorizedRequests)
                    .description("admin API requests refused for a missing or wrong bearer token")
                    .register(registry);
        } catch (IOException | RuntimeException e) {
            health.close();
            dataplane.close();
            sweeper.close();
            flows.close();
            registry.close();
            throw e;
        }
        LOG.info("event=started node={} version={} transport={} workers={} listeners={} tunnels={} "
                        + "virtual_networks={} admin=http://{}:{}/metrics", config.node().name(), version(),
                transport.configName(), workers, state.listeners().length, state.tunnels().length,
                state.virtualNetworks().length, admin.address().getHostString(), admin.address().getPort());
        Daemon daemon = new Daemon(config, holder, dataplane, registry, admin, flows, sweeper, reloader, health);
        daemon.masque = MasqueService.start(config, holder, dataplane, registry, reloader::publishLearned);
        return daemon;
    }

    private static FlowTable openFlowTable(VnetdConfig.FlowTable config) throws IOException {
        if (config.persist() == null) {
            return FlowTable.allocate(config.capacity(), config.timeouts());
        }
        FlowTable table = FlowTable.mapped(config.persist(), config.capacity(), config.timeouts());
        LOG.info("event=flow_table_opened path={} capacity={} flows={} format_version={} found_format_version={}",
                config.persist(), config.capacity(), table.liveFlows(), FlowTable.FORMAT_VERSION,
                table.openedFormatVersion());
        return table;
    }

    /**
     * Reloads the configuration file the daemon was started with: validated first, nothing changes on failure
     * (see {@link Reloader} for what a reload applies).
     */
    public Reloader.Result reload() {
        return reloader.reload();
    }

    /** The MASQUE servers and clients. */
    public MasqueService masque() {
        return masque;
    }

    /** The flow table. */
    public FlowTable flows() {
        return flows;
    }

    /** vnetd's version, from the build. */
    public static String version() {
        try (InputStream in = Daemon.class.getResourceAsStream("build.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The configuration running. */
    public VnetdConfig config() {
        return config;
    }

    /** The forwarding state holder. */
    public ForwardingStateHolder stateHolder() {
        return holder;
    }

    /** The dataplane. */
    public Dataplane dataplane() {
        return dataplane;
    }

    /** The admin endpoint's bound address. */
    public InetSocketAddress adminAddress() {
        return admin.address();
    }

    /** Prometheus text of every metric, as /metrics serves it. */
    public String scrape() {
        return registry.scrape();
    }

    /** Stops accepting packets, lets in-flight batches finish and releases every socket. */
    @Override
    public void close() {
        admin.close();
        health.close();
        masque.close();
        dataplane.close();
        sweeper.close();
        if (dataplane.stopped()) {
            flows.close();
        } else {
            LOG.error("event=flow_table_left_open reason=\"workers still running after close; unmapping would crash "
                    + "them\"");
        }
        registry.close();
        LOG.info("event=stopped node={}", config.node().name());
    }
}
