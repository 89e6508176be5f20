package dev.vnetd.control.admin;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin server's bearer-token check, with a stub API behind it. */
class AdminServerTest {
    private static final String SECRET = "s3cr3t-t0ken-for-the-admin-api";

    private final HttpClient http = HttpClient.newHttpClient();
    private AdminServer server;

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.address().getPort() + path));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldRefuseEveryRequestWithoutTheTokenButTheProbes() throws Exception {
        server = AdminServer.start(new InetSocketAddress("127.0.0.1", 0), new StubAdminApi(), AdminToken.of(SECRET));

        HttpResponse<String> missing = get("/api/v1/tunnels", null);
        assertEquals(401, missing.statusCode());
        assertEquals("Bearer realm=\"vnetd\"", missing.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals(401, get("/metrics", "Bearer wrong-token-of-some-length").statusCode());
        assertEquals(401, get("/api/v1/stat", "Basic " + SECRET).statusCode());
        assertEquals(3, server.unauthorizedRequests(), "every refusal counted");

        assertEquals(200, get("/api/v1/tunnels", "Bearer " + SECRET).statusCode());
        assertEquals("vnetd_up 1\n", get("/metrics", "Bearer " + SECRET).body());
        assertEquals(200, get("/healthz", null).statusCode(), "liveness probes need no token");
        assertEquals(200, get("/readyz", null).statusCode(), "nor readiness probes");
        assertEquals(3, server.unauthorizedRequests(), "requests with the token are not");
    }

    @Test
    void shouldNeedNoTokenWithoutOne() throws Exception {
        server = AdminServer.start(new InetSocketAddress("127.0.0.1", 0), new StubAdminApi());

        assertEquals(200, get("/api/v1/tunnels", null).statusCode());
        assertTrue(get("/api/v1/tunnels", "Bearer anything").body().contains("tunnels"));
        assertEquals(0, server.unauthorizedRequests());
    }
}
