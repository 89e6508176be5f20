package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class FlowTimeoutsTest {
    @Test
    void shouldPickTheTimeoutOfTheProtocolAndTcpState() {
        FlowTimeouts timeouts = FlowTimeouts.DEFAULTS;
        assertEquals(6 * 3600_000L, timeouts.millisFor(FlowTable.PROTO_TCP, TcpState.ESTABLISHED));
        assertEquals(120_000L, timeouts.millisFor(FlowTable.PROTO_TCP, TcpState.SYN_SENT));
        assertEquals(120_000L, timeouts.millisFor(FlowTable.PROTO_TCP, TcpState.TIME_WAIT));
        assertEquals(120_000L, timeouts.millisFor(FlowTable.PROTO_UDP, TcpState.NONE));
        assertEquals(120_000L, timeouts.millisFor(47, TcpState.NONE));
        assertEquals(30_000L, timeouts.millisFor(FlowTable.PROTO_ICMP, TcpState.NONE));
        assertEquals(30_000L, timeouts.millisFor(FlowTable.PROTO_ICMPV6, TcpState.NONE));
    }

    @Test
    void shouldRejectTimeoutsTheClockCannotRepresent() {
        Duration ok = Duration.ofSeconds(30);
        assertThrows(IllegalArgumentException.class, () -> new FlowTimeouts(Duration.ofDays(21), ok, ok, ok));
        assertThrows(IllegalArgumentException.class, () -> new FlowTimeouts(ok, Duration.ofMillis(999), ok, ok));
        assertThrows(IllegalArgumentException.class, () -> new FlowTimeouts(ok, ok, null, ok));
        assertEquals(FlowTimeouts.MAX, new FlowTimeouts(ok, ok, ok, FlowTimeouts.MAX).icmp());
    }
}
