package dev.vnetd.control.admin;

import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.TcpState;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * {@code GET /api/v1/flows?vn=NAME&limit=N}: the flows of the flow table, one object per flow with stable field
 * names: {@code vn, family, proto, src, dst, sport, dport, origin_tunnel, egress_tunnel, original_port, replied,
 * tcp_state, packets_from_origin, bytes_from_origin, packets_to_origin, bytes_to_origin, age_seconds,
 * idle_seconds}; or a table with {@code format=text}. The walk runs on the admin thread and stops at the limit.
 */
public final class FlowListing {
    /** Flows listed when no limit is given. */
    public static final int DEFAULT_LIMIT = 100;
    /** Most flows one request may list. */
    public static final int MAX_LIMIT = 100_000;

    private FlowListing() {
    }

    /** Lists up to {@code limit} flows of virtual network id {@code vn} (-1: all). */
    public static AdminApi.Response list(FlowTable flows, ForwardingState state, int vn, int limit, long nowMillis,
                                         boolean text) {
        JsonWriter json = new JsonWriter().beginObject().name("flows").beginArray();
        TextTable table = new TextTable("VN", "PROTO", "SOURCE", "DESTINATION", "ORIGIN", "EGRESS", "STATE",
                "PKTS_OUT", "PKTS_BACK", "IDLE_S");
        int[] listed = {0};
        flows.forEach(handle -> {
            int slot = FlowTable.slot(handle);
            int flowVn = flows.vn(slot);
            if (vn >= 0 && flowVn != vn) {
                return true;
            }
            boolean v6 = flows.family(slot) == FlowTable.FAMILY_IPV6;
            String vnName = flowVn < state.virtualNetworks().length ? state.virtualNetworks()[flowVn].name()
                    : "#" + flowVn;
            String src = address(v6, flows.srcHigh(slot), flows.srcLow(slot));
            String dst = address(v6, flows.dstHigh(slot), flows.dstLow(slot));
            int proto = flows.proto(slot);
            int sport = flows.sport(slot);
            int dport = flows.dport(slot);
            String origin = tunnelName(state, flows.originTunnel(slot));
            String egress = tunnelName(state, flows.egressTunnel(slot));
            int originalPort = flows.originalPort(slot);
            boolean replied = flows.replied(slot);
            String tcpState = TcpState.name(flows.tcpState(slot));
            long packetsOut = flows.packetsFromOrigin(slot);
            long bytesOut = flows.bytesFromOrigin(slot);
            long packetsBack = flows.packetsToOrigin(slot);
            long bytesBack = flows.bytesToOrigin(slot);
            long age = (nowMillis - flows.createdMillis(slot)) / 1000;
            long idle = flows.idleMillis(slot, nowMillis) / 1000;
            if (!flows.validate(handle)) {
                return true;
            }
            if (text) {
                table.row(vnName, proto, src + " " + sport, dst + " " + dport, origin, egress,
                        proto == 6 ? tcpState : replied ? "replied" : "unreplied", packetsOut, packetsBack, idle);
            } else {
                json.beginObject().field("vn", vnName).field("family", v6 ? "ipv6" : "ipv4").field("proto", proto)
                        .field("src", src).field("dst", dst).field("sport", sport).field("dport", dport)
                        .field("origin_tunnel", origin).field("egress_tunnel", egress)
                        .field("original_port", originalPort).field("replied", replied).field("tcp_state", tcpState)
                        .field("packets_from_origin", packetsOut).field("bytes_from_origin", bytesOut)
                        .field("packets_to_origin", packetsBack).field("bytes_to_origin", bytesBack)
                        .field("age_seconds", age).field("idle_seconds", idle).endObject();
            }
            return ++listed[0] < limit;
        });
        return text ? AdminApi.Response.text(table.toString())
                : AdminApi.Response.json(json.endArray().field("count", listed[0]).endObject().toString());
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
}
