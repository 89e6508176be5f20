package dev.vnetd.control;

import dev.vnetd.control.admin.AdminApi;
import dev.vnetd.control.admin.FlowListing;
import dev.vnetd.control.admin.JsonWriter;
import dev.vnetd.control.admin.TextTable;
import dev.vnetd.control.health.HealthChecker;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Route;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.dataplane.transport.Dataplane;
import dev.vnetd.dataplane.transport.masque.MasqueSession;
import dev.vnetd.flowtable.FlowTable;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/** The admin API of a running daemon, read from its forwarding state, workers' counters and flow table. */
final class DaemonAdminApi implements AdminApi {
    private final ForwardingStateHolder holder;
    private final Dataplane dataplane;
    private final FlowTable flows;
    private final FlowSweeper sweeper;
    private final PrometheusMeterRegistry registry;
    private final Reloader reloader;
    private final HealthChecker health;

    DaemonAdminApi(ForwardingStateHolder holder, Dataplane dataplane, FlowTable flows, FlowSweeper sweeper,
                   PrometheusMeterRegistry registry, Reloader reloader, HealthChecker health) {
        this.health = health;
        this.reloader = reloader;
        this.holder = holder;
        this.dataplane = dataplane;
        this.flows = flows;
        this.sweeper = sweeper;
        this.registry = registry;
    }

    @Override
    public String metrics() {
        return registry.scrape();
    }

    @Override
    public String health() {
        return dataplane.workersAlive() ? null : "dataplane workers stopped";
    }

    @Override
    public String ready() {
        String[] errors = dataplane.listenerErrors();
        List<String> problems = new ArrayList<>();
        for (Listener l : holder.get().liveListeners()) {
            if (errors[l.id()] != null) {
                problems.add("listener " + l.name() + ": " + errors[l.id()]);
            }
        }
        return problems.isEmpty() ? null : String.join("\n", problems);
    }

    private long sum(ToLongFunction<WorkerCounters> read) {
        long total = 0;
        for (WorkerCounters w : dataplane.counters()) {
            total += read.applyAsLong(w);
        }
        return total;
    }

    private static String stateName(int state) {
        return switch (state) {
            case TunnelHealth.DEGRADED -> "degraded";
            case TunnelHealth.DOWN -> "down";
            default -> "healthy";
        };
    }

    @Override
    public Response tunnels(boolean text) {
        ForwardingState state = holder.get();
        JsonWriter json = new JsonWriter().beginObject().name("tunnels").beginArray();
        TextTable table = new TextTable("TUNNEL", "TYPE", "REMOTE", "KEY", "VN", "STATE", "ARR", "RX_PKTS", "TX_PKTS",
                "RX_BYTES", "TX_BYTES");
        for (Tunnel t : state.liveTunnels()) {
            int id = t.id();
            String vn = state.virtualNetworks()[t.virtualNetwork()].name();
            String health = stateName(state.health().state(id));
            boolean masque = t.listener().type().masque();
            MasqueSession session = masque ? dataplane.masqueSessions().session(id) : null;
            String remote = remote(t, session);
            long rxPackets = sum(w -> w.rxPackets(id));
            long txPackets = sum(w -> w.txPackets(id));
            long rxBytes = sum(w -> w.rxBytes(id));
            long txBytes = sum(w -> w.txBytes(id));
            table.row(t.name(), t.listener().type().configName(), remote == null ? "-" : remote,
                    t.hasKey() ? t.key() : "-", vn, health, t.arr() ? "yes" : "no", rxPackets, txPackets, rxBytes,
                    txBytes);
            json.beginObject().field("name", t.name()).field("type", t.listener().type().configName())
                    .field("listener", t.listener().name()).field("remote", remote)
                    .name("key").value(t.hasKey() ? Long.toString(t.key()) : null)
                    .field("virtual_network", vn).field("mtu", t.mtu()).field("arr", t.arr()).field("state", health)
                    .field("rx_packets", rxPackets).field("rx_bytes", rxBytes).field("tx_packets", txPackets)
                    .field("tx_bytes", txBytes).field("arr_returns", sum(w -> w.arrReturns(id)));
            if (masque) {
                json.field("session", session != null && session.open());
            }
            HealthChecker.Status check = this.health.status(t.name());
            json.name("health_check");
            if (check == null) {
                json.value(null);
            } else {
                json.beginObject().field("type", check.config().request() ? "request" : "reply")
                        .field("local", check.config().local().getHostAddress())
                        .field("target", check.config().target().getHostAddress())
                        .field("rate", check.config().rate())
                        .field("probes_success", check.successes().get())
                        .field("probes_failure", check.failures().get()).endObject();
            }
            json.endObject();
        }
        return text ? Response.text(table.toString()) : Response.json(json.endArray().endObject().toString());
    }

    /**
     * The far end shown for a tunnel: a TUN attachment's device (its listener), a server-side MASQUE tunnel's
     * connected client (null while none is), else the configured remote.
     */
    private static String remote(Tunnel t, MasqueSession session) {
        if (t.tun()) {
            return t.listener().name();
        }
        InetSocketAddress address = t.remote();
        if (t.listener().type() == ListenerType.MASQUE) {
            address = session == null || !session.open() ? null : session.peerAddress();
            if (address == null) {
                return null;
            }
        }
        return address.getAddress().getHostAddress() + (address.getPort() == 0 ? "" : ":" + address.getPort());
    }

