package dev.vnetd.control.masque;

import dev.vnetd.control.config.IpPrefix;
import dev.vnetd.control.config.MasqueConfig;
import dev.vnetd.control.config.VnetdConfig;
import dev.vnetd.dataplane.masque.Cidr;
import dev.vnetd.dataplane.masque.MasqueUriTemplate;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.transport.Dataplane;
import dev.vnetd.dataplane.transport.masque.MasqueClient;
import dev.vnetd.dataplane.transport.masque.MasqueIdentity;
import dev.vnetd.dataplane.transport.masque.MasqueServer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Starts MASQUE on a running dataplane: a {@link MasqueServer} per {@code masque} listener, on worker
 * {@code listener id mod workers}, with one {@link MasqueIdentity} per {@code masque} tunnel of it; a
 * {@link MasqueClient} per {@code masque-client} tunnel, on worker {@code tunnel id mod workers}, whose learned
 * routes and address the {@link MasqueRouteInstaller} publishes. A listener that cannot be opened is reported like
 * the others ({@code /readyz}, {@code vnetd_listener_up}). Metrics: {@code vnetd_masque_auth_failures_total{listener}}
 * (403 answers), {@code vnetd_masque_sessions_total{listener|tunnel}} (sessions opened),
 * {@code vnetd_masque_connect_failures_total{tunnel}} (client attempts that got no response),
 * {@code vnetd_masque_handoffs_total} (packets handed to another worker's connection).
 */
public final class MasqueService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MasqueService.class);

    private final Map<String, MasqueServer> servers;
    private final Map<String, MasqueClient> clients;
    private final MasqueRouteInstaller installer;

    private MasqueService(Map<String, MasqueServer> servers, Map<String, MasqueClient> clients,
                          MasqueRouteInstaller installer) {
        this.servers = servers;
        this.clients = clients;
        this.installer = installer;
    }

    /**
     * Starts the servers and clients {@code config} names; registers their metrics in {@code registry}. What the
     * clients learn is published through {@code publisher} (the reloader's {@code publishLearned}), given the function
     * that adds it to a configuration, so learned routes build on the configuration the last reload applied and
     * never race a reload.
     */
    public static MasqueService start(VnetdConfig config, ForwardingStateHolder holder, Dataplane dataplane,
                                      MeterRegistry registry, Consumer<UnaryOperator<VnetdConfig>> publisher)
            throws InterruptedException {
        MasqueConfig masque = config.masque();
        Map<String, MasqueServer> servers = new LinkedHashMap<>();
        Map<String, MasqueClient> clients = new LinkedHashMap<>();
        MasqueRouteInstaller installer = new MasqueRouteInstaller(config, publisher);
        var state = holder.get();
        int workers = dataplane.workers();
        for (Listener l : state.listeners()) {
            MasqueConfig.Listener settings = masque.listeners().get(l.name());
            if (l.type() != ListenerType.MASQUE || settings == null) {
                continue;
            }
            List<MasqueIdentity> identities = new ArrayList<>();
            for (Tunnel t : state.tunnels()) {
                MasqueConfig.Tunnel s = masque.tunnels().get(t.name());
                if (t.listener() == l && s != null) {
                    identities.add(new MasqueIdentity(t.name(), s.token(), s.certSha256(), s.certSubject(),
                            cidrs(s.assign()), cidrs(s.advertise())));
                }
            }
            try {
                MasqueServer server = MasqueServer.start(dataplane, holder, l, l.id() % workers,
                        settings.cert().toFile(), settings.key().toFile(),
                        MasqueUriTemplate.parse(settings.uriTemplate()), identities);
                servers.put(l.name(), server);
                FunctionCounter.builder("vnetd.masque.auth.failures", server, MasqueServer::authFailures)
                        .description("CONNECT-IP requests refused with 403: no identity matched")
                        .tag("listener", l.name()).register(registry);
                FunctionCounter.builder("vnetd.masque.stream.resets", server, MasqueServer::streamResets)
                        .description("CONNECT-IP streams reset because of a malformed capsule")
                        .tag("listener", l.name()).register(registry);
                FunctionCounter.builder("vnetd.masque.sessions", server, MasqueServer::sessionsOpened)
                        .description("CONNECT-IP sessions opened").tag("listener", l.name()).tag("tunnel", "")
                        .register(registry);
            } catch (IOException | RuntimeException e) {
                String error = e.getMessage() == null ? e.toString() : e.getMessage();
                dataplane.listenerFailed(l.id(), error);
                LOG.error("event=listener_failed listener={} type=masque address={} error=\"{}\"", l.name(),
                        l.address(), error);
            }
        }
        for (Tunnel t : state.tunnels()) {
            MasqueConfig.Tunnel s = masque.tunnels().get(t.name());
            if (t.listener().type() != ListenerType.MASQUE_CLIENT || s == null) {
                continue;
            }
            MasqueClient client = MasqueClient.start(dataplane, holder, t.name(), t.id() % workers, s.server(),
                    s.serverName(), s.token(), MasqueUriTemplate.parse(s.uriTemplate()),
                    s.ca() == null ? null : s.ca().toFile(), s.clientCert() == null ? null : s.clientCert().toFile(),
                    s.clientKey() == null ? null : s.clientKey().toFile(), installer);
            clients.put(t.name(), client);
            FunctionCounter.builder("vnetd.masque.sessions", client, MasqueClient::sessionsOpened)
                    .description("CONNECT-IP sessions opened").tag("listener", "").tag("tunnel", t.name())
                    .register(registry);
            FunctionCounter.builder("vnetd.masque.connect.failures", client, MasqueClient::connectFailures)
                    .description("MASQUE client attempts that failed before a response: bind, handshake, stream")
                    .tag("tunnel", t.name()).register(registry);
        }
        FunctionCounter.builder("vnetd.masque.handoffs", dataplane.masqueSessions(), m -> m.handoffs())
                .description("packets handed to the worker that owns their MASQUE connection")
                .register(registry);
        return new MasqueService(servers, clients, installer);
    }

    private static List<Cidr> cidrs(List<IpPrefix> prefixes) {
        return prefixes.stream().map(p -> new Cidr(p.address(), p.length())).toList();
    }

    /** The server of listener {@code name}, or null. */
    public MasqueServer server(String name) {
        return servers.get(name);
    }

    /** The client of tunnel {@code name}, or null. */
    public MasqueClient client(String name) {
        return clients.get(name);
    }

    /** Stops the clients (no reconnect), then the servers and the installer. */
    @Override
    public void close() {
        clients.values().forEach(MasqueClient::close);
        servers.values().forEach(MasqueServer::close);
        installer.close();
    }
}
