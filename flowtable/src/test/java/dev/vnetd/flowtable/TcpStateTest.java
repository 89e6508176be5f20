package dev.vnetd.flowtable;

import static dev.vnetd.flowtable.TcpState.FLAG_ACK;
import static dev.vnetd.flowtable.TcpState.FLAG_FIN;
import static dev.vnetd.flowtable.TcpState.FLAG_RST;
import static dev.vnetd.flowtable.TcpState.FLAG_SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TcpStateTest {
    @Test
    void shouldStartInSynSentOnASynAndEstablishedOnPickup() {
        assertEquals(TcpState.SYN_SENT, TcpState.initial(FLAG_SYN));
        assertEquals(TcpState.ESTABLISHED, TcpState.initial(FLAG_ACK));
        assertEquals(TcpState.ESTABLISHED, TcpState.initial(FLAG_SYN | FLAG_ACK));
        assertEquals(TcpState.CLOSE, TcpState.initial(FLAG_RST));
    }

    @Test
    void shouldCompleteTheHandshakeOnlyInOrder() {
        assertEquals(TcpState.SYN_RECV, TcpState.next(TcpState.SYN_SENT, FLAG_SYN | FLAG_ACK, false));
        assertEquals(TcpState.SYN_SENT, TcpState.next(TcpState.SYN_SENT, FLAG_SYN | FLAG_ACK, true));
        assertEquals(TcpState.ESTABLISHED, TcpState.next(TcpState.SYN_RECV, FLAG_ACK, true));
        assertEquals(TcpState.SYN_RECV, TcpState.next(TcpState.SYN_RECV, FLAG_ACK, false));
        assertEquals(TcpState.ESTABLISHED, TcpState.next(TcpState.ESTABLISHED, FLAG_ACK, false));
    }

    @Test
    void shouldCloseFromEitherSide() {
        assertEquals(TcpState.FIN_WAIT, TcpState.next(TcpState.ESTABLISHED, FLAG_FIN | FLAG_ACK, true));
        assertEquals(TcpState.TIME_WAIT, TcpState.next(TcpState.FIN_WAIT, FLAG_FIN | FLAG_ACK, false));
        assertEquals(TcpState.FIN_WAIT, TcpState.next(TcpState.FIN_WAIT, FLAG_FIN, true));
        assertEquals(TcpState.CLOSE_WAIT, TcpState.next(TcpState.ESTABLISHED, FLAG_FIN, false));
        assertEquals(TcpState.TIME_WAIT, TcpState.next(TcpState.CLOSE_WAIT, FLAG_FIN, true));
        assertEquals(TcpState.CLOSE, TcpState.next(TcpState.ESTABLISHED, FLAG_RST | FLAG_ACK, false));
    }

    @Test
    void shouldReopenAClosedTupleOnANewSyn() {
        assertEquals(TcpState.SYN_SENT, TcpState.next(TcpState.TIME_WAIT, FLAG_SYN, true));
        assertEquals(TcpState.SYN_SENT, TcpState.next(TcpState.CLOSE, FLAG_SYN, true));
        assertEquals(TcpState.ESTABLISHED, TcpState.next(TcpState.ESTABLISHED, FLAG_SYN, true));
    }

    @Test
    void shouldNameEveryState() {
        assertEquals("established", TcpState.name(TcpState.ESTABLISHED));
        assertEquals("close", TcpState.name(TcpState.CLOSE));
        assertEquals("none", TcpState.name(TcpState.NONE));
    }
}
