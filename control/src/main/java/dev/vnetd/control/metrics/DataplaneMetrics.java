package dev.vnetd.control.metrics;

import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.dataplane.transport.Dataplane;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Registers vnetd's metrics:
 * <ul>
 *   <li>{@code vnetd_rx_packets_total{listener,tunnel}}, {@code vnetd_rx_bytes_total}, {@code vnetd_tx_packets_total},
 *       {@code vnetd_tx_bytes_total}: tunnel traffic, outer datagram payload bytes</li>
 *   <li>{@code vnetd_drops_total{reason}}: every drop, by {@link DropReason}</li>
 *   <li>{@code vnetd_icmp_errors_total{result="sent|rate_limited"}}</li>
 *   <li>{@code vnetd_mss_clamped_total}: TCP SYNs and SYN-ACKs whose MSS option was lowered</li>
 *   <li>{@code vnetd_tunnel_state{tunnel}}: 1 healthy, 0.5 degraded, 0 down</li>
 *   <li>{@code vnetd_tunnel_peer_unreachable_total{tunnel}}: ICMP errors the kernel reported for packets sent to
 *   the tunnel's remote (UDP and raw-socket listeners on epoll and io_uring): a vanished or unreachable peer</li>
 *   <li>{@code vnetd_listener_up{listener,type}}: 1 when every worker has its socket</li>
 *   <li>{@code vnetd_socket_receive_drops_total{listener}}: datagrams the kernel dropped at its receive buffers</li>
 *   <li>{@code vnetd_listener_connected_remotes{listener}}: remotes it sends to from sockets connected to them</li>
 *   <li>{@code vnetd_routes{virtual_network,family}}, {@code vnetd_workers}, {@code vnetd_build_info{version,node,transport}}</li>
 *   <li>JVM metrics (memory, GC, threads, class loading, CPU, uptime)</li>
 * </ul>
 *
 * Micrometer holds the objects its function counters and gauges read only weakly, so every meter reads through an
 * object the daemon keeps for its lifetime (the dataplane, the state holder), never through a temporary.
 */
public final class DataplaneMetrics {
    /** The meters {@link #registerAdded} and {@link FlowMetrics#registerAdded} register per tunnel. */
    private static final List<String> TUNNEL_METERS = List.of("vnetd.rx.packets", "vnetd.rx.bytes",
            "vnetd.tx.packets", "vnetd.tx.bytes", "vnetd.tunnel.state", "vnetd.arr.returns", "vnetd.tunnel.flows",
            "vnetd.flow.quota.refusals", "vnetd.tunnel.peer.unreachable");

    private DataplaneMetrics() {
    }

