package dev.vnetd.control.cli;

import dev.vnetd.control.config.ConfigError;
import dev.vnetd.control.config.ConfigException;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where a command finds its configuration when none is named. */
final class ConfigOption {
    /** The configuration of a repository checkout, used when vnetd runs from one. */
    static final Path REPOSITORY_CONFIG = Path.of("config", "vnetd.yaml");
    /** The installed configuration. */
    static final Path SYSTEM_CONFIG = Path.of("/etc/vnetd/vnetd.yaml");

    private ConfigOption() {
    }

    /** {@code given}, else config/vnetd.yaml when run from the repository, else /etc/vnetd/vnetd.yaml. */
    static Path resolve(Path given) {
        if (given != null) {
            return given;
        }
        return Files.isRegularFile(REPOSITORY_CONFIG) ? REPOSITORY_CONFIG : SYSTEM_CONFIG;
    }

    /** Prints every error of a configuration that failed, one {@code file:line:column: message} a line. */
    static void printErrors(CommandSpec spec, ConfigException e) {
        for (ConfigError error : e.errors()) {
            spec.commandLine().getErr().println(error);
        }
    }
}
