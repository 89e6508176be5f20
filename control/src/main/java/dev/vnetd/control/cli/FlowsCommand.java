package dev.vnetd.control.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/** {@code vnetd flows [--vn NAME] [--limit N]}: the running daemon's ARR flows. */
@Command(name = "flows", description = "Show the running daemon's flows (Automatic Return Routing).")
public final class FlowsCommand extends AdminClient implements Callable<Integer> {
    @Option(names = "--vn", paramLabel = "NAME", description = "only this virtual network")
    String vn;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "at most N flows (default 100)")
    int limit;

    @Override
    public Integer call() {
        String query = "limit=" + limit + (vn == null ? "" : "&vn=" + URLEncoder.encode(vn, StandardCharsets.UTF_8));
        return print("/api/v1/flows?" + query + "&" + format());
    }
}
