package dev.vnetd.control.admin;

import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.TcpState;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * {@code GET /api/v1/flows?vn=NAME&limit=N}: the flows of the flow table as JSON, one object per flow with stable
 * field names: {@code vn, family, proto, src, dst, sport, dport, origin_tunnel, egress_tunnel, replied, tcp_state,
 * packets_from_origin, bytes_from_origin, packets_to_origin, bytes_to_origin, age_seconds, idle_seconds}.
 */
public final class FlowListing {
    /** Flows listed when no limit is given. */
    public static final int DEFAULT_LIMIT = 100;
    /** Most flows one request may list: a listing walks the table on the admin thread. */
    public static final int MAX_LIMIT = 100_000;

    private FlowListing() {
    }

    /**
     * The JSON listing of up to {@code limit} flows of virtual network {@code vnName} (all when null). Returns null
     * when the virtual network does not exist.
     */
    public static String json(FlowTable flows, ForwardingState state, String vnName, int limit, long nowMillis) {
        int vnFilter = -1;
        if (vnName != null) {
            VirtualNetwork vn = state.virtualNetwork(vnName);
            if (vn == null) {
                return null;
            }
            vnFilter = vn.id();
        }
        int wanted = vnFilter;
        StringBuilder out = new StringBuilder("{\"flows\":[");
        int[] listed = {0};
        flows.forEach(handle -> {
            int slot = FlowTable.slot(handle);
            int vn = flows.vn(slot);
            if (wanted >= 0 && vn != wanted) {
                return true;
            }
            StringBuilder flow = new StringBuilder();
            boolean v6 = flows.family(slot) == FlowTable.FAMILY_IPV6;
            flow.append(listed[0] == 0 ? "" : ",").append('{');
            field(flow, "vn", vn < state.virtualNetworks().length ? state.virtualNetworks()[vn].name() : "#" + vn);
            flow.append(",\"family\":\"").append(v6 ? "ipv6" : "ipv4").append('"');
            flow.append(",\"proto\":").append(flows.proto(slot));
            flow.append(',');
            field(flow, "src", address(v6, flows.srcHigh(slot), flows.srcLow(slot)));
            flow.append(',');
            field(flow, "dst", address(v6, flows.dstHigh(slot), flows.dstLow(slot)));
            flow.append(",\"sport\":").append(flows.sport(slot));
            flow.append(",\"dport\":").append(flows.dport(slot));
            flow.append(',');
            field(flow, "origin_tunnel", tunnelName(state, flows.originTunnel(slot)));
            flow.append(',');
            field(flow, "egress_tunnel", tunnelName(state, flows.egressTunnel(slot)));
            flow.append(",\"replied\":").append(flows.replied(slot));
            flow.append(',');
            field(flow, "tcp_state", TcpState.name(flows.tcpState(slot)));
            flow.append(",\"packets_from_origin\":").append(flows.packetsFromOrigin(slot));
            flow.append(",\"bytes_from_origin\":").append(flows.bytesFromOrigin(slot));
            flow.append(",\"packets_to_origin\":").append(flows.packetsToOrigin(slot));
            flow.append(",\"bytes_to_origin\":").append(flows.bytesToOrigin(slot));
            flow.append(",\"age_seconds\":").append((nowMillis - flows.createdMillis(slot)) / 1000);
            flow.append(",\"idle_seconds\":").append(flows.idleMillis(slot, nowMillis) / 1000);
            flow.append('}');
            if (!flows.validate(handle)) {
                return true;
            }
            out.append(flow);
            return ++listed[0] < limit;
        });
        return out.append("],\"count\":").append(listed[0]).append('}').toString();
    }

    private static String tunnelName(ForwardingState state, int id) {
        Tunnel[] tunnels = state.tunnels();
        return id >= 0 && id < tunnels.length ? tunnels[id].name() : "#" + id;
    }

    private static String address(boolean v6, long high, long low) {
        try {
            byte[] bytes = v6 ? ByteBuffer.allocate(16).putLong(high).putLong(low).array()
                    : ByteBuffer.allocate(4).putInt((int) low).array();
            return InetAddress.getByAddress(bytes).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void field(StringBuilder out, String name, String value) {
        out.append('"').append(name).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
