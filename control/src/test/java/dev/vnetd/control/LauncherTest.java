package dev.vnetd.control;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The installed launcher ({@code config/bin/vnetd}) starts the JVM on ParallelGC unless the operator's options choose
 * a collector: two collector flags make the JVM refuse to start, so the launcher must drop its own, and the JVM must
 * then run on the operator's choice. The launcher runs against a stand-in {@code java} that prints its arguments;
 * the arguments before {@code -jar} then go to this JVM's own {@code java} to see which collector it selects.
 */
class LauncherTest {
    private static final String PARALLEL = "-XX:+UseParallelGC";

    @TempDir
    Path dir;

    @Test
    void shouldStartOnParallelGcByDefault() throws Exception {
        List<String> options = launcherOptions(Map.of());
        assertTrue(options.contains(PARALLEL), options.toString());
        assertEquals("UseParallelGC", selectedCollector(options, Map.of()));
    }

    @Test
    void shouldKeepParallelGcBesideTheUnitsOptions() throws Exception {
        // config/systemd/vnetd.service sets VNETD_JAVA_OPTS to this.
        List<String> options = launcherOptions(Map.of("VNETD_JAVA_OPTS", "-XX:+ExitOnOutOfMemoryError"));
        assertTrue(options.contains(PARALLEL), options.toString());
        assertTrue(options.contains("-XX:+ExitOnOutOfMemoryError"), options.toString());
        assertEquals("UseParallelGC", selectedCollector(options, Map.of()));
    }

    @Test
    void shouldLetVnetdJavaOptsChooseAnotherCollector() throws Exception {
        Map<String, String> env = Map.of("VNETD_JAVA_OPTS", "-XX:+ExitOnOutOfMemoryError -XX:+UseG1GC");
        List<String> options = launcherOptions(env);
        assertFalse(options.contains(PARALLEL), options.toString());
        assertEquals("UseG1GC", selectedCollector(options, Map.of()));
    }

    @Test
    void shouldLetJdkJavaOptionsChooseAnotherCollector() throws Exception {
        // The java launcher reads JDK_JAVA_OPTIONS itself, so the flag never shows in the launcher's arguments.
        Map<String, String> env = Map.of("JDK_JAVA_OPTIONS", "-XX:+UseSerialGC");
        List<String> options = launcherOptions(env);
        assertFalse(options.contains(PARALLEL), options.toString());
        assertEquals("UseSerialGC", selectedCollector(options, env));
    }

    @Test
    void shouldTurnParallelGcOffForTheJvmsOwnChoice() throws Exception {
        // A later -XX:-UseParallelGC wins over the launcher's +, and the JVM's ergonomics pick the collector.
        List<String> options = launcherOptions(Map.of("VNETD_JAVA_OPTS", "-XX:-UseParallelGC"));
        assertFalse("UseParallelGC".equals(selectedCollector(options, Map.of())), options.toString());
    }

    /** The JVM options config/bin/vnetd passes before {@code -jar}, with {@code env} added to its environment. */
    private List<String> launcherOptions(Map<String, String> env) throws Exception {
        Path java = dir.resolve("java");
        Files.writeString(java, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        ProcessBuilder builder = new ProcessBuilder("sh", "../config/bin/vnetd", "--version");
        builder.environment().keySet().removeAll(List.of("VNETD_JAVA_OPTS", "JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS"));
        builder.environment().put("VNETD_JAVA", java.toString());
        builder.environment().putAll(env);
        List<String> lines = run(builder).lines().toList();
        return new ArrayList<>(lines.subList(0, lines.indexOf("-jar")));
    }

    /** The collector this JDK's java selects with {@code options} and {@code env}: "UseG1GC", "UseParallelGC"... */
    private static String selectedCollector(List<String> options, Map<String, String> env) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(options);
        command.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().keySet().removeAll(List.of("JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS"));
        builder.environment().putAll(env);
        List<String> selected = run(builder).lines()
                .map(String::trim)
                .filter(line -> line.matches("bool Use(Serial|Parallel|G1|Z|Shenandoah|Epsilon)GC +=\\s+true.*"))
                .map(line -> line.split("\\s+")[1])
                .toList();
        assertEquals(1, selected.size(), selected.toString());
        return selected.getFirst();
    }

    private static String run(ProcessBuilder builder) throws Exception {
        Process process = builder.redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
        return output;
    }
}
