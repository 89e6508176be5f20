package dev.vnetd.control.peers;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TCP MSS clamping for real, between the host stacks of two sites ({@link SiteEdgeSite}) whose vnetd gateways have
 * TUN attachments larger than their tunnels:
 *
 * <pre>
 *  site-a host ── vnet0 ── vnetd ══ tunnel "edge" ══ edge vnetd ══ tunnel "edge" ══ vnetd ── vnet0 ── site-b host
 *                 mtu 1500         mtu 1400                        mtu 1400                  mtu 1500
 *                                  mss_clamp: auto (1360 for IPv4, 1340 for IPv6)
 * </pre>
 *
 * Each host computes its MSS from its 1500-byte TUN device (1460 for IPv4, 1440 for IPv6), so without help it sends
 * segments the tunnels cannot carry. With {@code mss_clamp: auto} on site-a's tunnel, a 2 MiB transfer per family
 * from site-a to site-b arrives byte for byte; tshark on both TUN devices sees the SYN leave site-a's host at 1460
 * and reach site-b's at 1360, and the SYN-ACK leave site-b's host at 1460 and reach site-a's at 1360 (clamped both
 * ways by the one tunnel); no segment is larger than the tunnel MTU; tshark on both underlay links sees no IP
 * fragment; no vnetd drops a packet as {@code too_big} or sends an ICMP error. Then site-a's vnetd reloads without
 * the clamp and the same transfers run again: the hosts' first full-size segments (DF, as Linux TCP sends them) are
 * dropped as {@code too_big} and answered with Fragmentation Needed / Packet Too Big carrying 1400, which is the
 * contrast that shows the clamp is what kept the first run clean. Assertions are on counters and captures, never
 * on timing. The whole run takes 20 to 30 s, most of it three JVMs starting, and is bounded at 60 s for a loaded
 * machine.
 */
class MssClampNamespaceTest {
    private static final String PYTHON = Prerequisites.PYTHON;
    private static final String SITE_B_HOST = "10.0.2.1";
    private static final String SITE_B_HOST6 = "fd00:2::1";
    /** The TUN devices' MTU: what the hosts compute their MSS from. */
    private static final int TUN_MTU = 1500;
    /** The sites' tunnels to the edge carry at most this: less than the TUN MTU. */
    private static final int TUNNEL_MTU = 1400;
    /** The MSS the hosts announce: TUN MTU less IPv4 and TCP headers. */
    private static final int HOST_MSS = TUN_MTU - 40;
    /** The MSS the hosts announce over IPv6: TUN MTU less IPv6 and TCP headers. */
    private static final int HOST_MSS6 = TUN_MTU - 60;
    /** {@code mss_clamp: auto} for IPv4: the tunnel MTU less 40. */
    private static final int CLAMPED_MSS = TUNNEL_MTU - 40;
    /** {@code mss_clamp: auto} for IPv6: the tunnel MTU less 60. */
    private static final int CLAMPED_MSS6 = TUNNEL_MTU - 60;
    private static final int TRANSFER_BYTES = 2 << 20;
    /** Ports of the transfers: with the clamp IPv4 and IPv6, then without it IPv4 and IPv6. */
    private static final int CLAMPED_PORT = 5001;
    private static final int CLAMPED_PORT6 = 5002;
    private static final int UNCLAMPED_PORT = 5003;
    private static final int UNCLAMPED_PORT6 = 5004;
    private static final int GRE_IN_UDP_PORT = 4754;
    private static final int ICMP_ECHO_REPLY = 0;
    private static final int ICMP_ECHO_REQUEST = 8;
    private static final int ICMP_UNREACHABLE = 3;
    private static final int ICMP_FRAGMENTATION_NEEDED = 4;
    private static final int ICMPV6_PACKET_TOO_BIG = 2;
    /** ICMPv6 types below this are errors (RFC 4443 2.1). */
    private static final int ICMPV6_INFORMATIONAL = 128;
    /** What the TUN captures keep: TCP, and ICMP errors. */
    private static final String TUN_FILTER = "tcp or icmp or icmp6";
    /** Enough of each packet for the IPv6 and TCP headers with options, and an ICMP error's own header. */
    private static final int SNAPLEN = 128;
    private static final String ADMIN = "http://127.0.0.1:9400";
    private static final String TOO_BIG = "vnetd_drops_total{reason=\"too_big\"} ";
    private static final String ICMP_SENT = "vnetd_icmp_errors_total{result=\"sent\"} ";
    private static final String MSS_CLAMPED = "vnetd_mss_clamped_total ";

