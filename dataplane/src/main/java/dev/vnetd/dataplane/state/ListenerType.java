package dev.vnetd.dataplane.state;

/** How tunnel packets reach a listener. */
public enum ListenerType {
    /** GRE in UDP (RFC 8086), default port 4754. */
    GRE_UDP("gre-udp"),
    /** GRE directly in IP, protocol 47 (RFC 2784), on a raw socket. */
    GRE("gre");

    private final String configName;

    ListenerType(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration files. */
    public String configName() {
        return configName;
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
