package dev.vnetd.control.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code vnetd tunnels}: the running daemon's tunnels, their state and counters. */
@Command(name = "tunnels", description = "Show the running daemon's tunnels, state and counters.")
public final class TunnelsCommand extends AdminClient implements Callable<Integer> {
    @Override
    public Integer call() {
        return print("/api/v1/tunnels?" + format());
    }
}
