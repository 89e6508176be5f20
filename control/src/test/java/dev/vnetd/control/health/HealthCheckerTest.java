package dev.vnetd.control.health;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.config.VnetdConfig;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Tunnel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checker's thread, configuration changes and published states, against a far end that can be silenced. */
class HealthCheckerTest {
    private static final String CONFIG = """
            listeners:
              - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:4754}
            virtual_networks:
              - {name: v}
            tunnels:
              - {name: plain, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: v}
              - {name: checked, type: gre-udp, listener: gre-udp, remote: 127.0.0.3, virtual_network: v,
                 interface_address: 169.254.50.0/31, HEALTH}
            """;

    /** Answers every probe while alive; remembers what it was asked. */
    static final class FarEnd implements ProbeChannel {
        volatile boolean alive = true;
        final Map<Integer, Integer> watched = new ConcurrentHashMap<>();
        final Map<Integer, AtomicInteger> sent = new ConcurrentHashMap<>();
        final Set<Long> answered = ConcurrentHashMap.newKeySet();

        @Override
        public void watch(int tunnel, int localAddress) {
            watched.put(tunnel, localAddress);
        }

        @Override
        public void send(int tunnel, boolean request, int target, int sequence) {
            sent.computeIfAbsent(tunnel, t -> new AtomicInteger()).incrementAndGet();
            long key = (long) tunnel << 32 | sequence;
            answered.remove(key);
            if (alive) {
                answered.add(key);
            }
        }

        @Override
        public boolean replied(int tunnel, int sequence) {
            return answered.contains((long) tunnel << 32 | sequence);
        }

        int sent(int tunnel) {
            AtomicInteger n = sent.get(tunnel);
            return n == null ? 0 : n.get();
        }
    }

    private final FarEnd farEnd = new FarEnd();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private HealthChecker checker;

    @AfterEach
    void stop() {
        checker.close();
    }

    private static VnetdConfig config(String health) throws Exception {
        return ConfigLoader.parse("test.yaml", CONFIG.replace("HEALTH", health), null);
    }

    private static boolean waitFor(BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 400 && !condition.getAsBoolean(); i++) {
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }

    @Test
    void shouldProbeOnlyCheckedTunnelsAndFollowConfigurationChanges() throws Exception {
        VnetdConfig checked = config("health_check: {type: request, rate: high}");
        ForwardingStateHolder holder = new ForwardingStateHolder(ForwardingStateBuilder.build(checked));
        int id = holder.get().tunnel("checked").id();
        int plain = holder.get().tunnel("plain").id();
        checker = new HealthChecker(holder, farEnd, registry, () -> System.nanoTime() / 1_000_000, 10_000);

        checker.apply(checked);
        assertEquals(Tunnel.ipv4ToInt(InetAddress.ofLiteral("169.254.50.0")), farEnd.watched.get(id),
                "replies to the interface address are watched");
        assertTrue(waitFor(() -> farEnd.sent(id) >= 3), "probes go out at the rate");
        assertEquals(0, farEnd.sent(plain), "a tunnel without health_check is never probed");

        farEnd.alive = false;
        assertTrue(waitFor(() -> holder.get().health().state(id) == TunnelHealth.DOWN), "published as down");
        checker.apply(checked);
        assertEquals(TunnelHealth.DOWN, holder.get().health().state(id), "an unchanged check keeps its state");

        checker.apply(config("health_check: {enabled: false}"));
        assertEquals(0, farEnd.watched.get(id), "a disabled check stops watching");
        assertEquals(TunnelHealth.HEALTHY, holder.get().health().state(id), "and leaves its tunnel healthy");
        int sentWhenStopped = farEnd.sent(id);
        Thread.sleep(300);
        assertEquals(sentWhenStopped, farEnd.sent(id), "no probe after it stopped");

        farEnd.alive = true;
        checker.apply(config("health_check: {type: reply, rate: high}"));
        assertTrue(waitFor(() -> farEnd.sent(id) > sentWhenStopped), "a new check starts probing");
        assertEquals(TunnelHealth.HEALTHY, holder.get().health().state(id));
        assertTrue(registry.get("vnetd.tunnel.probes").tags("tunnel", "checked", "result", "failure")
                .functionCounter().count() >= 3, "probe counters survive the change");
    }
}
