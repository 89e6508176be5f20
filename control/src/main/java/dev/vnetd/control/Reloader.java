package dev.vnetd.control;

import dev.vnetd.control.config.ConfigError;
import dev.vnetd.control.config.ConfigException;
import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.config.VnetdConfig;
import dev.vnetd.control.config.VnetdConfig.ListenerConfig;
import dev.vnetd.control.config.VnetdConfig.SaConfig;
import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.transport.Dataplane;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Reloads the configuration of a running daemon (SIGHUP, {@code POST /api/v1/reload}, {@code vnetd reload}).
 *
 * <p>The new file is validated completely first; if it fails, nothing changes and every error is returned. A reload
 * applies what operators change many times a day without touching sockets or flows: routes, next hops, priorities
 * and weights, tunnel attributes (remote, key, MTU, ARR, interface addresses, SAs, health checks), added and removed
 * virtual networks and tunnels. Listeners, virtual networks and tunnels keep their identities (the ids flows and
 * counters are keyed by); added ones take the next ids, up to the capacity reserved at start, and ids are never
 * reused: a removed tunnel or virtual network stays as a retired entry of the state (see {@link ForwardingState}),
 * its flows' replies are dropped as {@code tunnel_removed} and the sweeper removes those flows. An added listener
 * opens its sockets on every worker before the new state is published (if one cannot open, the reload fails and
 * changes nothing); a removed one closes them after; a changed one (type, address, source ports) is both, under a new
 * id; unchanged listeners keep their sockets. Adding or removing a TUN attachment, adding, changing or removing a
 * MASQUE listener, or removing a MASQUE tunnel, is refused with the reason and needs a restart (flows survive it with
 * {@code flow_table.persist}). A tunnel whose SA configuration did not change keeps
 * its SA objects — sequence numbers and replay window — and every tunnel keeps its health. The new forwarding
 * state is published through the one volatile reference: workers see the old or the new state, never a mix.
 */
public final class Reloader {
    private static final Logger LOG = LoggerFactory.getLogger(Reloader.class);

    /**
     * What a reload did.
     *
     * @param success whether the new configuration is running
     * @param errors  why not: configuration errors as file:line:column, or the change that needs a restart
     */
    public record Result(boolean success, List<String> errors) {
    }

    /**
     * Least room for tunnels and virtual networks a reload may add: ids are handed out once and never reused, and the
     * workers' per-tunnel counters are sized at start, so the daemon reserves at least this many (or twice what it
     * starts with).
     */
    static final int MIN_CAPACITY = 256;

    private final Path path;
    private final ForwardingStateHolder holder;
    private final Counter successes;
    private final Counter failures;
    private volatile long lastSuccessMillis;
    private VnetdConfig current;
    private final Consumer<VnetdConfig> applied;
    private final int tunnelCapacity;
    private final int virtualNetworkCapacity;
    private final Dataplane sockets;
    private UnaryOperator<VnetdConfig> learned = UnaryOperator.identity();

    /**
     * A reloader of the daemon's configuration file.
     *
     * @param applied                told each configuration once it is published (health checks and metrics
     *                               follow it)
     * @param tunnelCapacity         tunnel ids the dataplane has room for ({@link #capacity})
     * @param virtualNetworkCapacity virtual network ids the flow sweeper has room for
     * @param sockets                the dataplane that opens added listeners and closes removed ones, and
     *                               connects the tunnels' remotes; null for a reloader of the state alone (tests
     *                               of files that change no listener)
     */
    Reloader(VnetdConfig current, ForwardingStateHolder holder, MeterRegistry registry,
             Consumer<VnetdConfig> applied, int tunnelCapacity, int virtualNetworkCapacity, Dataplane sockets) {
        this.sockets = sockets;
        this.tunnelCapacity = tunnelCapacity;
        this.virtualNetworkCapacity = virtualNetworkCapacity;
        this.applied = applied;
        this.current = current;
        this.holder = holder;
        this.path = current.source().equals(ConfigLoader.EMBEDDED_NAME) ? null : Path.of(current.source());
        this.successes = Counter.builder("vnetd.config.reloads").tag("result", "success")
                .description("configuration reloads").register(registry);
        this.failures = Counter.builder("vnetd.config.reloads").tag("result", "failure")
                .description("configuration reloads").register(registry);
        this.lastSuccessMillis = System.currentTimeMillis();
        Gauge.builder("vnetd.config.last.reload.success.timestamp", this, r -> r.lastSuccessMillis / 1000.0)
                .description("when the running configuration was loaded, in seconds since the epoch")
                .baseUnit("seconds")
                .register(registry);
    }

    /**
     * Least room for listener ids: a reload that adds or changes a listener takes a new id (never reused), and each
     * worker keeps a send port per id, so the daemon reserves at least this many (or twice what it starts with). 64
     * references per worker cost nothing, and an edge host has a handful of listeners.
     */
    static final int MIN_LISTENER_CAPACITY = 64;