    @TempDir
    static Path dir;

    static SiteEdgeSite net;
    static final List<VnetdProcess> running = new ArrayList<>();
    static byte[] sent;
    /** What site-b's host received per transfer port; absent when the transfer did not finish. */
    static final Map<Integer, byte[]> received = new HashMap<>();
    /** The clamped run as captured on the TUN devices of site-a and site-b and on the sites' underlay links. */
    static List<Packet> tunA;
    static List<Packet> tunB;
    static List<Outer> underlayA;
    static List<Outer> underlayB;
    /** site-a's TUN device during the run without the clamp. */
    static List<Packet> unclampedTunA;
    /** /metrics of site-a, the edge and site-b after the clamped run, and of site-a after the unclamped one. */
    static final Map<String, String> clampedMetrics = new HashMap<>();
    static String unclampedMetrics;

    @BeforeAll
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    static void runTransfersWithAndWithoutTheClamp() throws Exception {
        Prerequisites.root();
        Prerequisites.tshark();
        Prerequisites.tool("ping", "-V", "iputils-ping");
        Prerequisites.tool("curl", "--version", "curl");
        net = SiteEdgeSite.create("vt-mss");
        sent = new byte[TRANSFER_BYTES];
        new Random(1360).nextBytes(sent);
        Files.write(dir.resolve("sent.bin"), sent);
        Path siteAConfig = dir.resolve("site-a.yaml");
        List<CompletableFuture<Tshark>> captures = new ArrayList<>();
        try {
            captures.add(CompletableFuture.supplyAsync(() -> capture(net.siteA, net.siteALink, "ip", "underlay-a")));
            captures.add(CompletableFuture.supplyAsync(() -> capture(net.siteB, net.siteBLink, "ip", "underlay-b")));
            startVnetds(siteAConfig);
            captures.add(CompletableFuture.supplyAsync(() -> capture(net.siteA, "vnet0", TUN_FILTER, "tun-a")));
            captures.add(CompletableFuture.supplyAsync(() -> capture(net.siteB, "vnet0", TUN_FILTER, "tun-b")));
            ping(net.siteA, SITE_B_HOST);
            ping(net.siteA, SITE_B_HOST6);
            for (CompletableFuture<Tshark> c : captures) {
                c.get(30, TimeUnit.SECONDS);
            }
            transfer(SITE_B_HOST, CLAMPED_PORT);
            transfer(SITE_B_HOST6, CLAMPED_PORT6);
        } finally {
            close(captures);
        }
        var underlays = captures.subList(0, 2).stream().map(c -> c.thenApplyAsync(MssClampNamespaceTest::outer))
                .toList();
        var tuns = captures.subList(2, 4).stream().map(c -> c.thenApplyAsync(MssClampNamespaceTest::packets))
                .toList();
        for (String ns : List.of(net.siteA, net.edge, net.siteB)) {
            clampedMetrics.put(ns, metrics(ns));
        }

        Files.writeString(siteAConfig, siteAConfig(false));
        SiteEdgeSite.Result reload = SiteEdgeSite.run(net.siteA, 10, "curl", "-sf", "-X", "POST",
                ADMIN + "/api/v1/reload");
        assertEquals(0, reload.exit(), "site-a reloads without mss_clamp: " + reload.output());
        Tshark unclampedRun = capture(net.siteA, "vnet0", TUN_FILTER, "unclamped-tun-a");
        try {
            transfer(SITE_B_HOST, UNCLAMPED_PORT);
            transfer(SITE_B_HOST6, UNCLAMPED_PORT6);
        } finally {
            unclampedRun.close();
        }
        unclampedMetrics = metrics(net.siteA);
        unclampedTunA = packets(unclampedRun);
        underlayA = underlays.get(0).get(30, TimeUnit.SECONDS);
        underlayB = underlays.get(1).get(30, TimeUnit.SECONDS);
        tunA = tuns.get(0).get(30, TimeUnit.SECONDS);
        tunB = tuns.get(1).get(30, TimeUnit.SECONDS);
    }

