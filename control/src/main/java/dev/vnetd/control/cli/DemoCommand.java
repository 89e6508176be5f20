package dev.vnetd.control.cli;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.config.VnetdConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code vnetd demo}: runs vnetd on the embedded default configuration and plays its sites and data centres on
 * loopback, printing where each packet went; then keeps traffic flowing so /metrics moves, until interrupted.
 */
@Command(name = "demo", description = "Run vnetd on its embedded default config and play the sites around it.")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--rounds", paramLabel = "N", description = "stop after N rounds of traffic (default: run until "
            + "interrupted)")
    int rounds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        VnetdConfig config = ConfigLoader.loadEmbedded();
        try (Daemon daemon = Daemon.start(config); DemoScenario scenario = new DemoScenario(config)) {
            out.printf("vnetd %s is running on the embedded default config (%s)%n", Daemon.version(),
                    ConfigLoader.EMBEDDED_NAME);
            out.printf("metrics: http://%s:%d/metrics   (config: config/vnetd.yaml, docs: docs/)%n%n",
                    daemon.adminAddress().getHostString(), daemon.adminAddress().getPort());
            out.flush();
            int failures = scenario.playRound(out, true);
            out.printf("%nround 1: %s%n", failures == 0 ? "every packet went where the routes and flows say"
                    : failures + " packet(s) went astray");
            out.flush();
            for (int round = 2; rounds == 0 || round <= rounds; round++) {
                Thread.sleep(1000);
                int failed = scenario.playRound(out, false);
                failures += failed;
                out.printf("round %d: %d packets through vnetd, %s%n", round, scenario.size(),
                        failed == 0 ? "all delivered as routed" : failed + " astray");
                out.flush();
            }
            return failures == 0 ? 0 : 1;
        }
    }
}
