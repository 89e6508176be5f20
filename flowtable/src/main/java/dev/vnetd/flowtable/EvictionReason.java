package dev.vnetd.flowtable;

/** Why a flow left the table; the label of {@code vnetd_flow_evictions_total{reason}}. */
public enum EvictionReason {
    /** Idle longer than its protocol's timeout, removed by the sweep or by an insert into a full bucket. */
    EXPIRED("expired"),
    /** Never saw a reply and was dropped to make room for a new flow in a full table (conntrack's early drop). */
    EARLY_DROP("early_drop"),
    /** Removed on request of the control plane. */
    REMOVED("removed");

    private final String label;

    EvictionReason(String label) {
        this.label = label;
    }

    /** The metric label value. */
    public String label() {
        return label;
    }
}
