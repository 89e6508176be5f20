package dev.vnetd.control.peers;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Path MTU through vnetd for real, in three network namespaces:
 *
 * <pre>
 *  edge (vnetd)  198.18.1.1 ==mtu 1500== 198.18.1.2  router  198.18.2.1 ==mtu 1000== 198.18.2.2 site, .3 dc  peers
 * </pre>
 *
 * Both tunnels have MTU 1400, above what the router's second link carries once encapsulated, as when an operator
 * sets the tunnel MTU for the usual 1500-byte path and one path is smaller. The site (mtu_peer.py, plain UDP
 * sockets, scapy for the inner packets) sends through vnetd to the data centre:
 * <ul>
 *   <li>a 1300-byte inner packet without DF: the site's kernel fragments it towards vnetd, the edge's kernel
 *       reassembles it, vnetd sends it on without DF, the router fragments it, the peer's kernel reassembles it
 *       into the very encapsulated packet (payload compared byte for byte); tshark sees vnetd's outer fragments;</li>
 *   <li>the same with DF (within the tunnel MTU): forwarded, the outer packet is still fragmented;</li>
 *   <li>a 1450-byte inner packet with DF: ICMP Fragmentation Needed, next-hop MTU 1400, from the tunnel address;</li>
 *   <li>a TCP SYN with MSS 1460: clamped to 1360 ({@code mss_clamp: auto}, MTU 1400 - 40);</li>
 *   <li>a flood of first fragments that never complete, at the listener: the edge's kernel holds at most its
 *       {@code ipfrag_high_thresh} (lowered to 1 MiB here), drops the rest and times the queues out after
 *       {@code ipfrag_time} (2 s here), all counted in {@code vnetd_outer_reassembly_total}; unfragmented tunnel
 *       packets get through during the flood, fragmented ones once the queues have timed out.</li>
 * </ul>
 */
class MtuNamespaceTest {
    private static final int FLOOD = 3000;
    private static final long HIGH_THRESH = 1 << 20;
    private static final int FRAG_TIME = 2;
    /** The kernel refuses fragments once above the threshold, so it may hold one fragment's buffer more. */
    private static final long ONE_FRAGMENT = 4096;

    @TempDir
    static Path dir;

    static List<String> namespaces = new ArrayList<>();
    static String edge;
    static String peers;
    static VnetdProcess vnetd;
    static Tshark tshark;
    static Map<String, Map<String, String>> results;
    static String metrics;

