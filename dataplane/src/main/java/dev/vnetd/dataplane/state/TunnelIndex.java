package dev.vnetd.dataplane.state;


import java.util.Arrays;

/**
 * Finds the tunnel a received packet belongs to from (listener, remote address, GRE key if any), or for ESP from
 * (listener, SPI), without allocating.
 *
 * <pre>
 *  slots (power of two, at most half full, linear probing), four longs each in one array: a slot is 32 bytes,
 *  half a cache line, and a lookup that hits reads one line and checks one array's bounds
 *  +-------------------+--------+--------+-------+
 *  | listen  | tunnel  | addrHi | addrLo |  key  |   key = NO_KEY (-1) for tunnels without a GRE key
 *  +-------------------+--------+--------+-------+   tunnel = -1 marks an empty slot
 *  ESP tunnels:  (listen, 0, inbound SPI, ESP_KEY)  ESP_KEY = Long.MIN_VALUE, never a GRE key
 * </pre>
 *
 * IPv4 remotes are stored as (0, address) and IPv6 remotes as their two longs. They cannot collide: a listener has
 * one address family and configuration validation keeps every tunnel's remote in its listener's family. An ESP
 * tunnel is found by its inbound SPI alone (RFC 4303 section 2.1: the SPI names the SA at the receiver); the caller
 * then checks the outer source against the tunnel's remote. A TUN attachment is its device's only tunnel, so it is
 * found by listener id in a plain array beside the slots. Built once per forwarding state, read only afterwards.
 */
public final class TunnelIndex {
    /** Returned when no tunnel matches. */
    public static final int NO_TUNNEL = -1;
    /** The key column of ESP entries: outside the GRE key range 0..2^32-1 and distinct from {@link Tunnel#NO_KEY}. */
    private static final long ESP_KEY = Long.MIN_VALUE;

    /** Longs per slot: listener and tunnel, remote high, remote low, key. */
    private static final int SLOT_LONGS = 4;
    private static final long EMPTY = NO_TUNNEL & 0xFFFF_FFFFL;

    /** Slot count - 1. */
    private final int mask;
    private final long[] slots;
    /** TUN attachments by listener id ({@link #NO_TUNNEL} for socket listeners): a device is one tunnel. */
    private final int[] tunByListener;
    /** Every tunnel's remote address by tunnel id, as the slots store it: (0, IPv4) or the IPv6 halves. */
    private final long[] remoteHighs;
    private final long[] remoteLows;

    /** Indexes the given tunnels; two tunnels with the same identity are rejected. */
    public TunnelIndex(Tunnel[] all) {
        int capacity = Integer.highestOneBit(Math.max(4, all.length * 2) - 1) << 1;
        mask = capacity - 1;
        slots = new long[capacity * SLOT_LONGS];
        for (int slot = 0; slot < capacity; slot++) {
            slots[slot * SLOT_LONGS] = EMPTY;
        }
        tunByListener = new int[Arrays.stream(all).mapToInt(t -> t.listener().id() + 1).max().orElse(0)];
        Arrays.fill(tunByListener, NO_TUNNEL);
        int ids = Arrays.stream(all).mapToInt(t -> t.id() + 1).max().orElse(0);
        remoteHighs = new long[ids];
        remoteLows = new long[ids];
        for (Tunnel t : all) {
            if (t.remote() != null) {
                remoteHighs[t.id()] = t.remoteIsIpv6() ? Tunnel.ipv6High(t.remote().getAddress()) : 0L;
                remoteLows[t.id()] = t.remoteIsIpv6() ? Tunnel.ipv6Low(t.remote().getAddress())
                        : t.remoteV4() & 0xFFFF_FFFFL;
            }
        }
        for (Tunnel t : all) {
            if (t.tun()) {
                tunByListener[t.listener().id()] = t.id();
                continue;
            }
            if (t.listener().type().masque()) {
                continue; // found by its session, which the client authenticated, never by an outer address
            }
            long high = t.esp() ? 0L : t.remoteIsIpv6() ? Tunnel.ipv6High(t.remote().getAddress()) : 0L;
            long low = t.esp() ? t.sas().inbound().spi() & 0xFFFF_FFFFL
                    : t.remoteIsIpv6() ? Tunnel.ipv6Low(t.remote().getAddress()) : t.remoteV4() & 0xFFFF_FFFFL;
            long key = t.esp() ? ESP_KEY : t.key();
            int listener = t.listener().id();
            if (find(listener, high, low, key) != NO_TUNNEL) {
                throw new IllegalArgumentException("two tunnels share listener, remote and key (or inbound SPI): "
                        + t.name());
            }
            int slot = hash(listener, high, low, key) & mask;
            while ((int) slots[slot * SLOT_LONGS] != NO_TUNNEL) {
                slot = (slot + 1) & mask;
            }
            int at = slot * SLOT_LONGS;
            slots[at] = (long) listener << 32 | t.id() & 0xFFFF_FFFFL;
            slots[at + 1] = high;
            slots[at + 2] = low;
            slots[at + 3] = key;
        }
    }

