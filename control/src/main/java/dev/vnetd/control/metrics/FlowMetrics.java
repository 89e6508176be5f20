package dev.vnetd.control.metrics;

import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.dataplane.transport.Dataplane;
import dev.vnetd.flowtable.EvictionReason;
import dev.vnetd.flowtable.FlowTable;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.function.IntToLongFunction;

/**
 * The flow table's and ARR's metrics: {@code vnetd_flows{vn}}, {@code vnetd_flow_table_capacity},
 * {@code vnetd_flow_inserts_total}, {@code vnetd_flow_evictions_total{reason}}, {@code vnetd_flow_table_full_total},
 * {@code vnetd_arr_returns_total{tunnel}}, {@code vnetd_arr_port_translations_total},
 * {@code vnetd_flow_collisions_total}, {@code vnetd_flow_failovers_total}, {@code vnetd_tunnel_flows{tunnel}},
 * {@code vnetd_flow_quota_refusals_total{tunnel}}.
 * Every object read here is kept reachable by the daemon (Micrometer holds them weakly).
 */
public final class FlowMetrics {
    private FlowMetrics() {
    }

    /** Registers the flow metrics; {@code flowsPerVn} gives the live flows of a virtual network id. */
    public static void register(MeterRegistry registry, FlowTable flows, IntToLongFunction flowsPerVn,
                                ForwardingStateHolder holder, Dataplane dataplane) {
        registerAdded(registry, flows, flowsPerVn, holder, dataplane);
        Gauge.builder("vnetd.flow.table.capacity", flows, FlowTable::capacity)
                .description("flows the table can hold")
                .register(registry);
        FunctionCounter.builder("vnetd.flow.inserts", flows, FlowTable::inserts)
                .description("flows created")
                .register(registry);
        for (EvictionReason reason : EvictionReason.values()) {
            FunctionCounter.builder("vnetd.flow.evictions", flows, f -> f.evictions(reason))
                    .description("flows removed before their end, by reason")
                    .tags("reason", reason.label())
                    .register(registry);
        }
        FunctionCounter.builder("vnetd.flow.table.full", flows, FlowTable::tableFullRefusals)
                .description("new flows refused because the table was full")
                .register(registry);
        DataplaneMetrics.counter(registry, "vnetd.arr.port.translations", null,
                "flows opened under a translated source port: their 5-tuple was another tunnel's flow", dataplane,
                WorkerCounters::portTranslations);
        DataplaneMetrics.counter(registry, "vnetd.flow.collisions", null,
                "packets matching another tunnel's flow that could not be translated (routed by the FIB)", dataplane,
                WorkerCounters::flowCollisions);
        DataplaneMetrics.counter(registry, "vnetd.flow.failovers", null,
                "flows moved off a pinned next hop that went down", dataplane, WorkerCounters::flowFailovers);
    }

    /**
     * Registers the per-virtual-network and per-tunnel flow metrics of the published state; those already registered
     * stay as they are, so after a reload this adds the meters of added virtual networks and tunnels.
     */
    public static void registerAdded(MeterRegistry registry, FlowTable flows, IntToLongFunction flowsPerVn,
                                     ForwardingStateHolder holder, Dataplane dataplane) {
        for (VirtualNetwork vn : holder.get().liveVirtualNetworks()) {
            int id = vn.id();
            Gauge.builder("vnetd.flows", () -> flowsPerVn.applyAsLong(id))
                    .description("live flows of the virtual network at the last sweep")
                    .tags("vn", vn.name())
                    .register(registry);
        }
        for (Tunnel t : holder.get().liveTunnels()) {
            int id = t.id();
            DataplaneMetrics.counter(registry, "vnetd.arr.returns", null,
                    "replies sent back to the tunnel that started their flow", dataplane, w -> w.arrReturns(id),
                    "tunnel", t.name());
            Gauge.builder("vnetd.tunnel.flows", flows, f -> f.liveFlows(id))
                    .description("live ARR flows the tunnel opened (limited by its max_flows)")
                    .tags("tunnel", t.name())
                    .register(registry);
            DataplaneMetrics.counter(registry, "vnetd.flow.quota.refusals", null,
                    "new flows refused because the tunnel held its max_flows", dataplane,
                    w -> w.flowQuotaRefusals(id), "tunnel", t.name());
        }
    }
}
