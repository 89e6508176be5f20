package dev.vnetd.flowtable;

/**
 * The TCP states a flow goes through, as the edge sees them from the SYN, FIN, RST and ACK flags of both
 * directions (RFC 9293 section 3.3.2, reduced the way conntrack reduces it: no sequence numbers, no window checks).
 *
 * <pre>
 *   NONE ──SYN (origin)──▶ SYN_SENT ──SYN+ACK (reply)──▶ SYN_RECV ──ACK (origin)──▶ ESTABLISHED
 *   first packet not a SYN (flow picked up mid-stream, e.g. after a restart without persist) ──▶ ESTABLISHED
 *   ESTABLISHED ──FIN (origin)──▶ FIN_WAIT ──FIN (reply)──▶ TIME_WAIT
 *   ESTABLISHED ──FIN (reply)──▶ CLOSE_WAIT ──FIN (origin)──▶ TIME_WAIT
 *   any ──RST──▶ CLOSE;   CLOSE or TIME_WAIT ──SYN (origin)──▶ SYN_SENT (the 5-tuple is reused)
 * </pre>
 *
 * States are small ints so the per-packet path stores them in one byte of the flow slot without allocating;
 * {@link #name(int)} gives the admin API a label.
 */
public final class TcpState {
    /** Not a TCP flow. */
    public static final int NONE = 0;
    /** SYN seen from the origin, no answer yet. */
    public static final int SYN_SENT = 1;
    /** SYN+ACK seen from the reply side. */
    public static final int SYN_RECV = 2;
    /** Handshake complete, or the flow was picked up mid-stream. */
    public static final int ESTABLISHED = 3;
    /** The origin sent FIN. */
    public static final int FIN_WAIT = 4;
    /** The reply side sent FIN. */
    public static final int CLOSE_WAIT = 5;
    /** Both sides sent FIN. */
    public static final int TIME_WAIT = 6;
    /** A RST was seen. */
    public static final int CLOSE = 7;

    /** TCP header flag FIN (RFC 9293 section 3.1). */
    public static final int FLAG_FIN = 0x01;
    /** TCP header flag SYN. */
    public static final int FLAG_SYN = 0x02;
    /** TCP header flag RST. */
    public static final int FLAG_RST = 0x04;
    /** TCP header flag ACK. */
    public static final int FLAG_ACK = 0x10;

    private static final String[] NAMES = {
        "none", "syn_sent", "syn_recv", "established", "fin_wait", "close_wait", "time_wait", "close"
    };

    private TcpState() {
    }

    /** The state of a TCP flow whose first packet carried {@code flags}. */
    public static int initial(int flags) {
        if ((flags & FLAG_RST) != 0) {
            return CLOSE;
        }
        if ((flags & (FLAG_SYN | FLAG_ACK)) == FLAG_SYN) {
            return SYN_SENT;
        }
        return ESTABLISHED;
    }

    /** The state after a packet with {@code flags} in state {@code state}, sent by the origin or by the reply side. */
    public static int next(int state, int flags, boolean fromOrigin) {
        if ((flags & FLAG_RST) != 0) {
            return CLOSE;
        }
        if ((flags & FLAG_SYN) != 0) {
            if ((flags & FLAG_ACK) != 0) {
                return !fromOrigin && state == SYN_SENT ? SYN_RECV : state;
            }
            return fromOrigin && (state == CLOSE || state == TIME_WAIT) ? SYN_SENT : state;
        }
        if ((flags & FLAG_FIN) != 0) {
            return switch (state) {
                case SYN_SENT, SYN_RECV, ESTABLISHED -> fromOrigin ? FIN_WAIT : CLOSE_WAIT;
                case FIN_WAIT -> fromOrigin ? FIN_WAIT : TIME_WAIT;
                case CLOSE_WAIT -> fromOrigin ? TIME_WAIT : CLOSE_WAIT;
                default -> state;
            };
        }
        if ((flags & FLAG_ACK) != 0 && fromOrigin && state == SYN_RECV) {
            return ESTABLISHED;
        }
        return state;
    }

    /** The snake_case label of {@code state} for the admin API. */
    public static String name(int state) {
        return NAMES[state];
    }
}
