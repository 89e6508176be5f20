package dev.vnetd.control.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What the commands that talk to a running daemon share: where its admin endpoint is ({@code --admin}, default
 * the configuration's default {@code 127.0.0.1:9400}), its bearer token ({@code --token-file}, or the file named by
 * {@code VNETD_ADMIN_TOKEN_FILE}), JSON or tables ({@code --json}), and the GET itself.
 */
abstract class AdminClient {
    /** How long a request may take: the admin thread answers in milliseconds unless the daemon is wedged. */
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Option(names = "--admin", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9400",
            description = "the daemon's admin endpoint (default: ${DEFAULT-VALUE})")
    String admin;

    @Option(names = "--json", description = "print the API's JSON instead of a table")
    boolean json;

    @Option(names = "--token-file", paramLabel = "PATH", defaultValue = "${env:VNETD_ADMIN_TOKEN_FILE}",
            description = "file holding the admin API's bearer token (default: $VNETD_ADMIN_TOKEN_FILE)")
    Path tokenFile;

    @Spec
    CommandSpec spec;

    private HttpClient client;

    /** GETs {@code path} (with its query) and prints the body; the exit status says how it went. */
    int print(String path) {
        try {
            HttpResponse<String> response = get(path);
            if (response.statusCode() != 200) {
                spec.commandLine().getErr().print(response.body());
                spec.commandLine().getErr().flush();
                return 1;
            }
            spec.commandLine().getOut().print(response.body());
            spec.commandLine().getOut().flush();
            return 0;
        } catch (IOException e) {
            spec.commandLine().getErr().println("cannot reach vnetd at " + admin + ": " + e.getMessage());
            return 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 2;
        }
    }

    /** The format query parameter for the chosen output. */
    String format() {
        return json ? "" : "format=text";
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create("http://" + admin + path)).timeout(TIMEOUT));
    }

    HttpResponse<String> post(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create("http://" + admin + path)).timeout(TIMEOUT)
                .POST(HttpRequest.BodyPublishers.noBody()));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        if (client == null) {
            client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
        }
        if (tokenFile != null) {
            request.header("Authorization", "Bearer " + readToken());
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The token in {@link #tokenFile}; an error names the file, never its content. */
    private String readToken() throws IOException {
        try {
            return Files.readString(tokenFile, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new IOException("cannot read token file " + tokenFile + " (" + e.getClass().getSimpleName() + ")");
        }
    }
}