    /** Tunnel id for a packet from an IPv4 remote, or {@link #NO_TUNNEL}; {@code key} is -1 without a GRE key. */
    public int findIpv4(int listener, int remote, long key) {
        return find(listener, 0L, remote & 0xFFFF_FFFFL, key);
    }

    /**
     * Tunnel id for a packet from an IPv6 remote, or {@link #NO_TUNNEL}; also finds an IPv4 remote given as
     * {@code (0, address & 0xFFFFFFFFL)}, the form {@link #findIpv4} stores.
     */
    public int findIpv6(int listener, long remoteHigh, long remoteLow, long key) {
        return find(listener, remoteHigh, remoteLow, key);
    }

    /** Tunnel id of the ESP tunnel whose inbound SA has this SPI on this listener, or {@link #NO_TUNNEL}. */
    public int findEsp(int listener, int spi) {
        return find(listener, 0L, spi & 0xFFFF_FFFFL, ESP_KEY);
    }

    /**
     * Whether tunnel {@code tunnelId}'s remote address is ({@code high}, {@code low}): an IPv6 address as its two
     * halves, an IPv4 address as {@code (0, address & 0xFFFFFFFFL)}. Compares precomputed longs, allocating nothing.
     */
    public boolean remoteIs(int tunnelId, long high, long low) {
        return remoteHighs[tunnelId] == high && remoteLows[tunnelId] == low;
    }

    /** Tunnel id of the TUN attachment whose device is listener {@code listener}, or {@link #NO_TUNNEL}. */
    public int findTun(int listener) {
        return listener < tunByListener.length ? tunByListener[listener] : NO_TUNNEL;
    }

    private int find(int listener, long high, long low, long key) {
        int slot = hash(listener, high, low, key) & mask;
        while (true) {
            int at = slot * SLOT_LONGS;
            long head = slots[at];
            int tunnel = (int) head;
            if (tunnel == NO_TUNNEL) {
                return NO_TUNNEL;
            }
            if ((int) (head >>> 32) == listener && slots[at + 1] == high && slots[at + 2] == low
                    && slots[at + 3] == key) {
                return tunnel;
            }
            slot = (slot + 1) & mask;
        }
    }

    /**
     * The slot hash: each part times its own odd constant (three multiplications side by side, not one after
     * another: this is on every packet's path before anything else can use the tunnel), the high half folded onto
     * the low one so that the slot bits depend on every input bit. The keys are the configured tunnels, at most half
     * the slots: a plain multiplicative hash keeps the probes short.
     */
    private static int hash(int listener, long high, long low, long key) {
        long h = high * 0x9E37_79B9_7F4A_7C15L ^ low * 0xC2B2_AE3D_27D4_EB4FL
                ^ (key ^ (long) listener << 40) * 0x1656_67B1_9E37_79F9L;
        return (int) (h ^ h >>> 29);
    }
}
