package dev.vnetd.control.cli;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.Reloader;
import dev.vnetd.control.SystemdNotifier;
import dev.vnetd.control.config.ConfigException;
import dev.vnetd.control.config.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code vnetd run [--config PATH]}: the daemon, until SIGTERM or SIGINT. Under systemd ({@code Type=notify}) it
 * says READY=1 once every listener is open, feeds the watchdog while the workers live, and says STOPPING=1.
 * SIGHUP reloads the configuration file (RELOADING=1 ... READY=1 around it).
 */
@Command(name = "run", description = "Run the daemon (config/vnetd.yaml in a checkout, else /etc/vnetd/vnetd.yaml).")
public final class RunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);
    /** systemd's STATUS after a reload that changed nothing, followed by why. */
    private static final String RELOAD_FAILED = "reload failed, running the previous configuration: ";

    @Option(names = "--config", paramLabel = "PATH", description = "the configuration file")
    Path config;

    @Spec
    CommandSpec spec;

    /** SIGHUP: RELOADING=1 (with the monotonic time systemd asks for), the reload, READY=1 with the outcome. */
    private static void reload(Daemon daemon, SystemdNotifier systemd) {
        systemd.notify("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1000);
        String status;
        try {
            Reloader.Result result = daemon.reload();
            status = result.success() ? "reloaded" : RELOAD_FAILED + result.errors().getFirst();
        } catch (RuntimeException e) {
            // an unexpected failure must still end the reload for systemd (READY=1), which otherwise waits in
            // "reloading" until its timeout; the signal thread would only print the stack trace to stderr
            LOG.error("event=config_reload_failed reason=unexpected", e);
            status = RELOAD_FAILED + e;
        }
        systemd.notify("READY=1\nSTATUS=" + status);
    }

    /**
     * One full collection before READY=1. Start-up builds the daemon's long-lived objects (about 10 MiB: state,
     * tables, Netty, metrics) in the young generation and loads most of its classes; left there, the first young
     * collection under traffic copies them all and class metadata crossing its first threshold forces a full
     * collection, both in the first seconds of forwarding (ParallelGC, the launchers' collector: 20 ms and 36 ms
     * median, up to 172 ms on a loaded host; docs/performance.md). Collected here, in the start's own time, they are
     * old before traffic is expected and the metadata threshold is set above what start-up loaded (the listeners are
     * open already: a datagram that comes meanwhile waits in its socket's receive buffer). -XX:+DisableExplicitGC
     * turns it off.
     */
    private static void settleHeap() {
        long started = System.nanoTime();
        System.gc();
        LOG.info("event=heap_settled millis={}", (System.nanoTime() - started) / 1_000_000);
    }

    @Override
    public Integer call() throws Exception {
        Path path = ConfigOption.resolve(config);
        SystemdNotifier systemd = SystemdNotifier.fromEnvironment();
        Daemon daemon;
        try {
            daemon = Daemon.start(ConfigLoader.load(path));
        } catch (ConfigException e) {
            ConfigOption.printErrors(spec, e);
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            systemd.notify("STOPPING=1");
            systemd.close();
            daemon.close();
            stopped.countDown();
        }, "vnetd-shutdown"));
        // the handler before READY=1: systemd may send SIGHUP (ExecReload) as soon as it reads READY=1, and the
        // JVM's default action for SIGHUP is to exit
        SignalHandler before = Signal.handle(new Signal("HUP"), signal -> reload(daemon, systemd));
        if (before == SignalHandler.SIG_IGN) {
            // the JVM leaves a signal ignored at exec ignored (nohup, some supervisors) and installs no handler
            LOG.warn("event=sighup_ignored reason=\"SIGHUP was ignored when vnetd started (nohup?): it will not "
                    + "reload the configuration; use vnetd reload or POST /api/v1/reload\"");
        }
        settleHeap();
        systemd.notify("READY=1\nSTATUS=forwarding on " + daemon.config().listeners().size() + " listener(s)\nMAINPID="
                + ProcessHandle.current().pid());
        systemd.startWatchdog(() -> daemon.dataplane().workersAlive());
        stopped.await();
        return 0;
    }
}
