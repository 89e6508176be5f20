package dev.vnetd.dataplane.state;

/** How tunnel packets reach a listener. */
public enum ListenerType {
    /** GRE in UDP (RFC 8086), default port 4754. */
    GRE_UDP("gre-udp", 0, false),
    /** GRE directly in IP, protocol 47 (RFC 2784), on a raw socket. */
    GRE("gre", 47, false),
    /** ESP in UDP (RFC 3948), default port 4500; shares the port with IKE, told apart by the non-ESP marker. */
    ESP_UDP("esp-udp", 0, true),
    /** ESP directly in IP, protocol 50 (RFC 4303), on a raw socket. */
    ESP("esp", 50, true),
    /** MASQUE CONNECT-IP server (RFC 9484): HTTP/3 over QUIC, default port 443; tunnels are client identities. */
    MASQUE("masque", 0, false),
    /** The client side of one MASQUE tunnel: its own QUIC connection to a server, no configured listener. */
    MASQUE_CLIENT("masque-client", 0, false),
    /**
     * A TUN device toward the local host's stack: whole IP packets, no carrier. Never configured as a listener: each
     * {@code type: tun} tunnel (a TUN attachment) gets one of its own, so the workers' transmit ports and the
     * receive dispatch treat it like any other.
     */
    TUN("tun", 0, false);

    private final String configName;
    private final int ipProtocol;
    private final boolean esp;

    ListenerType(String configName, int ipProtocol, boolean esp) {
        this.configName = configName;
        this.ipProtocol = ipProtocol;
        this.esp = esp;
    }

    /** The name used in configuration files. */
    public String configName() {
        return configName;
    }

    /** Whether the carrier is a raw IP socket (plain GRE, plain ESP) rather than UDP. */
    public boolean raw() {
        return ipProtocol != 0;
    }

    /** The IP protocol number of a raw carrier (47 GRE, 50 ESP); 0 for UDP carriers. */
    public int ipProtocol() {
        return ipProtocol;
    }

    /** Whether the carrier holds ESP rather than GRE. */
    public boolean esp() {
        return esp;
    }

    /** Whether packets travel in MASQUE sessions (QUIC datagrams) rather than on the worker's own sockets. */
    public boolean masque() {
        return this == MASQUE || this == MASQUE_CLIENT;
    }

    /** Whether this is a TUN attachment's device rather than a socket. */
    public boolean tun() {
        return this == TUN;
    }

    /** The type with this configuration name, or null. */
    public static ListenerType fromConfigName(String name) {
        for (ListenerType type : values()) {
            if (type.configName.equals(name)) {
                return type;
            }
        }
        return null;
    }
}
