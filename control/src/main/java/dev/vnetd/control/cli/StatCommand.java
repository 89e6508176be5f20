package dev.vnetd.control.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code vnetd stat}: live rates of the running daemon — packets in and out per second, drops per second by
 * reason, flows — refreshed every interval, like vmstat.
 */
@Command(name = "stat", description = "Show live packet, drop and flow rates of the running daemon.")
public final class StatCommand extends AdminClient implements Callable<Integer> {
    @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "1", description = "seconds between lines")
    double interval;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0", description = "stop after N lines (0: never)")
    int count;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Long> previous;
        try {
            previous = sample();
        } catch (IOException e) {
            spec.commandLine().getErr().println("cannot reach vnetd at " + admin + ": " + e.getMessage());
            return 2;
        }
        out.printf("%12s %12s %12s %10s  %s%n", "rx_pkt/s", "tx_pkt/s", "drops/s", "flows", "drops by reason");
        for (int line = 1; count == 0 || line <= count; line++) {
            long started = System.nanoTime();
            Thread.sleep((long) (interval * 1000));
            Map<String, Long> now;
            try {
                now = sample();
            } catch (IOException e) {
                spec.commandLine().getErr().println("lost vnetd at " + admin + ": " + e.getMessage());
                return 2;
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            StringBuilder reasons = new StringBuilder();
            long drops = 0;
            for (Map.Entry<String, Long> e : now.entrySet()) {
                if (e.getKey().startsWith("drops.")) {
                    long delta = e.getValue() - previous.getOrDefault(e.getKey(), 0L);
                    drops += delta;
                    if (delta > 0) {
                        reasons.append(e.getKey().substring("drops.".length())).append('=')
                                .append(Math.round(delta / seconds)).append(' ');
                    }
                }
            }
            out.printf("%12.0f %12.0f %12.0f %10d  %s%n",
                    (now.get("rx_packets") - previous.get("rx_packets")) / seconds,
                    (now.get("tx_packets") - previous.get("tx_packets")) / seconds, drops / seconds,
                    now.get("flows"), reasons.toString().strip());
            out.flush();
            previous = now;
        }
        return 0;
    }

    private Map<String, Long> sample() throws IOException, InterruptedException {
        HttpResponse<String> response = get("/api/v1/stat");
        if (response.statusCode() != 200) {
            throw new IOException("HTTP " + response.statusCode());
        }
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : response.body().split("\n")) {
            int space = line.indexOf(' ');
            if (space > 0) {
                values.put(line.substring(0, space), Long.parseLong(line.substring(space + 1).strip()));
            }
        }
        return values;
    }
}
