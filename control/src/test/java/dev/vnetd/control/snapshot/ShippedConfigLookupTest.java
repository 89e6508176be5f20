package dev.vnetd.control.snapshot;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.config.IpPrefix;
import dev.vnetd.control.config.VnetdConfig;
import dev.vnetd.control.config.VnetdConfig.RouteConfig;
import dev.vnetd.control.config.VnetdConfig.VirtualNetworkConfig;
import dev.vnetd.dataplane.path.RouteLookup;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.VirtualNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code vnetd lookup}'s answers (RouteLookup on the built Poptrie tables) agree with a reference that scans every
 * configured route, on the shipped configurations: every prefix's first, last and neighbouring addresses, and
 * random addresses.
 */
class ShippedConfigLookupTest {
    @ParameterizedTest
    @ValueSource(strings = {"../config/vnetd.yaml", "../config/examples/plain-gre.yaml"})
    void shouldAgreeWithAScanOfEveryRoute(String file) throws Exception {
        VnetdConfig config = ConfigLoader.load(Path.of(file));
        ForwardingState state = ForwardingStateBuilder.build(config);
        RouteLookup lookup = new RouteLookup();
        SplittableRandom random = new SplittableRandom(7);
        int checked = 0;
        for (VirtualNetworkConfig vn : config.virtualNetworks()) {
            VirtualNetwork network = state.virtualNetwork(vn.name());
            for (InetAddress address : probes(config, random)) {
                Tunnel tunnel = address.getAddress().length == 4
                        ? lookup.ipv4(state, network, Tunnel.ipv4ToInt(address), 0)
                        : lookup.ipv6(state, network, Tunnel.ipv6High(address), Tunnel.ipv6Low(address), 0);
                String actual = tunnel == null ? "no route"
                        : lookup.route().prefix() + " in " + lookup.matchedIn().name();
                assertEquals(reference(config, vn, address), actual, vn.name() + " " + address.getHostAddress());
                checked++;
            }
        }
        assertTrue(checked > 500, "probed " + checked);
    }

    /** Longest configured prefix covering the address in the network, else in its fallback. */
    private static String reference(VnetdConfig config, VirtualNetworkConfig vn, InetAddress address) {
        String own = longest(config, vn.name(), address);
        if (own != null) {
            return own + " in " + vn.name();
        }
        if (vn.fallback() != null) {
            String fallback = longest(config, vn.fallback(), address);
            if (fallback != null) {
                return fallback + " in " + vn.fallback();
            }
        }
        return "no route";
    }

    private static String longest(VnetdConfig config, String vn, InetAddress address) {
        IpPrefix best = null;
        for (RouteConfig r : config.routes()) {
            if (r.virtualNetwork().equals(vn) && covers(r.prefix(), address)
                    && (best == null || r.prefix().length() > best.length())) {
                best = r.prefix();
            }
        }
        return best == null ? null : best.toString();
    }

    private static boolean covers(IpPrefix prefix, InetAddress address) {
        if (prefix.address().getAddress().length != address.getAddress().length) {
            return false;
        }
        int shift = prefix.bits() - prefix.length();
        BigInteger a = new BigInteger(1, address.getAddress()).shiftRight(shift);
        BigInteger p = new BigInteger(1, prefix.address().getAddress()).shiftRight(shift);
        return a.equals(p);
    }

    private static List<InetAddress> probes(VnetdConfig config, SplittableRandom random) throws Exception {
        List<InetAddress> out = new ArrayList<>();
        for (RouteConfig r : config.routes()) {
            byte[] first = r.prefix().address().getAddress();
            BigInteger base = new BigInteger(1, first);
            BigInteger size = BigInteger.ONE.shiftLeft(r.prefix().bits() - r.prefix().length());
            for (BigInteger candidate : List.of(base, base.add(size).subtract(BigInteger.ONE),
                    base.subtract(BigInteger.ONE), base.add(size))) {
                out.add(toAddress(candidate, first.length));
            }
        }
        for (int i = 0; i < 200; i++) {
            byte[] v4 = new byte[4];
            byte[] v6 = new byte[16];
            random.nextBytes(v4);
            random.nextBytes(v6);
            out.add(InetAddress.getByAddress(v4));
            out.add(InetAddress.getByAddress(v6));
        }
        return out;
    }

    private static InetAddress toAddress(BigInteger value, int length) throws Exception {
        BigInteger modulo = BigInteger.ONE.shiftLeft(length * 8);
        byte[] raw = value.mod(modulo).add(modulo).toByteArray();
        byte[] bytes = new byte[length];
        System.arraycopy(raw, raw.length - length, bytes, 0, length);
        return InetAddress.getByAddress(bytes);
    }
}
