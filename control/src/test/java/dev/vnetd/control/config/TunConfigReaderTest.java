package dev.vnetd.control.config;

import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunSettings;
import dev.vnetd.dataplane.state.TunnelIndex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TunConfigReaderTest {
    @TempDir
    Path dir;

    private static final String GATEWAY = """
            listeners:
              - {name: underlay, type: gre-udp, listen: 0.0.0.0}
            virtual_networks:
              - {name: default}
            tunnels:
              - name: hosts
                type: tun
                device: vnet0
                virtual_network: default
                addresses: [10.0.1.1/24, fd00:1::1/64, 10.0.3.1/24]
                host_routes: [10.0.0.0/8]
              - {name: edge, type: gre-udp, listener: underlay, remote: 192.0.2.1, virtual_network: default}
              - {name: lab, type: tun, device: vnet1, virtual_network: default, mtu: 9000, arr: true}
            routes:
              - {prefix: 10.0.1.0/24, virtual_network: default, via: hosts}
              - {prefix: 10.0.0.0/8, virtual_network: default, via: edge}
            """;

    private VnetdConfig load(String yaml) throws Exception {
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, yaml);
        return ConfigLoader.load(file);
    }

    private List<String> errors(String yaml) throws Exception {
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        return e.errors().stream().map(err -> err.line() + ":" + err.column() + ": " + err.message()).toList();
    }

    @Test
    void shouldReadATunAttachmentWithItsDefaults() throws Exception {
        VnetdConfig config = load(GATEWAY);

        TunnelConfig hosts = config.tunnels().getFirst();
        assertEquals(ListenerType.TUN, hosts.type());
        assertEquals("vnet0", hosts.tun().device());
        assertEquals(TunConfigReader.DEFAULT_TUN_MTU, hosts.mtu());
        assertFalse(hosts.arr());
        assertNull(hosts.listener());
        assertNull(hosts.remote());
        assertEquals(List.of("10.0.1.1/24", "fd00:1:0:0:0:0:0:1/64", "10.0.3.1/24"),
                hosts.tun().addresses().stream().map(IpPrefix::toString).toList());
        assertEquals(List.of("10.0.0.0/8"), hosts.tun().hostRoutes().stream().map(IpPrefix::toString).toList());
        assertEquals("10.0.1.1", hosts.interfaceAddress(false).getHostAddress(), "first IPv4: the ICMP source");
        assertEquals("fd00:1:0:0:0:0:0:1", hosts.interfaceAddress(true).getHostAddress());
        TunnelConfig lab = config.tunnels().get(2);
        assertEquals(9000, lab.mtu());
        assertTrue(lab.arr());
        assertEquals(List.of(), lab.tun().addresses());
    }

    @Test
    void shouldGiveEachAttachmentAListenerOfItsOwnAfterTheConfiguredOnes() throws Exception {
        ForwardingState state = ForwardingStateBuilder.build(load(GATEWAY));

        Listener[] listeners = state.listeners();
        assertEquals(3, listeners.length);
        assertEquals(ListenerType.GRE_UDP, listeners[0].type());
        assertEquals(new TunSettings("vnet0", 1420, List.of("10.0.1.1/24", "fd00:1:0:0:0:0:0:1/64", "10.0.3.1/24"),
                List.of("10.0.0.0/8")), listeners[1].tun());
        assertEquals("tun:vnet0", listeners[1].name());
        assertEquals("tun:vnet1", listeners[2].name());
        Tunnel hosts = state.tunnels()[0];
        assertTrue(hosts.tun());
        assertFalse(state.tunnels()[1].tun());
        assertEquals(listeners[1], hosts.listener());
        assertEquals(0, state.tunnelIndex().findTun(1));
        assertEquals(2, state.tunnelIndex().findTun(2));
        assertEquals(TunnelIndex.NO_TUNNEL, state.tunnelIndex().findTun(0), "a socket listener has no attachment");
        assertEquals(Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.0.1.1")), hosts.icmpSourceV4(),
                "ICMP errors to the host");
    }

    @Test
    void shouldReportEveryTunMistakeWithLineAndColumn() throws Exception {
        List<String> errors = errors("""
                listeners:
                  - {name: l, type: tun, listen: 127.0.0.1}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: a, type: tun, device: vnet0, virtual_network: default, listener: l, remote: 192.0.2.1}
                  - {name: b, type: tun, device: a-name-of-16-byte, virtual_network: default}
                  - {name: c, type: tun, device: vnet0, virtual_network: default, addresses: [10.0.1.1]}
                  - {name: d, type: tun, device: vnet0, virtual_network: default}
                  - {name: e, type: tun, device: vnet4, virtual_network: nowhere, host_routes: [10.0.0.1/8], mtu: 100}
                  - {name: f, type: tun, virtual_network: default}
                  - {name: g, type: tun, device: vnet6, virtual_network: default}
                  - {name: h, type: tun, device: vnet6, virtual_network: default}
                """);

        assertEquals(List.of(
                "2:21: a tun attachment is a tunnel of type tun with a 'device', not a listener",
                "6:77: 'listener' does not apply to a tun attachment: it carries packets to and from the local host"
                        + " through its device",
                "6:88: 'remote' does not apply to a tun attachment: it carries packets to and from the local host"
                        + " through its device",
                "7:34: 'device' must be an interface name of 1 to 15 bytes without '/', ':' or spaces, not"
                        + " 'a-name-of-16-byte'",
                "8:79: items of 'addresses' must be ADDRESS/LENGTH, like 10.0.1.1/24, not '10.0.1.1'",
                "10:81: 'host_routes' prefix 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)",
                "10:99: 'mtu' must be between 576 and 9000, not 100",
                "11:5: missing required key 'device' in a tunnel",
                "13:5: tun attachment 'h' uses device 'vnet6' of tun attachment 'g'; each needs a device of its own"),
                errors);
    }

    @Test
    void shouldAcceptTheShippedGatewayExample() throws Exception {
        VnetdConfig config = ConfigLoader.load(Path.of("../config/examples/gateway.yaml"));

        TunnelConfig hosts = config.tunnels().getFirst();
        assertEquals("vnet0", hosts.tun().device());
        assertEquals(1420, hosts.mtu());
        assertEquals("hosts", config.routes().getFirst().via());
    }
}
