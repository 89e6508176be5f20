package dev.vnetd.control.cli;

import dev.vnetd.control.config.Addresses;
import dev.vnetd.control.config.ConfigException;
import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.nexthop.FlowHash;
import dev.vnetd.dataplane.path.RouteLookup;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.VirtualNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code vnetd lookup}: the forwarding decision for one destination, made by the daemon's own code on the
 * configuration's tables, printed as {@code ADDRESS via TUNNEL prefix PREFIX priority N} or {@code no route}.
 */
@Command(name = "lookup", description = "Show the forwarding decision for an address in a virtual network.")
public final class LookupCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "PATH", description = "the configuration file")
    Path config;

    @Option(names = "--vn", required = true, paramLabel = "NAME", description = "the virtual network")
    String vn;

    @Parameters(index = "0", paramLabel = "ADDRESS", description = "destination address")
    String address;

    @Option(names = "--src", paramLabel = "ADDR", description = "source address (for the ECMP hash)")
    String source;

    @Option(names = "--proto", paramLabel = "P", description = "tcp, udp or icmp (for the ECMP hash)")
    String proto;

    @Option(names = "--sport", paramLabel = "N", description = "source port or ICMP identifier")
    int sport;

    @Option(names = "--dport", paramLabel = "N", description = "destination port")
    int dport;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        ForwardingState state;
        try {
            state = ForwardingStateBuilder.build(ConfigLoader.load(config));
        } catch (ConfigException e) {
            ConfigOption.printErrors(spec, e);
            return 1;
        }
        VirtualNetwork network = state.virtualNetwork(vn);
        if (network == null) {
            spec.commandLine().getErr().println("unknown virtual network '" + vn + "'");
            return 2;
        }
        InetAddress destination = Addresses.parseLiteral(address);
        InetAddress src = source == null ? null : Addresses.parseLiteral(source);
        if (destination == null || source != null && (src == null || src.getClass() != destination.getClass())) {
            spec.commandLine().getErr().println("addresses must be literal IPs of one family");
            return 2;
        }
        boolean ipv4 = destination instanceof Inet4Address;
        int protocol = protocolNumber(ipv4);
        if (protocol < 0) {
            spec.commandLine().getErr().println("--proto must be tcp, udp or icmp");
            return 2;
        }
        RouteLookup lookup = new RouteLookup();
        Tunnel tunnel;
        if (ipv4) {
            int src4 = src == null ? 0 : Tunnel.ipv4ToInt(src);
            int dst4 = Tunnel.ipv4ToInt(destination);
            tunnel = lookup.ipv4(state, network, dst4, FlowHash.ipv4(src4, dst4, protocol, sport, dport));
        } else {
            long srcHigh = src == null ? 0 : Tunnel.ipv6High(src);
            long srcLow = src == null ? 0 : Tunnel.ipv6Low(src);
            long dstHigh = Tunnel.ipv6High(destination);
            long dstLow = Tunnel.ipv6Low(destination);
            tunnel = lookup.ipv6(state, network, dstHigh, dstLow,
                    FlowHash.ipv6(srcHigh, srcLow, dstHigh, dstLow, protocol, sport, dport));
        }
        if (tunnel == null) {
            spec.commandLine().getOut().println("no route");
            return 0;
        }
        String fallback = lookup.matchedIn() == network ? ""
                : " (fallback to virtual network " + lookup.matchedIn().name() + ")";
        spec.commandLine().getOut().println(destination.getHostAddress() + " via " + tunnel.name() + " prefix "
                + lookup.route().prefix() + " priority " + lookup.route().group().priority(lookup.entry()) + fallback);
        return 0;
    }

    private int protocolNumber(boolean ipv4) {
        if (proto == null) {
            return 0;
        }
        return switch (proto) {
            case "tcp" -> 6;
            case "udp" -> 17;
            case "icmp" -> ipv4 ? 1 : 58;
            default -> -1;
        };
    }
}
