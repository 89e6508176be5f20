package dev.vnetd.dataplane.state;

import dev.vnetd.dataplane.path.TestNetwork;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TunnelIndexTest {
    private final TestNetwork net = new TestNetwork();
    private final TunnelIndex index = net.holder.get().tunnelIndex();

    @Test
    void shouldTellTunnelsApartByListenerRemoteAndKey() {
        int remote = Tunnel.ipv4ToInt(InetAddress.ofLiteral("127.0.0.2"));
        assertEquals(TestNetwork.SITE_A, index.findIpv4(0, remote, 100));
        assertEquals(TestNetwork.SITE_B, index.findIpv4(0, remote, 200));
        assertEquals(TunnelIndex.NO_TUNNEL, index.findIpv4(0, remote, 300), "unknown key");
        assertEquals(TunnelIndex.NO_TUNNEL, index.findIpv4(0, remote, Tunnel.NO_KEY), "key required");
        assertEquals(TunnelIndex.NO_TUNNEL, index.findIpv4(1, remote, 100), "other listener");
        int dc = Tunnel.ipv4ToInt(InetAddress.ofLiteral("127.0.0.3"));
        assertEquals(TestNetwork.DC_PROD, index.findIpv4(0, dc, Tunnel.NO_KEY));
        assertEquals(TunnelIndex.NO_TUNNEL, index.findIpv4(0, dc, 5), "a key the tunnel does not have");
        InetAddress v6 = InetAddress.ofLiteral("::1");
        assertEquals(TestNetwork.V6_SITE, index.findIpv6(2, Tunnel.ipv6High(v6), Tunnel.ipv6Low(v6), Tunnel.NO_KEY));
    }

    @Test
    void shouldFindAnIpv4RemoteGivenAsTwoLongsAndCompareEachTunnelsRemote() {
        long siteA = Tunnel.ipv4ToInt(InetAddress.ofLiteral("127.0.0.2")) & 0xFFFF_FFFFL;
        assertEquals(TestNetwork.SITE_A, index.findIpv6(0, 0L, siteA, 100), "(0, IPv4) is how IPv4 is stored");
        assertTrue(index.remoteIs(TestNetwork.SITE_A, 0L, siteA));
        assertFalse(index.remoteIs(TestNetwork.SITE_A, 1L, siteA), "an IPv6 address with the same low half");
        assertFalse(index.remoteIs(TestNetwork.DC_PROD, 0L, siteA));
        InetAddress v6 = InetAddress.ofLiteral("::1");
        assertTrue(index.remoteIs(TestNetwork.V6_SITE, Tunnel.ipv6High(v6), Tunnel.ipv6Low(v6)));
    }

    @Test
    void shouldReadIpv4AddressesFromHashCodeAsThePathDoes() {
        Inet4Address address = (Inet4Address) InetAddress.ofLiteral("203.0.113.77");
        assertEquals(Tunnel.ipv4ToInt(address), address.hashCode(),
                "PacketPath reads Inet4Address.hashCode() as the address to avoid copying its bytes");
    }
}
