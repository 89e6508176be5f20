package dev.vnetd.bench.masque;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.state.ForwardingState;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The forwarding state the MASQUE benchmarks share: a GRE-in-UDP data centre ({@code dc}, 10.200.0.0/16, tunnel 0)
 * and a MASQUE client identity ({@code laptop}, assigned 10.1.0.0/16, tunnel 1), both in one virtual network.
 * The TLS and token files only need to exist for the configuration to load: nothing opens a socket.
 */
final class MasqueFixture {
    /** Tunnel id of the GRE data centre. */
    static final int DC = 0;
    /** Tunnel id of the MASQUE client. */
    static final int LAPTOP = 1;

    private MasqueFixture() {
    }

    static ForwardingState state() throws Exception {
        Path dir = Files.createTempDirectory("vnetd-masque-bench");
        Files.writeString(dir.resolve("edge.pem"), "unused\n");
        for (String secret : new String[] {"edge.key", "laptop.token"}) {
            Files.writeString(dir.resolve(secret), "unused-token\n");
            Files.setPosixFilePermissions(dir.resolve(secret), PosixFilePermissions.fromString("rw-------"));
        }
        String yaml = """
                listeners:
                  - {name: gre, type: gre-udp, listen: 127.0.0.1, source_ports: 0}
                  - {name: masque, type: masque, listen: 127.0.0.1, tls: {cert: edge.pem, key: edge.key}}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: dc, type: gre-udp, listener: gre, remote: 127.0.0.3, virtual_network: default}
                  - {name: laptop, type: masque, listener: masque, auth: {token_file: laptop.token},
                     virtual_network: default, assign: [10.1.0.0/16]}
                routes:
                  - {prefix: 10.200.0.0/16, virtual_network: default, via: dc}
                  - {prefix: 10.1.0.0/16, virtual_network: default, via: laptop}
                """;
        return ForwardingStateBuilder.build(ConfigLoader.parse("masque-bench.yaml", yaml, dir));
    }
}