    /** Stops the captures that started, in parallel (each lets tshark finish its file). */
    private static void close(List<CompletableFuture<Tshark>> captures) {
        captures.stream().filter(c -> c.isDone() && !c.isCompletedExceptionally())
                .map(c -> CompletableFuture.runAsync(() -> {
                    try {
                        c.join().close();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                })).toList().forEach(CompletableFuture::join);
    }

    @AfterAll
    static void deleteNamespaces() throws Exception {
        try {
            List<String> logs = new ArrayList<>();
            for (VnetdProcess vnetd : running) {
                logs.add(vnetd.log());
                vnetd.close();
            }
            for (String log : logs) {
                assertFalse(log.contains("Exception") || log.contains("listener_failed"), log);
            }
        } finally {
            if (net != null) {
                net.close();
            }
        }
    }

    @Test
    void shouldCarryTcpTransfersByteForByteOverIpv4AndIpv6WithTheClamp() {
        assertArrayEquals(sent, received.get(CLAMPED_PORT), "IPv4: the bytes site-b's host received");
        assertArrayEquals(sent, received.get(CLAMPED_PORT6), "IPv6: the bytes site-b's host received");
    }

    @Test
    void shouldClampTheMssOfTheSynAndTheSynAckThatEachHostSees() {
        assertEquals(List.of(HOST_MSS), synMss(tunA, CLAMPED_PORT, false), "the SYN as site-a's host sent it");
        assertEquals(List.of(CLAMPED_MSS), synMss(tunB, CLAMPED_PORT, false), "the SYN as site-b's host received it");
        assertEquals(List.of(HOST_MSS), synMss(tunB, CLAMPED_PORT, true), "the SYN-ACK as site-b's host sent it");
        assertEquals(List.of(CLAMPED_MSS), synMss(tunA, CLAMPED_PORT, true),
                "the SYN-ACK as site-a's host received it: clamped on the way in");
        assertEquals(List.of(HOST_MSS6), synMss(tunA, CLAMPED_PORT6, false), "IPv6 SYN sent");
        assertEquals(List.of(CLAMPED_MSS6), synMss(tunB, CLAMPED_PORT6, false), "IPv6 SYN received");
        assertEquals(List.of(HOST_MSS6), synMss(tunB, CLAMPED_PORT6, true), "IPv6 SYN-ACK sent");
        assertEquals(List.of(CLAMPED_MSS6), synMss(tunA, CLAMPED_PORT6, true), "IPv6 SYN-ACK received");
    }

    @Test
    void shouldCountEachClampedSynAndSynAckAtTheClampingSiteOnly() {
        assertTrue(counter(clampedMetrics.get(net.siteA), MSS_CLAMPED) >= 4,
                "a SYN and a SYN-ACK per family at site-a: " + clampedMetrics.get(net.siteA));
        assertEquals(0, counter(clampedMetrics.get(net.edge), MSS_CLAMPED), "the edge does not clamp");
        assertEquals(0, counter(clampedMetrics.get(net.siteB), MSS_CLAMPED), "site-b does not clamp");
    }

    @Test
    void shouldSendSegmentsFillingButNotExceedingTheTunnelMtuWithTheClamp() {
        for (int port : List.of(CLAMPED_PORT, CLAMPED_PORT6)) {
            List<Packet> sentByHost = tunA.stream().filter(p -> p.dstPort() == port && !p.icmp()).toList();
            assertEquals(TUNNEL_MTU, sentByHost.stream().mapToInt(Packet::length).max().orElse(0),
                    "site-a's host filled its segments up to the tunnel MTU and not beyond");
            assertTrue(sentByHost.stream().filter(p -> p.length() == TUNNEL_MTU).count()
                    >= TRANSFER_BYTES / TUNNEL_MTU, "most of the transfer in full segments");
        }
    }

    @Test
    void shouldPutNoIpFragmentOnTheUnderlayBetweenTheGateways() {
        for (List<Outer> underlay : List.of(underlayA, underlayB)) {
            assertEquals(List.of(), underlay.stream().filter(Outer::fragment).toList(), "IP fragments");
            assertTrue(underlay.stream().filter(o -> o.udpDstPort() == GRE_IN_UDP_PORT).count()
                    >= 2 * TRANSFER_BYTES / TUNNEL_MTU, "both transfers crossed this link in GRE-in-UDP");
        }
    }

    @Test
    void shouldDropNothingAsTooBigAndSendNoIcmpErrorWithTheClamp() {
        for (String ns : List.of(net.siteA, net.edge, net.siteB)) {
            assertEquals(0, counter(clampedMetrics.get(ns), TOO_BIG), ns);
            assertEquals(0, counter(clampedMetrics.get(ns), ICMP_SENT), ns);
        }
        assertEquals(List.of(), tunA.stream().filter(Packet::icmpError).toList(),
                "no ICMP error (Fragmentation Needed, Packet Too Big) reached site-a's host");
    }

    @Test
    void shouldDropTheFirstFullSizeSegmentsAsTooBigWithFragmentationNeededWithoutTheClamp() {
        String clamped = clampedMetrics.get(net.siteA);
        assertEquals(counter(clamped, MSS_CLAMPED), counter(unclampedMetrics, MSS_CLAMPED), "nothing clamped");
        assertTrue(counter(unclampedMetrics, TOO_BIG) >= 2, "at least one segment per family: " + unclampedMetrics);
        assertTrue(counter(unclampedMetrics, ICMP_SENT) >= 2, unclampedMetrics);
        assertEquals(List.of(HOST_MSS), synMss(unclampedTunA, UNCLAMPED_PORT, true),
                "the SYN-ACK reaches site-a's host as site-b's host sent it");
        assertEquals(List.of(HOST_MSS6), synMss(unclampedTunA, UNCLAMPED_PORT6, true), "IPv6 SYN-ACK");
        for (int port : List.of(UNCLAMPED_PORT, UNCLAMPED_PORT6)) {
            assertTrue(unclampedTunA.stream().anyMatch(p -> p.dstPort() == port && !p.icmp()
                    && p.length() == TUN_MTU), "site-a's host sent segments as large as its TUN device");
        }
        assertTrue(unclampedTunA.stream().anyMatch(p -> p.icmpType() == ICMP_UNREACHABLE
                        && p.icmpCode() == ICMP_FRAGMENTATION_NEEDED && p.icmpMtu() == TUNNEL_MTU),
                "Fragmentation Needed with the tunnel MTU");
        assertTrue(unclampedTunA.stream().anyMatch(p -> p.icmp6Type() == ICMPV6_PACKET_TOO_BIG
                && p.icmp6Mtu() == TUNNEL_MTU), "Packet Too Big with the tunnel MTU");
        for (int port : List.of(UNCLAMPED_PORT, UNCLAMPED_PORT6)) {
            byte[] arrived = received.get(port);
            assertTrue(arrived == null || Arrays.equals(sent, arrived),
                    "a transfer path MTU discovery let finish arrived intact");
        }
    }

    /**
     * The MSS options of the SYNs (or SYN-ACKs) of the transfer to {@code port} in {@code capture}, each value once
     * (a retransmitted SYN carries the same).
     */
    private static List<Integer> synMss(List<Packet> capture, int port, boolean synAck) {
        return capture.stream().filter(p -> !p.icmp() && p.syn() && p.ack() == synAck
                        && (synAck ? p.srcPort() : p.dstPort()) == port)
                .map(Packet::mss).distinct().toList();
    }

    /** The packets of a TUN capture, dissected by tshark: the outermost TCP or ICMP header of each. */
    private static List<Packet> packets(Tshark capture) {
        return dissect(capture, List.of("frame.len", "tcp.srcport", "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack",
                "tcp.options.mss_val", "icmp.type", "icmp.code", "icmp.mtu", "icmpv6.type", "icmpv6.mtu"),
                "-o", "tcp.analyze_sequence_numbers:FALSE")
                .stream().map(f -> new Packet(number(f[0]), number(f[1]), number(f[2]), flag(f[3]), flag(f[4]),
                        number(f[5]), number(f[6]), number(f[7]), number(f[8]), number(f[9]), number(f[10])))
                .toList();
    }

    /** The outer IPv4 headers of an underlay capture, fragments not reassembled. */
    private static List<Outer> outer(Tshark capture) {
        return dissect(capture, List.of("ip.flags.mf", "ip.frag_offset", "udp.dstport"), "-o", "ip.defragment:FALSE")
                .stream().map(f -> new Outer(flag(f[0]) || number(f[1]) > 0, number(f[2]))).toList();
    }

    /** The first occurrence of each of {@code fields} in each packet of {@code capture}, "" when absent. */
    private static List<String[]> dissect(Tshark capture, List<String> fields, String... options) {
        List<String> command = new ArrayList<>(List.of(options));
        command.addAll(List.of("-T", "fields", "-E", "occurrence=f"));
        for (String field : fields) {
            command.addAll(List.of("-e", field));
        }
        try {
            List<String[]> packets = new ArrayList<>();
            for (String line : capture.read(null, command.toArray(String[]::new))) {
                String[] values = line.split("\t", -1);
                assertEquals(fields.size(), values.length, line);
                packets.add(values);
            }
            return packets;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int number(String field) {
        return field.isEmpty() ? -1 : Integer.parseInt(field);
    }

    /** A boolean field: tshark 4.0 prints 1 or 0, later versions True or False. */
    private static boolean flag(String field) {
        return field.equals("1") || field.equalsIgnoreCase("true");
    }

    /**
     * A packet on a TUN device; -1 for a field it does not have. An ICMP error's TCP fields are those of the packet
     * it quotes.
     */
    private record Packet(int length, int srcPort, int dstPort, boolean syn, boolean ack, int mss, int icmpType,
                          int icmpCode, int icmpMtu, int icmp6Type, int icmp6Mtu) {
        boolean icmp() {
            return icmpType >= 0 || icmp6Type >= 0;
        }

        /** ICMP other than echo, ICMPv6 below the informational types. */
        boolean icmpError() {
            return icmpType >= 0 && icmpType != ICMP_ECHO_REPLY && icmpType != ICMP_ECHO_REQUEST
                    || icmp6Type >= 0 && icmp6Type < ICMPV6_INFORMATIONAL;
        }
    }

    /** An outer IPv4 packet on an underlay link: whether it is a fragment, its UDP destination port (-1 if none). */
    private record Outer(boolean fragment, int udpDstPort) {
    }

    /** A counter in Prometheus text {@code metrics}: the value of the line starting with {@code prefix}. */
    private static long counter(String metrics, String prefix) {
        return metrics.lines().filter(l -> l.startsWith(prefix))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(prefix.length()))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + prefix + "in " + metrics));
    }

