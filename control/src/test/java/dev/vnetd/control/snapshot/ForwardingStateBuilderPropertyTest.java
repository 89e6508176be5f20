package dev.vnetd.control.snapshot;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.config.VnetdConfig;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.Tunnel;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Ids across a sequence of reloads ({@link ForwardingStateBuilder#build(VnetdConfig, ForwardingState)}) against a
 * reference model: a name still configured keeps its id, a new name (or a changed listener) takes the next one, a
 * removed one is retired for good, and only live tunnels are found by a received packet.
 */
class ForwardingStateBuilderPropertyTest {
    private static final int TUNNELS = 6;
    private static final int BASE_PORT = 40000;

    /** The reference: live name to id, and the next id, per kind. */
    private static final class Ids {
        final Map<String, Integer> live = new HashMap<>();
        int next;

        /** Applies one configuration's names, in file order; {@code same} says whether a kept name is unchanged. */
        void apply(Map<String, Boolean> names) {
            live.keySet().retainAll(names.keySet());
            names.forEach((name, same) -> {
                if (!same || !live.containsKey(name)) {
                    live.put(name, next++);
                }
            });
        }
    }

    /**
     * One reload step, from an int: bits 0-5 choose the tunnels t0..t5, bit 6 moves listener l0 to its second port,
     * and (step >> 7) % 3 says whether listener l1 is absent, on its first or on its second port.
     */
    private static String config(int step) {
        int l1 = (step >> 7) % 3;
        StringBuilder yaml = new StringBuilder("listeners:\n");
        yaml.append("  - {name: l0, type: gre-udp, listen: 127.0.0.1:").append(BASE_PORT + ((step >> 6) & 1))
                .append("}\n");
        if (l1 != 0) {
            yaml.append("  - {name: l1, type: gre-udp, listen: 127.0.0.1:").append(BASE_PORT + 10 + l1).append("}\n");
        }
        yaml.append("virtual_networks:\n  - {name: v}\ntunnels:").append((step & 0x3F) == 0 ? " []\n" : "\n");
        for (int t = 0; t < TUNNELS; t++) {
            if ((step & (1 << t)) != 0) {
                String listener = t % 2 == 1 && l1 != 0 ? "l1" : "l0";
                yaml.append("  - {name: t").append(t).append(", type: gre-udp, listener: ").append(listener)
                        .append(", remote: 127.0.0.").append(10 + t).append(", virtual_network: v}\n");
            }
        }
        return yaml.append("routes: []\n").toString();
    }

    @Property(tries = 200)
    void shouldKeepLiveIdsAndNeverReuseRemovedOnes(
            @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0, max = 383) Integer> steps) throws Exception {
        Ids tunnels = new Ids();
        Ids listeners = new Ids();
        ForwardingState state = null;
        Map<String, Integer> ports = new HashMap<>();
        for (int step : steps) {
            VnetdConfig config = ConfigLoader.parse("step.yaml", config(step), null);
            state = ForwardingStateBuilder.build(config, state);
            Map<String, Boolean> listenerNames = new LinkedHashMap<>();
            for (var l : config.listeners()) {
                listenerNames.put(l.name(), Integer.valueOf(l.address().getPort()).equals(ports.get(l.name())));
                ports.put(l.name(), l.address().getPort());
            }
            listeners.apply(listenerNames);
            Map<String, Boolean> tunnelNames = new LinkedHashMap<>();
            config.tunnels().forEach(t -> tunnelNames.put(t.name(), true));
            tunnels.apply(tunnelNames);

            assertEquals(tunnels.next, state.tunnels().length, "one slot per id ever handed out");
            assertEquals(listeners.next, state.listeners().length);
            for (int t = 0; t < TUNNELS; t++) {
                Integer id = tunnels.live.get("t" + t);
                Tunnel found = state.tunnel("t" + t);
                if (id == null) {
                    assertNull(found);
                    continue;
                }
                assertEquals(id, found.id());
                assertEquals(listeners.live.get(found.listener().name()), found.listener().id());
                int remote = Tunnel.ipv4ToInt(found.remote().getAddress());
                assertEquals(id, state.tunnelIndex().findIpv4(found.listener().id(), remote, Tunnel.NO_KEY));
            }
            for (Tunnel t : state.tunnels()) {
                boolean live = tunnels.live.containsValue(t.id());
                assertEquals(!live, state.retiredTunnel(t.id()), t.name());
                if (!live) {
                    int remote = Tunnel.ipv4ToInt(t.remote().getAddress());
                    assertNotEquals(t.id(), state.tunnelIndex().findIpv4(t.listener().id(), remote, Tunnel.NO_KEY),
                            "a retired tunnel receives nothing (a live one with its remote may)");
                }
            }
            for (Listener l : state.listeners()) {
                assertEquals(!listeners.live.containsValue(l.id()), state.retiredListener(l.id()), l.name());
            }
        }
    }
}
