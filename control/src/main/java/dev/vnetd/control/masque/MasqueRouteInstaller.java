package dev.vnetd.control.masque;

import dev.vnetd.control.config.IpPrefix;
import dev.vnetd.control.config.VnetdConfig;
import dev.vnetd.control.config.VnetdConfig.RouteConfig;
import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.control.config.Where;
import dev.vnetd.dataplane.masque.AssignedAddress;
import dev.vnetd.dataplane.masque.Cidr;
import dev.vnetd.dataplane.masque.IpRange;
import dev.vnetd.dataplane.transport.masque.MasqueClientListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Installs what {@code masque-client} tunnels learn from their servers, by the same read-copy-update as every other
 * change of forwarding state: 1. ROUTE_ADVERTISEMENT ranges become the fewest covering prefixes, added as routes of
 * the tunnel's virtual network via the tunnel (priority {@link #LEARNED_PRIORITY}; a prefix configured via the same
 * tunnel is left as configured)  2. the first assigned address of each family becomes the tunnel's interface address,
 * so ICMP errors vnetd sends into the tunnel come from a source the server accepts  3. the running configuration plus
 * everything learned is published through the reloader, which keeps ids, health and SA state as a reload does  4. assigned
 * host addresses (/32, /128) go on the TUN attachments of the tunnel's virtual network ({@code ip addr replace}), so
 * the local host can use them as its own; shorter prefixes are the site's to number. When a session ends its routes
 * and addresses are withdrawn the same way. Runs on its own thread: the clients' event loops only enqueue.
 */
final class MasqueRouteInstaller implements MasqueClientListener, AutoCloseable {
    /** Priority of learned routes: the configuration's default, so configured routes with a lower one win. */
    static final int LEARNED_PRIORITY = 100;
    /** How long one {@code ip} command may take; it normally returns in milliseconds. */
    private static final long IP_TIMEOUT_SECONDS = 10;

    private static final Logger LOG = LoggerFactory.getLogger(MasqueRouteInstaller.class);