    private static String metrics(String ns) throws Exception {
        SiteEdgeSite.Result r = SiteEdgeSite.run(ns, 10, "curl", "-sf", ADMIN + "/metrics");
        assertEquals(0, r.exit(), r.output());
        return r.output();
    }

    /**
     * Sends {@link #sent} from site-a's host to site-b's host at {@code address}:{@code port} over TCP and records
     * what arrived. Without the clamp the first full-size segments wait for path MTU discovery, so a transfer that
     * does not finish within its time is recorded as absent rather than failed here.
     */
    private static void transfer(String address, int port) throws Exception {
        Path into = dir.resolve("received-" + port + ".bin");
        String family = address.contains(":") ? "AF_INET6" : "AF_INET";
        Process server = SiteEdgeSite.start(net.siteB, PYTHON, "-u", "-c", """
                import socket
                s = socket.socket(socket.%s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("%s", %d))
                s.listen(1)
                print("listening", flush=True)
                s.settimeout(10)
                c, _ = s.accept()
                c.settimeout(10)
                with open("%s", "wb") as f:
                    while True:
                        data = c.recv(65536)
                        if not data:
                            break
                        f.write(data)
                print("done", flush=True)
                """.formatted(family, address, port, into));
        try {
            SiteEdgeSite.awaitLine(server, "listening");
            SiteEdgeSite.Result client = SiteEdgeSite.run(net.siteA, 15, PYTHON, "-c", """
                    import socket
                    s = socket.create_connection(("%s", %d), timeout=10)
                    s.sendall(open("%s", "rb").read())
                    s.close()
                    """.formatted(address, port, dir.resolve("sent.bin")));
            if (client.exit() == 0 && server.waitFor(10, TimeUnit.SECONDS) && server.exitValue() == 0) {
                received.put(port, Files.readAllBytes(into));
            }
        } finally {
            server.destroyForcibly();
        }
    }


