package dev.vnetd.control.cli;

import picocli.CommandLine.Command;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;

/**
 * {@code vnetd reload}: the running daemon reloads its configuration file; prints "reloaded", or every error (the
 * previous configuration keeps running) and exits 1.
 */
@Command(name = "reload", description = "Reload the running daemon's configuration file.")
public final class ReloadCommand extends AdminClient implements Callable<Integer> {
    @Override
    public Integer call() throws InterruptedException {
        HttpResponse<String> response;
        try {
            response = post("/api/v1/reload?" + format());
        } catch (IOException e) {
            spec.commandLine().getErr().println("cannot reach vnetd at " + admin + ": " + e.getMessage());
            return 2;
        }
        if (response.statusCode() == 200) {
            spec.commandLine().getOut().print(response.body());
            spec.commandLine().getOut().flush();
        } else {
            spec.commandLine().getErr().print(response.body());
            spec.commandLine().getErr().flush();
        }
        return response.statusCode() == 200 ? 0 : 1;
    }
}
