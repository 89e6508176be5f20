package dev.vnetd.control.cli;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.SystemdNotifier;
import dev.vnetd.control.config.ConfigException;
import dev.vnetd.control.config.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code vnetd run [--config PATH]}: the daemon, until SIGTERM or SIGINT. Under systemd ({@code Type=notify}) it
 * says READY=1 once every listener is open, feeds the watchdog while the workers live, and says STOPPING=1.
 */
@Command(name = "run", description = "Run the daemon (config/vnetd.yaml in a checkout, else /etc/vnetd/vnetd.yaml).")
public final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "PATH", description = "the configuration file")
    Path config;

    @Spec
    CommandSpec spec;

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
        systemd.notify("READY=1\nSTATUS=forwarding on " + daemon.config().listeners().size() + " listener(s)\nMAINPID="
                + ProcessHandle.current().pid());
        systemd.startWatchdog(() -> daemon.dataplane().workersAlive());
        stopped.await();
        return 0;
    }
}
