package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.TunSettings;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;
import dev.vnetd.dataplane.state.Route;
import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A TUN attachment that cannot be opened is reported like a listener that cannot be, and the rest runs. (Opening
 * real devices needs root and a namespace: TunDeviceNamespaceTest and TunGatewayNamespaceTest in control.)
 */
class TunQueueTest {
    private static ForwardingStateHolder state(String device) {
        Listener udp = new Listener(0, "gre-udp", ListenerType.GRE_UDP,
                new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), 0), 0);
        Listener tun = Listener.tun(1, "tun:" + device, new TunSettings(device, 1420, List.of(), List.of()));
        Tunnel[] tunnels = {new Tunnel(0, "hosts", tun, null, Tunnel.NO_KEY, 0, 1420, false, 0, 0, 0)};
        VirtualNetwork vn = new VirtualNetwork(0, "default", VirtualNetwork.NO_FALLBACK, new Ipv4Lpm(), new Ipv6Lpm(),
                new Route[0], false);
        return new ForwardingStateHolder(new ForwardingState(new Listener[] {udp, tun}, tunnels,
                new VirtualNetwork[] {vn}, new TunnelIndex(tunnels), new TunnelHealth(tunnels.length)));
    }

    @Test
    void shouldRefuseTunOnNioWithTheTransportsThatCarryIt() throws Exception {
        try (FlowTable flows = FlowTable.allocate(1024, FlowTimeouts.DEFAULTS);
             Dataplane dataplane = Dataplane.start(state("vnet0"), 1, TransportKind.NIO, 4, flows)) {
            assertNull(dataplane.listenerErrors()[0], "the socket listener runs");
            String error = dataplane.listenerErrors()[1];
            assertTrue(error.contains("needs the epoll or io_uring transport"), error);
        }
    }

    @Test
    void shouldReportADeviceThatCannotBeOpened() throws Exception {
        try (FlowTable flows = FlowTable.allocate(1024, FlowTimeouts.DEFAULTS);
             Dataplane dataplane = Dataplane.start(state("a-name-of-16-byte"), 2, TransportKind.EPOLL, 4, flows)) {
            assertNull(dataplane.listenerErrors()[0]);
            String error = dataplane.listenerErrors()[1];
            assertTrue(error.contains("must be 1 to 15 bytes"), error);
        }
    }
}
