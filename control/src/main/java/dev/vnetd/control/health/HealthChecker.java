package dev.vnetd.control.health;

import dev.vnetd.control.config.VnetdConfig;
import dev.vnetd.control.config.VnetdConfig.HealthCheckConfig;
import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Tunnel;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Runs a daemon's tunnel health checks on a thread of its own ({@code vnetd-health}), never on a worker: every
 * {@link #TICK_MILLIS} it ticks each checked tunnel's {@link TunnelProber} and writes a changed state into the
 * current forwarding state's {@link TunnelHealth}, which the workers' next-hop selection reads (degraded +500000,
 * down +1000000 to the route's priority). State changes are logged as {@code event=tunnel_state}; probe results are
 * counted as {@code vnetd_tunnel_probes_total{tunnel,result}}.
 *
 * <p>Every piece of checking state belongs to that thread; {@link #apply} hands the new configuration over to it.
 * The state is written again whenever the published {@link TunnelHealth} disagrees, so a reload that copies the
 * health array while a state changes loses nothing.
 */
public final class HealthChecker implements AutoCloseable {
    /**
     * Period of the checker's loop: results are read and probes sent at this granularity; 25 ms is small against
     * the 300 ms probe timeout and the 250 ms of the fastest rate, and 40 wake-ups a second cost nothing.
     */
    public static final long TICK_MILLIS = 25;
    /**
     * Delay of a new check's first probe: 1 s lets a starting daemon finish starting (class loading, the first
     * packets through cold code) before a probe's 300 ms timeout is measured; probing at once made every tunnel of a
     * daemon started on a loaded host fail its first probes, go down and stay degraded for five minutes.
     */
    public static final long FIRST_PROBE_DELAY_MILLIS = 1_000;

    private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);

    private record Check(HealthCheckConfig config, int tunnel, TunnelProber prober) {
    }

    private final ForwardingStateHolder holder;
    private final ProbeChannel channel;
    private final MeterRegistry registry;
    private final LongSupplier clockMillis;
    private final long degradedWindowMillis;
    private final ScheduledExecutorService executor;
    private final Map<String, Check> checks = new HashMap<>();
    private final Map<String, AtomicLong[]> counts = new HashMap<>();
    private final Map<String, Status> statuses = new ConcurrentHashMap<>();

    /**
     * A tunnel's health check as the admin API shows it.
     *
     * @param config    the check
     * @param successes probes answered so far
     * @param failures  probes timed out so far
     */
    public record Status(HealthCheckConfig config, AtomicLong successes, AtomicLong failures) {
    }

    /**
     * A checker, idle until {@link #apply} gives it a configuration.
     *
     * @param holder               where the workers' forwarding state (and its tunnel health) is published
     * @param channel              where probes go
     * @param registry             where probe counters are registered
     * @param clockMillis          a monotonic clock in milliseconds
     * @param degradedWindowMillis the degraded rule's window ({@link HealthStateMachine#DEGRADED_WINDOW_MILLIS})
     */
    public HealthChecker(ForwardingStateHolder holder, ProbeChannel channel, MeterRegistry registry,
                         LongSupplier clockMillis, long degradedWindowMillis) {
        this.holder = holder;
        this.channel = channel;
        this.registry = registry;
        this.clockMillis = clockMillis;
        this.degradedWindowMillis = degradedWindowMillis;
        this.executor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("vnetd-health").daemon().factory());
        executor.scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Applies the health checks of {@code config} (at start and after each reload): a new or changed check starts
     * afresh, an unchanged one keeps its state and history, a removed or disabled one stops and leaves its tunnel
     * healthy. Tunnels are found by name in the published forwarding state. Returns once applied.
     */
    public void apply(VnetdConfig config) {
        try {
            executor.submit(() -> applyNow(config)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException("applying health checks failed", e.getCause());
        }
    }

    private void applyNow(VnetdConfig config) {
        Map<String, HealthCheckConfig> wanted = new HashMap<>();
        for (TunnelConfig t : config.tunnels()) {
            if (t.healthCheck() != null && t.healthCheck().enabled()) {
                wanted.put(t.name(), t.healthCheck());
            }
        }
        for (Iterator<Map.Entry<String, Check>> it = checks.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Check> e = it.next();
            if (!sameCheck(e.getValue().config(), wanted.get(e.getKey()))) {
                int tunnel = e.getValue().tunnel();
                channel.watch(tunnel, 0);
                holder.get().health().state(tunnel, TunnelHealth.HEALTHY);
                it.remove();
                statuses.remove(e.getKey());
                LOG.info("event=health_check_stopped tunnel={}", e.getKey());
            }
        }
        long now = clockMillis.getAsLong();
        for (Map.Entry<String, HealthCheckConfig> e : wanted.entrySet()) {
            String name = e.getKey();
            HealthCheckConfig hc = e.getValue();
            Tunnel tunnel = holder.get().tunnel(name);
            if (checks.containsKey(name) || tunnel == null) {
                continue;
            }
            AtomicLong[] tunnelCounts = counts.computeIfAbsent(name, this::registerCounters);
            int local = Tunnel.ipv4ToInt(hc.local());
            channel.watch(tunnel.id(), local);
            TunnelProber prober = new TunnelProber(tunnel.id(), hc.request(), Tunnel.ipv4ToInt(hc.target()),
                    hc.interval().toMillis(), new HealthStateMachine(degradedWindowMillis), channel,
                    tunnelCounts[0], tunnelCounts[1], now + FIRST_PROBE_DELAY_MILLIS);
            checks.put(name, new Check(hc, tunnel.id(), prober));
            statuses.put(name, new Status(hc, tunnelCounts[0], tunnelCounts[1]));
            holder.get().health().state(tunnel.id(), TunnelHealth.HEALTHY);
            LOG.info("event=health_check_started tunnel={} type={} local={} target={} rate={}", name,
                    hc.request() ? "request" : "reply", hc.local().getHostAddress(), hc.target().getHostAddress(),
                    hc.rate());
        }
    }

    private static boolean sameCheck(HealthCheckConfig a, HealthCheckConfig b) {
        return b != null && a.request() == b.request() && a.local().equals(b.local())
                && a.target().equals(b.target()) && Objects.equals(a.interval(), b.interval());
    }

    private AtomicLong[] registerCounters(String tunnel) {
        AtomicLong[] pair = {new AtomicLong(), new AtomicLong()};
        FunctionCounter.builder("vnetd.tunnel.probes", pair[0], AtomicLong::get)
                .description("tunnel health probes by result").tags("tunnel", tunnel, "result", "success")
                .register(registry);
        FunctionCounter.builder("vnetd.tunnel.probes", pair[1], AtomicLong::get)
                .description("tunnel health probes by result").tags("tunnel", tunnel, "result", "failure")
                .register(registry);
        return pair;
    }

    private void tick() {
        try {
            long now = clockMillis.getAsLong();
            for (Map.Entry<String, Check> e : checks.entrySet()) {
                Check check = e.getValue();
                int before = check.prober().state();
                check.prober().tick(now);
                int after = check.prober().state();
                if (after != before) {
                    HealthStateMachine m = check.prober().machine();
                    String line = "event=tunnel_state tunnel={} from={} to={} window_probes={} window_failures={}";
                    if (after == TunnelHealth.DOWN) {
                        LOG.warn(line, e.getKey(), stateName(before), stateName(after), m.windowProbes(),
                                m.windowFailures());
                    } else {
                        LOG.info(line, e.getKey(), stateName(before), stateName(after), m.windowProbes(),
                                m.windowFailures());
                    }
                }
                TunnelHealth health = holder.get().health();
                if (check.tunnel() < health.size() && health.state(check.tunnel()) != after) {
                    health.state(check.tunnel(), after);
                }
            }
        } catch (RuntimeException e) {
            LOG.error("event=health_check_failed error=\"{}\"", e.toString());
        }
    }

    /** The running health check of {@code tunnel}, or null when it has none. Any thread. */
    public Status status(String tunnel) {
        return statuses.get(tunnel);
    }

    /** The name of a {@link TunnelHealth} state, as logs and the admin API show it. */
    public static String stateName(int state) {
        return switch (state) {
            case TunnelHealth.DEGRADED -> "degraded";
            case TunnelHealth.DOWN -> "down";
            default -> "healthy";
        };
    }

    /** Stops probing; the tunnels keep the state they had. */
    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Check check : checks.values()) {
            channel.watch(check.tunnel(), 0);
        }
    }
}
