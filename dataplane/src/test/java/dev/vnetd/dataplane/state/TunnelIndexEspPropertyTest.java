package dev.vnetd.dataplane.state;

import dev.vnetd.crypto.esp.EspLifetime;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.crypto.esp.InboundSa;
import dev.vnetd.crypto.esp.KeyMaterial;
import dev.vnetd.crypto.esp.OutboundSa;
import dev.vnetd.crypto.esp.RekeyListener;
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
 * The ESP side of {@link TunnelIndex} against a map from (listener, SPI) to tunnel: ESP tunnels found by inbound SPI
 * per listener, all sharing one remote address, mixed with GRE tunnels of that remote, and absent SPIs not found.
 */
class TunnelIndexEspPropertyTest {
    private static final KeyMaterial MATERIAL = KeyMaterial.of(EspTransform.AES_GCM_128, new byte[20]);
    private static final InetAddress LOCAL = InetAddress.ofLiteral("127.0.0.1");
    private static final Listener[] LISTENERS = {
        new Listener(0, "esp-udp", ListenerType.ESP_UDP, new InetSocketAddress(LOCAL, 4500), 0),
        new Listener(1, "esp", ListenerType.ESP, new InetSocketAddress(LOCAL, 0), 0),
    };
    private static final InetSocketAddress REMOTE = new InetSocketAddress(InetAddress.ofLiteral("192.0.2.1"), 4500);

    private record Key(int listener, int spi) {
    }

    @Property(tries = 200)
    void shouldFindEveryEspTunnelByListenerAndSpiAndNothingElse(
            @ForAll @Size(max = 40) List<@IntRange(min = 256, max = 5000) Integer> spis,
            @ForAll @Size(max = 40) List<@IntRange(min = 0, max = 1) Integer> listenerChoices,
            @ForAll @Size(max = 20) List<@IntRange(min = 0, max = 6000) Integer> probes,
            @ForAll @IntRange(min = 0, max = 3) int greTunnels) {
        Map<Key, Integer> model = new HashMap<>();
        List<Tunnel> tunnels = new ArrayList<>();
        for (int i = 0; i < spis.size(); i++) {
            int listener = listenerChoices.isEmpty() ? 0 : listenerChoices.get(i % listenerChoices.size());
            Key key = new Key(listener, spis.get(i));
            if (model.containsKey(key)) {
                continue;
            }
            int id = tunnels.size();
            model.put(key, id);
            TunnelSas sas = new TunnelSas(
                    new InboundSa(key.spi(), MATERIAL, true, 0, EspLifetime.UNLIMITED, RekeyListener.NONE),
                    new OutboundSa(key.spi(), MATERIAL, true, EspLifetime.UNLIMITED, RekeyListener.NONE));
            tunnels.add(new Tunnel(id, "esp-" + id, LISTENERS[listener], REMOTE, Tunnel.NO_KEY, 0, 1400, false, 0, 0,
                    0, sas));
        }
        for (int g = 0; g < greTunnels; g++) {
            int id = tunnels.size();
            tunnels.add(new Tunnel(id, "gre-" + g, LISTENERS[0], REMOTE, g, 0, 1400, false, 0, 0, 0));
        }
        TunnelIndex index = new TunnelIndex(tunnels.toArray(Tunnel[]::new));

        for (Map.Entry<Key, Integer> e : model.entrySet()) {
            assertEquals(e.getValue(), index.findEsp(e.getKey().listener(), e.getKey().spi()));
        }
        for (int probe : probes) {
            for (int listener = 0; listener < LISTENERS.length; listener++) {
                int expected = model.getOrDefault(new Key(listener, probe), TunnelIndex.NO_TUNNEL);
                assertEquals(expected, index.findEsp(listener, probe), "listener " + listener + " spi " + probe);
            }
        }
        for (int g = 0; g < greTunnels; g++) {
            assertEquals(model.size() + g, index.findIpv4(0, Tunnel.ipv4ToInt(REMOTE.getAddress()), g),
                    "GRE tunnels of the same remote are still found by key");
        }
    }
}
