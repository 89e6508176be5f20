package dev.vnetd.dataplane.state;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The TUN side of {@link TunnelIndex} against a map from listener id to tunnel: GRE tunnels and TUN attachments in
 * any order, each attachment on a listener of its own after the socket listener; every attachment is found by its
 * listener, every other listener (the socket's, ids past the last) finds none, and the GRE tunnels are still found.
 */
class TunnelIndexTunPropertyTest {
    private static final Listener UDP = new Listener(0, "gre-udp", ListenerType.GRE_UDP,
            new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), 4754), 0);

    @Property(tries = 200)
    void shouldFindEveryTunAttachmentByItsListenerAndNothingElse(
            @ForAll @Size(max = 30) List<Boolean> tunOrGre,
            @ForAll @IntRange(min = 0, max = 40) int probeBeyond) {
        Map<Integer, Integer> model = new HashMap<>();
        List<Tunnel> tunnels = new ArrayList<>();
        int listeners = 1;
        int greKey = 0;
        for (boolean tun : tunOrGre) {
            int id = tunnels.size();
            if (tun) {
                Listener listener = Listener.tun(listeners, "tun:vnet" + listeners,
                        new TunSettings("vnet" + listeners, 1420, List.of(), List.of()));
                model.put(listeners++, id);
                tunnels.add(new Tunnel(id, "tun-" + id, listener, null, Tunnel.NO_KEY, 0, 1420, false, 0, 0, 0));
            } else {
                tunnels.add(new Tunnel(id, "gre-" + id, UDP, new InetSocketAddress(InetAddress.ofLiteral("192.0.2.1"),
                        4754), greKey++, 0, 1400, false, 0, 0, 0));
            }
        }
        TunnelIndex index = new TunnelIndex(tunnels.toArray(Tunnel[]::new));

        for (int listener = 0; listener < listeners + probeBeyond; listener++) {
            assertEquals(model.getOrDefault(listener, TunnelIndex.NO_TUNNEL), index.findTun(listener),
                    "listener " + listener);
        }
        for (Tunnel t : tunnels) {
            if (!t.tun()) {
                assertEquals(t.id(), index.findIpv4(0, t.remoteV4(), t.key()), t.name());
            }
        }
    }
}
