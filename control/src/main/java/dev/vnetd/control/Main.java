package dev.vnetd.control;

import dev.vnetd.control.cli.DemoCommand;
import dev.vnetd.control.cli.FlowsCommand;
import dev.vnetd.control.cli.LookupCommand;
import dev.vnetd.control.cli.ReloadCommand;
import dev.vnetd.control.cli.RoutesCommand;
import dev.vnetd.control.cli.RunCommand;
import dev.vnetd.control.cli.StatCommand;
import dev.vnetd.control.cli.TunnelsCommand;
import dev.vnetd.control.cli.ValidateCommand;
import io.netty.util.ResourceLeakDetector;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code vnetd} command line. */
@Command(name = "vnetd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Userspace virtual-network routing dataplane for Linux edge hosts.",
        subcommands = {RunCommand.class, ValidateCommand.class, LookupCommand.class, DemoCommand.class,
            TunnelsCommand.class, RoutesCommand.class, FlowsCommand.class, StatCommand.class, ReloadCommand.class})
public final class Main {
    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // the daemon does not track buffers: sampling costs ~10 % of the packet rate and allocates stack traces
            // (docs/performance.md); the tests run the detector at paranoid instead
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        System.exit(commandLine().execute(args));
    }

    /** The command line, for tests that run commands in-process. */
    public static CommandLine commandLine() {
        return new CommandLine(new Main());
    }

    /** Prints the build's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"vnetd " + Daemon.version() + " (Java " + Runtime.version() + ")"};
        }
    }
}
