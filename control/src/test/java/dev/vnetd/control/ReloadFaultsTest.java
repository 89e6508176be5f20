package dev.vnetd.control;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A configuration file that disappears or is half-written when a reload reads it (issue 9): the running
 * configuration stays, the error says where (file:line:column), and the failure is counted.
 */
class ReloadFaultsTest {
    private static final String MAIN = """
            node: {name: reload-faults, workers: 1}
            listeners:
              - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:4754, source_ports: 0}
            virtual_networks:
              - {name: v}
            include: conf.d/*.yaml
            """;
    private static final String TUNNELS = """
            tunnels:
              - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: v, arr: true}
              - {name: dc1, type: gre-udp, listener: gre-udp, remote: 127.0.0.3, virtual_network: v}
              - {name: dc2, type: gre-udp, listener: gre-udp, remote: 127.0.0.4, virtual_network: v}
            routes:
              - {prefix: 10.0.0.0/8, virtual_network: v, via: dc1}
              - {prefix: 172.16.0.0/12, virtual_network: v, via: dc2, priority: 200}
            """;
    /** A problem located in a file: {@code path:line:column: message}. */
    private static final Pattern LOCATED = Pattern.compile("^\\S+\\.yaml:\\d+:\\d+: .+");

    @TempDir
    Path dir;

    private Path main;
    private Path included;
    private ForwardingStateHolder holder;
    private ForwardingState running;
    private SimpleMeterRegistry registry;
    private Reloader reloader;

    @BeforeEach
    void start() throws Exception {
        main = dir.resolve("vnetd.yaml");
        Files.createDirectory(dir.resolve("conf.d"));
        included = dir.resolve("conf.d/tunnels.yaml");
        Files.writeString(main, MAIN);
        Files.writeString(included, TUNNELS);
        var config = ConfigLoader.load(main);
        running = ForwardingStateBuilder.build(config);
        holder = new ForwardingStateHolder(running);
        registry = new SimpleMeterRegistry();
        reloader = new Reloader(config, holder, registry, applied -> { }, Reloader.capacity(config.tunnels().size()),
                Reloader.capacity(config.virtualNetworks().size()), null);
    }

    private double failures() {
        return registry.get("vnetd.config.reloads").tag("result", "failure").counter().count();
    }

    private void assertRefusedAndNothingChanged(Reloader.Result result) {
        assertFalse(result.success(), result.toString());
        assertFalse(result.errors().isEmpty());
        assertSame(running, holder.get(), "the running forwarding state is untouched");
    }

    @Test
    void shouldKeepTheRunningConfigurationWhenTheFileDisappears() throws Exception {
        Files.delete(main);

        Reloader.Result result = reloader.reload();

        assertRefusedAndNothingChanged(result);
        assertEquals(List.of(main + ":1:1: no such file"), result.errors());
        assertEquals(1, failures());
    }

    @Test
    void shouldKeepTheRunningConfigurationWhenAnIncludedFileDisappears() throws Exception {
        Files.delete(included);

        Reloader.Result result = reloader.reload();

        assertRefusedAndNothingChanged(result);
        assertEquals(1, result.errors().size(), result.toString());
        assertTrue(result.errors().getFirst().matches("^\\S+vnetd\\.yaml:6:10: 'include' glob \\S+ matches no file$"),
                "a glob that matches nothing is an error, not a configuration without the tunnels it held: "
                        + result.errors());
        assertEquals(1, failures());
    }

    @Test
    void shouldKeepTheRunningConfigurationWhenTheFileIsCutInsideAMultiByteCharacter() throws Exception {
        byte[] text = (MAIN.replace("reload-faults", "reload-fäults")).getBytes(StandardCharsets.UTF_8);
        int cut = MAIN.indexOf("fäults".replace("ä", "a")) + 2;
        Files.write(main, Arrays.copyOf(text, cut));

        Reloader.Result result = reloader.reload();

        assertRefusedAndNothingChanged(result);
        assertTrue(result.errors().getFirst().startsWith(main + ":1:1: cannot read"), result.toString());
    }

    /**
     * The included file cut after every byte, as a reader racing a writer that does not rename into place would see
     * it. Every cut that fails is refused with located errors and changes nothing; the cuts that parse are whole
     * configurations (each tunnel and route line complete or absent), and must still pass validation.
     */
    @Test
    void shouldRefuseEveryHalfWrittenFileWithALocatedErrorOrApplyOnlyAValidPrefix() throws Exception {
        byte[] text = TUNNELS.getBytes(StandardCharsets.UTF_8);
        int refused = 0;
        int applied = 0;
        for (int cut = 0; cut < text.length; cut++) {
            Files.write(included, Arrays.copyOf(text, cut));
            ForwardingState before = holder.get();
            Reloader.Result result = reloader.reload();
            if (result.success()) {
                applied++;
                int end = TUNNELS.substring(0, cut).stripTrailing().length();
                assertEquals('\n', TUNNELS.charAt(end), "only a cut at the end of a line parses: " + cut);
                continue;
            }
            refused++;
            assertSame(before, holder.get(), "a refused reload changes nothing (cut " + cut + ")");
            for (String error : result.errors()) {
                assertTrue(LOCATED.matcher(error).matches(), "cut " + cut + ": " + error);
            }
        }
        assertEquals(refused, (int) failures());
        assertTrue(applied > 0 && refused > applied, "applied " + applied + ", refused " + refused);
    }
}
