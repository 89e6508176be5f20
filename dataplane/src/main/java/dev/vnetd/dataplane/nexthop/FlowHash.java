package dev.vnetd.dataplane.nexthop;

/**
 * The hash of a flow's 5-tuple (src, dst, proto, sport, dport) that steers ECMP and GRE-in-UDP source-port entropy.
 *
 * <p>Both directions of a flow hash differently on purpose: a hash is a property of one direction's forwarding
 * decision. IPv6 addresses are folded from their two longs. The mixer is the 64-bit finaliser of MurmurHash3
 * (fmix64), which spreads every input bit over the result, so adjacent ports and addresses land far apart.
 */
public final class FlowHash {
    private FlowHash() {
    }

    /** Hash of an IPv4 5-tuple; ports are 0 for protocols without them (ICMP uses its identifier as sport). */
    public static int ipv4(int src, int dst, int proto, int sport, int dport) {
        long a = ((long) src << 32) | (dst & 0xFFFF_FFFFL);
        long b = ((long) proto << 32) | ((long) (sport & 0xFFFF) << 16) | (dport & 0xFFFF);
        return (int) fmix64(a * 0x9E37_79B9_7F4A_7C15L ^ fmix64(b));
    }

    /** Hash of an IPv6 5-tuple, addresses as (high, low) longs. */
    public static int ipv6(long srcHigh, long srcLow, long dstHigh, long dstLow, int proto, int sport, int dport) {
        long a = fmix64(srcHigh ^ Long.rotateLeft(srcLow, 17)) ^ fmix64(dstHigh ^ Long.rotateLeft(dstLow, 31));
        long b = ((long) proto << 32) | ((long) (sport & 0xFFFF) << 16) | (dport & 0xFFFF);
        return (int) fmix64(a * 0x9E37_79B9_7F4A_7C15L ^ fmix64(b));
    }

    /** MurmurHash3's 64-bit finaliser. */
    public static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xFF51_AFD7_ED55_8CCDL;
        k ^= k >>> 33;
        k *= 0xC4CE_B9FE_1A85_EC53L;
        k ^= k >>> 33;
        return k;
    }
}