    private final VnetdConfig config;
    private final Consumer<UnaryOperator<VnetdConfig>> publisher;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "vnetd-masque-routes");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, List<Cidr>> routes = new LinkedHashMap<>();
    private final Map<String, List<AssignedAddress>> addresses = new LinkedHashMap<>();

    /**
     * @param config    the start-time configuration: its TUN attachments get the assigned addresses
     * @param publisher publishes the running configuration with what {@link #withLearned} adds (the reloader's)
     */
    MasqueRouteInstaller(VnetdConfig config, Consumer<UnaryOperator<VnetdConfig>> publisher) {
        this.config = config;
        this.publisher = publisher;
    }

    @Override
    public void addressesAssigned(String tunnel, List<AssignedAddress> assigned) {
        submit(() -> {
            List<AssignedAddress> previous;
            synchronized (this) {
                previous = addresses.put(tunnel, assigned);
            }
            LOG.info("event=masque_address_installed tunnel={} addresses={}", tunnel, assigned);
            publish();
            if (previous != null) {
                tunAddresses(tunnel, previous, "del");
            }
            tunAddresses(tunnel, assigned, "replace");
        });
    }

    @Override
    public void routesAdvertised(String tunnel, List<IpRange> ranges) {
        submit(() -> {
            List<Cidr> prefixes = new ArrayList<>();
            ranges.forEach(r -> prefixes.addAll(Cidr.cover(r)));
            synchronized (this) {
                routes.put(tunnel, prefixes);
            }
            LOG.info("event=masque_routes_installed tunnel={} prefixes={}", tunnel, prefixes);
            publish();
        });
    }

    @Override
    public void sessionLost(String tunnel) {
        submit(() -> {
            List<AssignedAddress> assigned;
            boolean hadRoutes;
            synchronized (this) {
                assigned = addresses.remove(tunnel);
                hadRoutes = routes.remove(tunnel) != null;
            }
            if (hadRoutes || assigned != null) {
                LOG.info("event=masque_routes_withdrawn tunnel={}", tunnel);
                publish();
            }
            if (assigned != null) {
                tunAddresses(tunnel, assigned, "del");
            }
        });
    }

    /** Runs {@code work} on the installer's thread; after {@link #close()} nothing is installed any more. */
    private void submit(Runnable work) {
        try {
            executor.execute(work);
        } catch (RejectedExecutionException e) {
            LOG.debug("event=masque_route_update_ignored reason=closing");
        }
    }

    private void publish() {
        publisher.accept(this::withLearned);
    }

    /**
     * {@code config} with what the MASQUE clients learned: advertised routes via their tunnels and assigned
     * addresses as their interface addresses. Any thread (the reloader calls it under its lock).
     */
    public synchronized VnetdConfig withLearned(VnetdConfig config) {
        List<RouteConfig> all = new ArrayList<>(config.routes());
        Set<String> configured = new HashSet<>();
        config.routes().forEach(r -> configured.add(r.virtualNetwork() + "|" + r.prefix() + "|" + r.via()));
        for (Map.Entry<String, List<Cidr>> e : routes.entrySet()) {
            TunnelConfig tunnel = config.tunnels().stream().filter(t -> t.name().equals(e.getKey())).findFirst()
                    .orElse(null);
            if (tunnel == null) {
                continue;
            }
            for (Cidr c : e.getValue()) {
                IpPrefix prefix = new IpPrefix(c.address(), c.length());
                if (configured.add(tunnel.virtualNetwork() + "|" + prefix + "|" + tunnel.name())) {
                    all.add(new RouteConfig(tunnel.where(), prefix, tunnel.virtualNetwork(), tunnel.name(),
                            LEARNED_PRIORITY, 1));
                }
            }
        }
        List<TunnelConfig> tunnels = new ArrayList<>();
        for (TunnelConfig t : config.tunnels()) {
            List<AssignedAddress> assigned = addresses.get(t.name());
            tunnels.add(assigned == null ? t : withAddresses(t, assigned));
        }
        return new VnetdConfig(config.source(), config.node(), config.admin(), config.flowTable(),
                config.listeners(), config.virtualNetworks(), tunnels, all, config.masque());
    }

    /** Adds ({@code replace}) or removes ({@code del}) the assigned host addresses on the TUN attachments. */
    private void tunAddresses(String tunnel, List<AssignedAddress> assigned, String verb) {
        String vn = tunnel(tunnel).virtualNetwork();
        for (TunnelConfig t : config.tunnels()) {
            if (t.tun() == null || !t.virtualNetwork().equals(vn)) {
                continue;
            }
            for (AssignedAddress a : assigned) {
                if (a.prefixLength() != (a.ipv6() ? 128 : 32)) {
                    continue;
                }
                String address = a.address().getHostAddress() + "/" + a.prefixLength();
                List<String> command = new ArrayList<>(List.of("ip", a.ipv6() ? "-6" : "-4", "addr", verb, address,
                        "dev", t.tun().device()));
                if (a.ipv6() && verb.equals("replace")) {
                    command.add("nodad");
                }
                run(command, tunnel, t.tun().device());
            }
        }
    }

    private static void run(List<String> command, String tunnel, String device) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            boolean done = p.waitFor(IP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
            }
            if (done && p.exitValue() == 0) {
                LOG.info("event=masque_tun_address tunnel={} device={} command=\"{}\"", tunnel, device,
                        String.join(" ", command));
            } else {
                LOG.warn("event=masque_tun_address_failed tunnel={} device={} command=\"{}\" output=\"{}\"", tunnel,
                        device, String.join(" ", command), out);
            }
        } catch (IOException e) {
            LOG.warn("event=masque_tun_address_failed tunnel={} device={} error=\"{}\"", tunnel, device,
                    e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private TunnelConfig tunnel(String name) {
        return config.tunnels().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
    }

    private static TunnelConfig withAddresses(TunnelConfig t, List<AssignedAddress> assigned) {
        List<IpPrefix> interfaceAddresses = new ArrayList<>();
        for (boolean v6 : new boolean[] {false, true}) {
            InetAddress configured = t.interfaceAddress(v6);
            AssignedAddress given = assigned.stream().filter(a -> a.ipv6() == v6).findFirst().orElse(null);
            if (given != null) {
                interfaceAddresses.add(new IpPrefix(given.address(), given.prefixLength()));
            } else if (configured != null) {
                interfaceAddresses.add(t.interfaceAddresses().stream().filter(p -> p.ipv6() == v6).findFirst()
                        .orElseThrow());
            }
        }
        return new TunnelConfig(t.where(), t.name(), t.type(), t.listener(), t.remote(), t.key(), t.virtualNetwork(),
                t.mtu(), t.arr(), List.copyOf(interfaceAddresses), t.sa());
    }

    /** Stops the installer thread. */
    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