    /** Room to reserve for {@code initial} listeners: twice, at least {@link #MIN_LISTENER_CAPACITY}. */
    static int listenerCapacity(int initial) {
        return Math.max(MIN_LISTENER_CAPACITY, 2 * initial);
    }

    /** Room to reserve for {@code initial} tunnels or virtual networks: twice, at least {@link #MIN_CAPACITY}. */
    static int capacity(int initial) {
        return Math.max(MIN_CAPACITY, 2 * initial);
    }

    /** Reloads the configuration file; one reload at a time. */
    synchronized Result reload() {
        if (path == null) {
            return fail(List.of("the embedded configuration cannot be reloaded; run with --config FILE"));
        }
        VnetdConfig next;
        try {
            next = ConfigLoader.load(path);
        } catch (ConfigException e) {
            return fail(e.errors().stream().map(ConfigError::toString).toList());
        }
        List<String> restart = new ArrayList<>(changesNeedingRestart(current, next));
        if (!restart.isEmpty()) {
            return fail(restart);
        }
        ForwardingState previous = holder.get();
        ForwardingState built = ForwardingStateBuilder.build(learned.apply(next), previous);
        if (built.tunnels().length > tunnelCapacity) {
            restart.add("more than " + tunnelCapacity + " tunnels since the start: adding these needs a restart");
        }
        if (built.virtualNetworks().length > virtualNetworkCapacity) {
            restart.add("more than " + virtualNetworkCapacity + " virtual networks since the start: adding these "
                    + "needs a restart");
        }
        if (built.listeners().length > previous.listeners().length
                && built.listeners().length > sockets.listenerCapacity()) {
            restart.add("more than " + sockets.listenerCapacity() + " listeners since the start (a changed listener "
                    + "counts again): adding these needs a restart");
        }
        if (!restart.isEmpty()) {
            return fail(restart);
        }
        List<Listener> added = Arrays.asList(built.listeners()).subList(previous.listeners().length,
                built.listeners().length);
        List<Listener> removed = Arrays.stream(previous.listeners())
                .filter(l -> !previous.retiredListener(l.id()) && built.retiredListener(l.id())).toList();
        List<Listener> opened = new ArrayList<>();
        for (Listener l : added) {
            try {
                sockets.openListener(l);
                opened.add(l);
            } catch (IOException | RuntimeException e) {
                closeAll(opened);
                return fail(List.of("listener '" + l.name() + "' (" + l.address() + ") cannot be opened: "
                        + e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closeAll(opened);
                return fail(List.of("interrupted while opening listener '" + l.name() + "'"));
            }
        }
        holder.publish(carryOver(built, previous, current, next));
        added.forEach(l -> sockets.startListener(l.id()));
        closeAll(removed);
        try {
            if (sockets != null) {
                sockets.connectRemotes(holder.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.error("event=connect_remotes_interrupted file={}", path);
        }
        current = next;
        applied.accept(next);
        lastSuccessMillis = System.currentTimeMillis();
        successes.increment();
        LOG.info("event=config_reloaded file={} tunnels={} routes={}", path, next.tunnels().size(),
                next.routes().size());
        return new Result(true, List.of());
    }

    /**
     * Publishes the running configuration with what the control plane learned at run time (MASQUE clients' assigned
     * addresses and advertised routes), for a learner whose knowledge changed; {@code learned} adds it, here and to
     * every configuration later reloads publish, so a reload keeps it. Under the reload lock: it never interleaves
     * with a reload, and always builds on the configuration the last reload applied, keeping ids, health and SA state.
     */
    public synchronized void publishLearned(UnaryOperator<VnetdConfig> learned) {
        this.learned = learned;
        ForwardingState previous = holder.get();
        ForwardingState built = ForwardingStateBuilder.build(learned.apply(current), previous);
        holder.publish(carryOver(built, previous, current, current));
    }

    /** Closes these listeners' sockets on every worker; a socket that will not close is logged, not fatal. */
    private void closeAll(List<Listener> listeners) {
        for (Listener l : listeners) {
            try {
                sockets.closeListener(l.id());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                LOG.error("event=listener_close_interrupted listener={}", l.name());
            }
        }
    }

    private Result fail(List<String> errors) {
        failures.increment();
        LOG.error("event=config_reload_failed file={} errors={} first=\"{}\"", path, errors.size(), errors.getFirst());
        return new Result(false, errors);
    }

    /** What the new configuration changes that this reload cannot apply in place. */
    static List<String> changesNeedingRestart(VnetdConfig running, VnetdConfig next) {
        List<String> problems = new ArrayList<>();
        Map<String, ListenerConfig> listeners = byName(running.listeners(), ListenerConfig::name);
        Map<String, ListenerConfig> nextListeners = byName(next.listeners(), ListenerConfig::name);
        for (ListenerConfig l : next.listeners()) {
            ListenerConfig old = listeners.get(l.name());
            boolean same = old != null && old.type() == l.type() && old.address().equals(l.address())
                    && old.sourcePorts() == l.sourcePorts();
            if ((l.type().masque() || old != null && old.type().masque()) && !same) {
                problems.add("MASQUE listener '" + l.name() + "' is new or changed: that needs a restart");
            }
        }
        for (ListenerConfig l : running.listeners()) {
            if (!nextListeners.containsKey(l.name()) && l.type().masque()) {
                problems.add("MASQUE listener '" + l.name() + "' is gone: removing it needs a restart");
            }
        }
        Map<String, TunnelConfig> runningTunnels = byName(running.tunnels(), TunnelConfig::name);
        Map<String, TunnelConfig> nextTunnels = byName(next.tunnels(), TunnelConfig::name);
        for (TunnelConfig t : running.tunnels()) {
            if (!nextTunnels.containsKey(t.name()) && t.tun() != null) {
                problems.add("tun attachment '" + t.name() + "' is gone: removing a tun attachment (a device to "
                        + "close) needs a restart");
            } else if (!nextTunnels.containsKey(t.name()) && masque(running, t)) {
                problems.add("MASQUE tunnel '" + t.name() + "' is gone: removing a MASQUE tunnel needs a restart");
            }
        }
        for (TunnelConfig t : next.tunnels()) {
            TunnelConfig old = runningTunnels.get(t.name());
            if (old == null && t.tun() != null) {
                problems.add("tun attachment '" + t.name() + "' is new: adding a tun attachment (a device to open) "
                        + "needs a restart");
            }
            if (old != null && (!Objects.equals(old.tun(), t.tun()) || t.tun() != null && old.mtu() != t.mtu())) {
                problems.add("tunnel '" + t.name() + "' changed its tun device, addresses, host routes or MTU, or "
                        + "became or stopped being a tun attachment: that needs a restart");
            }
        }
        if (!running.node().equals(next.node()) || !running.admin().equals(next.admin())
                || !running.flowTable().equals(next.flowTable())) {
            problems.add("node, admin or flow_table changed: those settings need a restart");
        }
        return problems;
    }

    private static boolean masque(VnetdConfig config, TunnelConfig tunnel) {
        return config.listeners().stream().anyMatch(l -> l.name().equals(tunnel.listener()) && l.type().masque());
    }

    /**
     * The built state with every running tunnel's health and its SAs where their configuration did not change; added
     * tunnels (the ids after the running ones) start healthy with new SAs.
     */
    private static ForwardingState carryOver(ForwardingState built, ForwardingState previous, VnetdConfig running,
                                             VnetdConfig next) {
        Map<String, TunnelConfig> runningTunnels = byName(running.tunnels(), TunnelConfig::name);
        Map<String, TunnelConfig> nextTunnels = byName(next.tunnels(), TunnelConfig::name);
        Tunnel[] tunnels = built.tunnels().clone();
        TunnelHealth health = new TunnelHealth(tunnels.length);
        for (int id = 0; id < previous.tunnels().length; id++) {
            Tunnel t = tunnels[id];
            Tunnel old = previous.tunnels()[id];
            health.state(id, previous.health().state(id));
            if (!built.retiredTunnel(id) && t.sas() != null
                    && sameSa(runningTunnels.get(t.name()).sa(), nextTunnels.get(t.name()).sa())) {
                tunnels[id] = new Tunnel(t.id(), t.name(), t.listener(), t.remote(), t.key(), t.virtualNetwork(),
                        t.mtu(), t.arr(), t.icmpSourceV4(), t.icmpSourceV6High(), t.icmpSourceV6Low(), old.sas(),
                        t.mssClamp(), t.maxFlows());
            }
        }
        return new ForwardingState(built.listeners(), tunnels, built.virtualNetworks(), built.tunnelIndex(), health,
                built.retiredListeners(), built.retiredTunnels(), built.retiredVirtualNetworks());
    }

    private static boolean sameSa(SaConfig a, SaConfig b) {
        return a != null && b != null && a.transform() == b.transform() && a.inboundSpi() == b.inboundSpi()
                && a.outboundSpi() == b.outboundSpi() && a.replayWindow() == b.replayWindow() && a.esn() == b.esn()
                && a.inboundKey().sameAs(b.inboundKey()) && a.outboundKey().sameAs(b.outboundKey());
    }

    private static <T> Map<String, T> byName(List<T> items, Function<T, String> name) {
        return items.stream().collect(Collectors.toMap(name, Function.identity()));
    }
}
