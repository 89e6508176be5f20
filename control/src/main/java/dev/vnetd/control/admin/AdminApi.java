package dev.vnetd.control.admin;

/**
 * What the admin endpoint serves, implemented by the daemon. JSON field names are stable; {@code text} variants
 * are tables for people (the CLI prints them).
 */
public interface AdminApi {
    /**
     * One answer of the API.
     *
     * @param status      HTTP status
     * @param contentType media type of the body
     * @param body        the body
     */
    record Response(int status, String contentType, String body) {
        /** A 200 JSON answer. */
        public static Response json(String body) {
            return new Response(200, "application/json", body);
        }

        /** A 200 plain-text answer. */
        public static Response text(String body) {
            return new Response(200, "text/plain; charset=utf-8", body);
        }

        /** A JSON error. */
        public static Response error(int status, String message) {
            return new Response(status, "application/json",
                    new JsonWriter().beginObject().field("error", message).endObject().toString());
        }
    }

    /** Prometheus text of every metric. */
    String metrics();

    /** Null when the daemon is alive, else why not. */
    String health();

    /** Null when every listener is open, else which are not and why. */
    String ready();

    /** {@code GET /api/v1/tunnels}: tunnels with state and counters. */
    Response tunnels(boolean text);

    /** {@code GET /api/v1/routes?vn=NAME}: a virtual network's routes and their next hops. */
    Response routes(String vn, boolean text);

    /** {@code GET /api/v1/virtual-networks}: virtual networks with route and flow counts. */
    Response virtualNetworks(boolean text);

    /** {@code GET /api/v1/flows?vn=NAME&limit=N}: flows of the flow table. */
    Response flows(String vn, int limit, boolean text);

    /**
     * {@code POST /api/v1/reload}: reloads the configuration; 200 on success, 422 with every error otherwise (as
     * JSON {@code result, errors[]}, or one error a line with {@code format=text}).
     */
    Response reload(boolean text);

    /** {@code GET /api/v1/stat}: totals as {@code name value} lines, for rates. */
    Response stat();
}
