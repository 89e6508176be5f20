package dev.vnetd.control.admin;

/** An admin API that answers every call with a fixed body, for tests of the server and the CLI. */
public final class StubAdminApi implements AdminApi {
    @Override
    public String metrics() {
        return "vnetd_up 1\n";
    }

    @Override
    public String health() {
        return null;
    }

    @Override
    public String ready() {
        return null;
    }

    @Override
    public Response tunnels(boolean text) {
        return Response.json("{\"tunnels\":[]}");
    }

    @Override
    public Response routes(String vn, boolean text) {
        return Response.json("{}");
    }

    @Override
    public Response virtualNetworks(boolean text) {
        return Response.json("{}");
    }

    @Override
    public Response flows(String vn, int limit, boolean text) {
        return Response.json("{}");
    }

    @Override
    public Response reload(boolean text) {
        return Response.json("{\"result\":\"success\",\"errors\":[]}");
    }

    @Override
    public Response stat() {
        return Response.text("rx_packets 0\n");
    }
}