    /** Registers every metric of a running dataplane in {@code registry}. */
    public static void register(MeterRegistry registry, Dataplane dataplane, ForwardingStateHolder holder,
                                String nodeName, String version) {
        registerAdded(registry, dataplane, holder);
        for (DropReason reason : DropReason.values()) {
            counter(registry, "vnetd.drops", null, reason.description(), dataplane, w -> w.drops(reason),
                    "reason", reason.metricName());
        }
        counter(registry, "vnetd.icmp.errors", null, "ICMP errors vnetd generated", dataplane,
                WorkerCounters::icmpErrorsSent, "result", "sent");
        counter(registry, "vnetd.icmp.errors", null, "ICMP errors vnetd generated", dataplane,
                WorkerCounters::icmpErrorsRateLimited, "result", "rate_limited");
        counter(registry, "vnetd.mss.clamped", null, "TCP SYNs whose MSS was lowered to a tunnel's mss_clamp",
                dataplane, WorkerCounters::mssClampedTotal);
        Gauge.builder("vnetd.workers", dataplane, Dataplane::workers)
                .description("dataplane worker threads")
                .register(registry);
        Gauge.builder("vnetd.build.info", () -> 1)
                .description("build and runtime information")
                .tags("version", version, "node", nodeName, "transport", dataplane.transport().configName(),
                        "java", Runtime.version().toString())
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /**
     * Registers the per-tunnel and per-virtual-network metrics of the published state; those already registered stay
     * as they are, so after a reload this adds the meters of added tunnels and virtual networks. Route counts are
     * read through the holder, so they follow reloads.
     */
    public static void registerAdded(MeterRegistry registry, Dataplane dataplane, ForwardingStateHolder holder) {
        for (Listener l : holder.get().liveListeners()) {
            int id = l.id();
            Gauge.builder("vnetd.listener.up", dataplane, d -> d.listenerErrors()[id] == null ? 1 : 0)
                    .description("1 when the listener's socket is open on every worker")
                    .tags("listener", l.name(), "type", l.type().configName())
                    .register(registry);
            FunctionCounter.builder("vnetd.socket.receive.drops", dataplane, d -> d.socketReceiveDrops(id))
                    .description("datagrams the kernel dropped at the listener's full receive buffers, before vnetd")
                    .tags("listener", l.name())
                    .register(registry);
            Gauge.builder("vnetd.listener.connected.remotes", dataplane, d -> d.connectedRemotes(id))
                    .description("tunnel remotes the listener sends to from sockets connected to them")
                    .tags("listener", l.name())
                    .register(registry);
        }
        for (Tunnel t : holder.get().liveTunnels()) {
            int id = t.id();
            String listener = t.listener().name();
            counter(registry, "vnetd.rx.packets", null, "packets received from the tunnel", dataplane,
                    w -> w.rxPackets(id), "listener", listener, "tunnel", t.name());
            counter(registry, "vnetd.rx.bytes", "bytes", "bytes received from the tunnel (outer payload)", dataplane,
                    w -> w.rxBytes(id), "listener", listener, "tunnel", t.name());
            counter(registry, "vnetd.tx.packets", null, "packets sent into the tunnel", dataplane,
                    w -> w.txPackets(id), "listener", listener, "tunnel", t.name());
            counter(registry, "vnetd.tx.bytes", "bytes", "bytes sent into the tunnel (outer payload)", dataplane,
                    w -> w.txBytes(id), "listener", listener, "tunnel", t.name());
            counter(registry, "vnetd.tunnel.peer.unreachable", null,
                    "ICMP errors (port, host or network unreachable) reported for packets sent to the tunnel's remote",
                    dataplane, w -> w.peerUnreachables(id), "tunnel", t.name());
            Gauge.builder("vnetd.tunnel.state", holder, h -> stateValue(h.get().health(), id))
                    .description("tunnel health: 1 healthy, 0.5 degraded, 0 down")
                    .tags("tunnel", t.name())
                    .register(registry);
        }
        for (VirtualNetwork vn : holder.get().liveVirtualNetworks()) {
            int id = vn.id();
            Gauge.builder("vnetd.routes", holder, h -> h.get().virtualNetworks()[id].ipv4().size())
                    .description("prefixes in the virtual network's routing table")
                    .tags("virtual_network", vn.name(), "family", "ipv4")
                    .register(registry);
            Gauge.builder("vnetd.routes", holder, h -> h.get().virtualNetworks()[id].ipv6().size())
                    .description("prefixes in the virtual network's routing table")
                    .tags("virtual_network", vn.name(), "family", "ipv6")
                    .register(registry);
        }
    }

    /**
     * Removes the per-listener, per-tunnel and per-virtual-network meters ({@link #registerAdded} here and in
     * {@link FlowMetrics#registerAdded}) of every tunnel and virtual network {@code state} retired, so a removed
     * tunnel disappears from {@code /metrics}; call {@link #registerAdded} after it, which registers a tunnel removed
     * and added again under the same name anew, reading its new id. Health-probe counters stay, frozen.
     */
    public static void removeRetired(MeterRegistry registry, ForwardingState state) {
        for (Listener l : state.listeners()) {
            if (state.retiredListener(l.id())) {
                registry.find("vnetd.listener.up").tag("listener", l.name()).meters().forEach(registry::remove);
                registry.find("vnetd.socket.receive.drops").tag("listener", l.name()).meters()
                        .forEach(registry::remove);
                registry.find("vnetd.listener.connected.remotes").tag("listener", l.name()).meters()
                        .forEach(registry::remove);
            }
        }
        for (Tunnel t : state.tunnels()) {
            if (state.retiredTunnel(t.id())) {
                for (String name : TUNNEL_METERS) {
                    registry.find(name).tag("tunnel", t.name()).meters().forEach(registry::remove);
                }
            }
        }
        for (VirtualNetwork vn : state.virtualNetworks()) {
            if (state.retiredVirtualNetwork(vn.id())) {
                registry.find("vnetd.routes").tag("virtual_network", vn.name()).meters().forEach(registry::remove);
                registry.find("vnetd.flows").tag("vn", vn.name()).meters().forEach(registry::remove);
            }
        }
    }

    private static double stateValue(TunnelHealth health, int tunnel) {
        return switch (health.state(tunnel)) {
            case TunnelHealth.DEGRADED -> 0.5;
            case TunnelHealth.DOWN -> 0.0;
            default -> 1.0;
        };
    }

    /** A counter summing {@code read} over the dataplane's workers at scrape time. */
    static void counter(MeterRegistry registry, String name, String baseUnit, String description,
                        Dataplane dataplane, ToLongFunction<WorkerCounters> read, String... tags) {
        FunctionCounter.builder(name, dataplane, d -> {
            long sum = 0;
            for (WorkerCounters w : d.counters()) {
                sum += read.applyAsLong(w);
            }
            return sum;
        }).baseUnit(baseUnit).description(description).tags(tags).register(registry);
    }
}