    @BeforeAll
    static void runPeers() throws Exception {
        Prerequisites.root();
        Prerequisites.scapy();
        Prerequisites.tshark();
        String tag = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xFFFF));
        edge = "vt-mtu-e-" + tag;
        String router = "vt-mtu-r-" + tag;
        peers = "vt-mtu-p-" + tag;
        for (String n : List.of(edge, router, peers)) {
            Namespaces.ip("netns", "add", n);
            namespaces.add(n);
            Namespaces.ip("-n", n, "link", "set", "lo", "up");
        }
        link(edge, "me" + tag, "198.18.1.1/24", router, "mr" + tag, "198.18.1.2/24", 1500);
        link(router, "ms" + tag, "198.18.2.1/24", peers, "mp" + tag, "198.18.2.2/24", 1000);
        Namespaces.ip("-n", peers, "addr", "add", "198.18.2.3/24", "dev", "mp" + tag);
        Namespaces.ip("-n", edge, "route", "add", "default", "via", "198.18.1.2");
        Namespaces.ip("-n", peers, "route", "add", "default", "via", "198.18.2.1");
        sysctl(router, "net.ipv4.ip_forward=1");
        sysctl(edge, "net.ipv4.ipfrag_low_thresh=" + HIGH_THRESH / 2);
        sysctl(edge, "net.ipv4.ipfrag_high_thresh=" + HIGH_THRESH);
        sysctl(edge, "net.ipv4.ipfrag_time=" + FRAG_TIME);

        Path config = dir.resolve("vnetd.yaml");
        Files.writeString(config, """
                node: {name: mtu-edge, workers: 2, transport: auto}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 198.18.1.1:4754}
                virtual_networks:
                  - {name: production}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 198.18.2.2, key: 1, mtu: 1400,
                     virtual_network: production, interface_address: [169.254.30.0/31, "fd00:ffff::1/127"]}
                  - {name: dc, type: gre-udp, listener: gre-udp, remote: 198.18.2.3, mtu: 1400,
                     virtual_network: production, mss_clamp: auto}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: production, via: dc}
                  - {prefix: 192.168.10.0/24, virtual_network: production, via: site}
                  - {prefix: "fd00:10::/32", virtual_network: production, via: dc}
                  - {prefix: "fd00:a::/32", virtual_network: production, via: site}
                """);
        vnetd = VnetdProcess.start(Namespaces.exec(edge), config, dir.resolve("vnetd.log"));
        tshark = Tshark.capture(peers, "mp" + tag, "ip src 198.18.1.1", dir.resolve("outer.pcapng"));
        String json = """
                {"vnetd": "198.18.1.1", "site": "198.18.2.2", "dc": "198.18.2.3", "edge_ns": "%s",
                 "flood": %d, "frag_time": %d,
                 "cases": [
                  {"name": "no-df", "size": 1300, "df": false},
                  {"name": "df-fits", "size": 1300, "df": true},
                  {"name": "df-too-big", "size": 1450, "df": true},
                  {"name": "syn", "size": 0, "df": true, "proto": "tcp-syn", "mss": 1460},
                  {"name": "v6-fits", "size": 1300, "df": true, "family": "ipv6"},
                  {"name": "v6-too-big", "size": 1450, "df": true, "family": "ipv6"}
                 ]}""".formatted(edge, FLOOD, FRAG_TIME);
        List<String> command = new ArrayList<>(Namespaces.exec(peers));
        command.addAll(List.of(Prerequisites.PYTHON, PeerScript.extract("mtu_peer.py", dir).toString(), json));
        try {
            results = PeerScript.run(command, 120).stream().collect(Collectors.toMap(m -> m.get("case"), m -> m));
        } finally {
            tshark.close();
        }
        metrics = inEdge("curl", "-sf", "http://127.0.0.1:9400/metrics");
    }

    private static void link(String a, String aLink, String aAddress, String b, String bLink, String bAddress,
                             int mtu) throws IOException, InterruptedException {
        Namespaces.ip("link", "add", aLink, "netns", a, "type", "veth", "peer", "name", bLink, "netns", b);
        Namespaces.ip("-n", a, "addr", "add", aAddress, "dev", aLink);
        Namespaces.ip("-n", b, "addr", "add", bAddress, "dev", bLink);
        Namespaces.ip("-n", a, "link", "set", aLink, "mtu", Integer.toString(mtu), "up");
        Namespaces.ip("-n", b, "link", "set", bLink, "mtu", Integer.toString(mtu), "up");
    }

    private static void sysctl(String namespace, String setting) throws IOException, InterruptedException {
        inNamespace(namespace, "sysctl", "-qw", setting);
    }

    private static String inEdge(String... command) throws IOException, InterruptedException {
        return inNamespace(edge, command);
    }

    private static String inNamespace(String namespace, String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(Namespaces.exec(namespace));
        full.addAll(List.of(command));
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", full) + ": " + out);
        }
        return out;
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (vnetd != null) {
            vnetd.close();
        }
        for (String n : namespaces) {
            try {
                Namespaces.ip("netns", "del", n);
            } catch (IOException e) {
                // already gone
            }
        }
    }

    private static Map<String, String> result(String name) {
        Map<String, String> r = results.get(name);
        assertTrue(r != null, "no report for " + name + ": " + results);
        return r;
    }

    @Test
    void shouldFragmentTheOuterPacketOfAnOversizedInnerPacketWithoutDf() throws Exception {
        Map<String, String> r = result("no-df");
        assertEquals("dc", r.get("arrived_at"), r.toString());
        assertEquals("1300", r.get("length"), "the whole inner packet, reassembled behind its GRE header");
        assertEquals("True", r.get("payload_same"));
        assertEquals("63", r.get("ttl"));
        assertEquals("True", r.get("checksums_ok"));
        List<String> fragments = tshark.read("ip.src == 198.18.1.1 && ip.flags.mf == 1", "-o", "ip.defragment:FALSE");
        assertTrue(fragments.size() >= 2, "vnetd's outer packets fragmented on the wire: " + fragments);
        assertEquals(List.of(), tshark.read("ip.src#1 == 198.18.1.1 && ip.flags.df#1 == 1"),
                "vnetd sends no outer packet with DF");
    }

    @Test
    void shouldForwardAnInnerPacketWithDfThatFitsTheTunnelMtu() {
        Map<String, String> r = result("df-fits");
        assertEquals("dc", r.get("arrived_at"), r.toString());
        assertEquals("True", r.get("payload_same"));
    }

    @Test
    void shouldAnswerAnInnerPacketWithDfAboveTheTunnelMtuWithFragmentationNeeded() {
        Map<String, String> r = result("df-too-big");
        assertEquals("site", r.get("arrived_at"), r.toString());
        assertEquals("3", r.get("icmp_type"));
        assertEquals("4", r.get("icmp_code"), "fragmentation needed and DF set");
        assertEquals("1400", r.get("mtu"), "next-hop MTU: the tunnel's");
        assertEquals("169.254.30.0", r.get("src"));
        assertEquals("True", r.get("checksums_ok"));
    }

    @Test
    void shouldCarryAnIpv6InnerPacketWithinTheTunnelMtuInOuterFragments() {
        Map<String, String> r = result("v6-fits");
        assertEquals("dc", r.get("arrived_at"), r.toString());
        assertEquals("1300", r.get("length"));
        assertEquals("True", r.get("payload_same"));
        assertEquals("63", r.get("ttl"), "hop limit");
    }

    @Test
    void shouldAnswerAnIpv6InnerPacketAboveTheTunnelMtuWithPacketTooBig() {
        Map<String, String> r = result("v6-too-big");
        assertEquals("site", r.get("arrived_at"), r.toString());
        assertEquals("2", r.get("icmp_type"), "ICMPv6 packet too big");
        assertEquals("1400", r.get("mtu"), "the tunnel's MTU");
        assertEquals("fd00:ffff::1", r.get("src"));
        assertEquals("True", r.get("checksums_ok"));
    }

    @Test
    void shouldClampTheMssOfASynLeavingThroughAClampingTunnel() {
        Map<String, String> r = result("syn");
        assertEquals("dc", r.get("arrived_at"), r.toString());
        assertEquals("1360", r.get("mss"));
        assertEquals("True", r.get("checksums_ok"));
        assertTrue(metrics.contains("vnetd_mss_clamped_total 1.0"), metrics);
    }

    @Test
    void shouldBoundAndCountAFloodOfIncompleteOuterFragments() {
        Map<String, String> r = result("flood");
        assertTrue(Long.parseLong(r.get("frag_memory")) <= HIGH_THRESH + ONE_FRAGMENT, "memory bounded: " + r);
        assertEquals("dc", r.get("small_during"), "unfragmented tunnel packets get through the flood: " + r);
        assertEquals("dc", r.get("big_after"), "fragmented ones once the queues timed out: " + r);
        assertEquals("0", r.get("frag_memory_after_timeout"), r.toString());
        assertTrue(counter("requested") >= FLOOD, metrics);
        assertTrue(counter("failed") > 0, metrics);
        assertTrue(counter("timeout") > 0, metrics);
        assertTrue(counter("ok") >= 3, "the fragmented tunnel packets reassembled: " + metrics);
    }

    @Test
    void shouldCountNoOuterFragmentationAtTheEdgeWhoseOwnLinkCarriesThePackets() {
        assertTrue(metrics.contains("vnetd_outer_fragmentation_total{family=\"ipv4\",result=\"fragmented\"} 0.0"),
                "the router fragmented them, not vnetd's kernel: " + metrics);
    }

    private static double counter(String result) {
        String prefix = "vnetd_outer_reassembly_total{family=\"ipv4\",result=\"" + result + "\"} ";
        return metrics.lines().filter(l -> l.startsWith(prefix)).mapToDouble(l -> Double.parseDouble(
                l.substring(prefix.length()))).findFirst().orElse(-1);
    }
}
