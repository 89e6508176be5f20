package dev.vnetd.control.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/** {@code vnetd routes --vn NAME}: a virtual network's routes and next hops in the running daemon. */
@Command(name = "routes", description = "Show a virtual network's routes and next hops in the running daemon.")
public final class RoutesCommand extends AdminClient implements Callable<Integer> {
    @Option(names = "--vn", required = true, paramLabel = "NAME", description = "the virtual network")
    String vn;

    @Override
    public Integer call() {
        return print("/api/v1/routes?vn=" + URLEncoder.encode(vn, StandardCharsets.UTF_8) + "&" + format());
    }
}
