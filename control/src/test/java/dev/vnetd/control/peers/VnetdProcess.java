package dev.vnetd.control.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** vnetd as a separate process (e.g. inside a network namespace), from the test classpath. */
public final class VnetdProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private VnetdProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code vnetd run --config CONFIG} behind {@code prefix} (e.g. {@code ip netns exec NAME}) and waits
     * until it logs that it started.
     */
    public static VnetdProcess start(List<String> prefix, Path config, Path log)
            throws IOException, InterruptedException {
        return start(prefix, config, log, Map.of());
    }

    /** As {@link #start(List, Path, Path)}, with extra environment variables. */
    public static VnetdProcess start(List<String> prefix, Path config, Path log, Map<String, String> environment)
            throws IOException, InterruptedException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp",
                classpath, "dev.vnetd.control.Main", "run", "--config",
                config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        Process p = builder.start();
        VnetdProcess vnetd = new VnetdProcess(p, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log);
            if (text.contains("event=started")) {
                return vnetd;
            }
            if (!p.isAlive()) {
                throw new AssertionError("vnetd exited " + p.exitValue() + ":\n" + text);
            }
            Thread.sleep(100);
        }
        vnetd.close();
        throw new AssertionError("vnetd did not start:\n" + Files.readString(log));
    }

    /**
     * The smallest configuration {@code vnetd run} starts on: node {@code name} with one worker, the admin API and one
     * GRE-in-UDP listener on free loopback ports, one virtual network {@code v} with one tunnel {@code dc}, no route.
     */
    public static String minimalConfig(String name) throws IOException {
        return """
                node: {name: %s, workers: 1}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d}
                virtual_networks:
                  - {name: v}
                tunnels:
                  - {name: dc, type: gre-udp, listener: gre-udp, remote: 127.0.0.3, virtual_network: v}
                """.formatted(name, FreePort.tcp(), FreePort.udp("127.0.0.1"));
    }

    /** The process id (of vnetd itself when started without a prefix). */
    public long pid() {
        return process.pid();
    }

    /** What vnetd logged so far. */
    public String log() throws IOException {
        return Files.readString(log);
    }

    /** Stops {@code vnetd}, then deletes {@code ns}; either may be null (a setup that failed before making it). */
    public static void stop(VnetdProcess vnetd, Namespaces ns) throws InterruptedException {
        if (vnetd != null) {
            vnetd.close();
        }
        if (ns != null) {
            ns.close();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