    /** Three echo replies within 10 s: the first packets through fresh vnetds wait for class loading and the JIT. */
    private static void ping(String ns, String destination) throws Exception {
        SiteEdgeSite.Result r = SiteEdgeSite.run(ns, 15, "ping", "-n", "-c", "3", "-i", "0.2", "-w", "10",
                destination);
        assertEquals(0, r.exit(), r.output());
    }

    private static Tshark capture(String ns, String iface, String filter, String name) {
        try {
            return Tshark.capture(ns, iface, filter, dir.resolve(name + ".pcapng"), SNAPLEN);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts the vnetds of site-a (with the clamp, its configuration in {@code siteAConfig}), site-b and the edge. */
    private static void startVnetds(Path siteAConfig) throws Exception {
        Files.writeString(siteAConfig, siteAConfig(true));
        String[][] configs = {
                {net.siteA, siteAConfig.toString()},
                {net.siteB, Files.writeString(dir.resolve("site-b.yaml"), siteConfig("site-b",
                        SiteEdgeSite.SITE_B_UNDERLAY, SiteEdgeSite.EDGE_B_UNDERLAY, "2", "1", false)).toString()},
                {net.edge, Files.writeString(dir.resolve("edge.yaml"), edgeConfig()).toString()}};
        List<CompletableFuture<VnetdProcess>> starting = new ArrayList<>();
        for (String[] c : configs) {
            Path config = Path.of(c[1]);
            starting.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return VnetdProcess.start(Namespaces.exec(c[0]), config,
                            dir.resolve(config.getFileName() + ".log"));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<VnetdProcess> f : starting) {
            running.add(f.get(30, TimeUnit.SECONDS));
        }
    }

    private static String siteAConfig(boolean clamp) {
        return siteConfig("site-a", SiteEdgeSite.SITE_A_UNDERLAY, SiteEdgeSite.EDGE_A_UNDERLAY, "1", "2", clamp);
    }

    /**
     * A site gateway: a TUN attachment of MTU {@link #TUN_MTU} toward its host (10.0.OWN.1/24, fd00:OWN::1/64) and a
     * GRE-in-UDP tunnel of MTU {@link #TUNNEL_MTU} to the edge, clamping with {@code clamp}, for the other site.
     */
    private static String siteConfig(String name, String underlay, String edge, String own, String other,
                                     boolean clamp) {
        return """
                node: {name: %s, workers: 2, transport: auto}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: underlay, type: gre-udp, listen: %s}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: hosts, type: tun, device: vnet0, virtual_network: default, mtu: %d,
                     addresses: [10.0.%s.1/24, "fd00:%s::1/64"], host_routes: [10.0.%s.0/24, "fd00:%s::/64"]}
                  - {name: edge, type: gre-udp, listener: underlay, remote: %s, virtual_network: default, mtu: %d%s}
                routes:
                  - {prefix: 10.0.%s.0/24, virtual_network: default, via: hosts}
                  - {prefix: "fd00:%s::/64", virtual_network: default, via: hosts}
                  - {prefix: 10.0.%s.0/24, virtual_network: default, via: edge}
                  - {prefix: "fd00:%s::/64", virtual_network: default, via: edge}
                """.formatted(name, underlay, TUN_MTU, own, own, other, other, edge, TUNNEL_MTU,
                clamp ? ", mss_clamp: auto" : "", own, own, other, other);
    }

    /** The edge: a GRE-in-UDP tunnel to each site (default MTU, no clamp), each site's prefixes through its own. */
    private static String edgeConfig() {
        return """
                node: {name: edge, workers: 2, transport: auto}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: underlay, type: gre-udp, listen: 0.0.0.0}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: site-a, type: gre-udp, listener: underlay, remote: %s, virtual_network: default}
                  - {name: site-b, type: gre-udp, listener: underlay, remote: %s, virtual_network: default}
                routes:
                  - {prefix: 10.0.1.0/24, virtual_network: default, via: site-a}
                  - {prefix: 10.0.2.0/24, virtual_network: default, via: site-b}
                  - {prefix: "fd00:1::/64", virtual_network: default, via: site-a}
                  - {prefix: "fd00:2::/64", virtual_network: default, via: site-b}
                """.formatted(SiteEdgeSite.SITE_A_UNDERLAY, SiteEdgeSite.SITE_B_UNDERLAY);
    }
}
