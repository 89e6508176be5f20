package dev.vnetd.control.cli;

import dev.vnetd.control.config.ConfigException;
import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.config.VnetdConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code vnetd validate PATH}: exit 0 with a summary, or 1 with every error as file:line:column: message. */
@Command(name = "validate", description = "Check a configuration file; print every error as file:line:column: message.")
public final class ValidateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PATH", description = "the configuration file")
    Path path;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        try {
            VnetdConfig config = ConfigLoader.load(path);
            spec.commandLine().getOut().printf("%s: ok (%d listeners, %d virtual networks, %d tunnels, %d routes)%n",
                    path, config.listeners().size(), config.virtualNetworks().size(), config.tunnels().size(),
                    config.routes().size());
            return 0;
        } catch (ConfigException e) {
            ConfigOption.printErrors(spec, e);
            spec.commandLine().getErr().printf("%s: %d error(s)%n", path, e.errors().size());
            return 1;
        }
    }
}