    @Override
    public Response routes(String vnName, boolean text) {
        ForwardingState state = holder.get();
        if (vnName == null) {
            return Response.error(400, "vn is required: /api/v1/routes?vn=NAME");
        }
        VirtualNetwork vn = state.virtualNetwork(vnName);
        if (vn == null) {
            return Response.error(404, "unknown virtual network");
        }
        JsonWriter json = new JsonWriter().beginObject().field("virtual_network", vn.name())
                .name("fallback").value(vn.fallback() < 0 ? null : state.virtualNetworks()[vn.fallback()].name())
                .name("routes").beginArray();
        TextTable table = new TextTable("PREFIX", "VIA", "PRIORITY", "WEIGHT", "STATE", "EFFECTIVE_PRIORITY");
        for (Route route : vn.routes()) {
            NextHopGroup group = route.group();
            json.beginObject().field("prefix", route.prefix()).name("next_hops").beginArray();
            for (int i = 0; i < group.size(); i++) {
                int tunnel = group.tunnel(i);
                String name = state.tunnels()[tunnel].name();
                String health = stateName(state.health().state(tunnel));
                long effective = (long) group.priority(i) + state.health().penalty(tunnel);
                table.row(i == 0 ? route.prefix() : "", name, group.priority(i), group.weight(i), health, effective);
                json.beginObject().field("tunnel", name).field("priority", group.priority(i))
                        .field("weight", group.weight(i)).field("state", health)
                        .field("effective_priority", effective).endObject();
            }
            json.endArray().endObject();
        }
        return text ? Response.text(table.toString()) : Response.json(json.endArray().endObject().toString());
    }

    @Override
    public Response virtualNetworks(boolean text) {
        ForwardingState state = holder.get();
        JsonWriter json = new JsonWriter().beginObject().name("virtual_networks").beginArray();
        TextTable table = new TextTable("VN", "FALLBACK", "IPV4_ROUTES", "IPV6_ROUTES", "TUNNELS", "ARR", "FLOWS");
        for (VirtualNetwork vn : state.liveVirtualNetworks()) {
            String fallback = vn.fallback() < 0 ? null : state.virtualNetworks()[vn.fallback()].name();
            long tunnels = state.liveTunnels().stream().filter(t -> t.virtualNetwork() == vn.id()).count();
            long flowCount = sweeper.flows(vn.id());
            table.row(vn.name(), fallback == null ? "-" : fallback, vn.ipv4().size(), vn.ipv6().size(), tunnels,
                    vn.arr() ? "yes" : "no", flowCount);
            json.beginObject().field("name", vn.name()).name("fallback").value(fallback)
                    .field("ipv4_routes", vn.ipv4().size()).field("ipv6_routes", vn.ipv6().size())
                    .field("tunnels", tunnels).field("arr", vn.arr()).field("flows", flowCount).endObject();
        }
        return text ? Response.text(table.toString()) : Response.json(json.endArray().endObject().toString());
    }

    @Override
    public Response flows(String vnName, int limit, boolean text) {
        ForwardingState state = holder.get();
        int vn = -1;
        if (vnName != null) {
            VirtualNetwork network = state.virtualNetwork(vnName);
            if (network == null) {
                return Response.error(404, "unknown virtual network");
            }
            vn = network.id();
        }
        return FlowListing.list(flows, state, vn, limit, System.currentTimeMillis(), text);
    }

    @Override
    public Response reload(boolean text) {
        Reloader.Result result = reloader.reload();
        if (text) {
            String body = result.success() ? "reloaded\n" : String.join("\n", result.errors()) + "\n";
            return new Response(result.success() ? 200 : 422, "text/plain; charset=utf-8", body);
        }
        JsonWriter json = new JsonWriter().beginObject().field("result", result.success() ? "success" : "failure")
                .name("errors").beginArray();
        result.errors().forEach(json::value);
        return new Response(result.success() ? 200 : 422, "application/json",
                json.endArray().endObject().toString());
    }

    @Override
    public Response stat() {
        ForwardingState state = holder.get();
        StringBuilder out = new StringBuilder();
        long rx = 0;
        long tx = 0;
        for (Tunnel t : state.tunnels()) {
            int id = t.id();
            rx += sum(w -> w.rxPackets(id));
            tx += sum(w -> w.txPackets(id));
        }
        out.append("rx_packets ").append(rx).append('\n');
        out.append("tx_packets ").append(tx).append('\n');
        for (DropReason reason : DropReason.values()) {
            out.append("drops.").append(reason.metricName()).append(' ').append(sum(w -> w.drops(reason)))
                    .append('\n');
        }
        out.append("flows ").append(flows.liveFlows()).append('\n');
        out.append("flow_capacity ").append(flows.capacity()).append('\n');
        return Response.text(out.toString());
    }
}
