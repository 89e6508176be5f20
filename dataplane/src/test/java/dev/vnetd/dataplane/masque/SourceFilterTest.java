package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SourceFilterTest {
    private static ByteBuf ipv4From(String source) throws Exception {
        ByteBuf p = Unpooled.buffer(20).writeZero(20);
        p.setByte(0, 0x45);
        p.setBytes(12, InetAddress.getByName(source).getAddress());
        return p;
    }

    private static ByteBuf ipv6From(byte[] source) {
        ByteBuf p = Unpooled.buffer(40).writeZero(40);
        p.setByte(0, 0x60);
        p.setBytes(8, source);
        return p;
    }

    @Test
    void shouldAllowOnlyAssignedIpv4Sources() throws Exception {
        SourceFilter filter = new SourceFilter(List.of(new Cidr(InetAddress.getByName("100.96.0.10"), 32),
                new Cidr(InetAddress.getByName("10.1.0.0"), 16)));
        for (String ok : new String[] {"100.96.0.10", "10.1.0.1", "10.1.255.255"}) {
            ByteBuf p = ipv4From(ok);
            assertTrue(filter.allows(p, 0, 20), ok);
            p.release();
        }
        for (String spoofed : new String[] {"100.96.0.11", "10.2.0.1", "192.0.2.1"}) {
            ByteBuf p = ipv4From(spoofed);
            assertFalse(filter.allows(p, 0, 20), spoofed);
            p.release();
        }
    }

    @Test
    void shouldLeaveTruncatedPacketsToThePath() throws Exception {
        SourceFilter filter = new SourceFilter(List.of());
        ByteBuf p = ipv4From("192.0.2.1");
        assertTrue(filter.allows(p, 0, 19));
        assertTrue(filter.allows(p, 0, 0));
        assertFalse(filter.allows(p, 0, 20));
        p.release();
    }

    @Property(tries = 300)
    void shouldAgreeWithPrefixArithmetic(@ForAll @Size(max = 4) List<@From("prefixes") Cidr> prefixes,
                                         @ForAll("prefixes") Cidr probe) {
        SourceFilter filter = new SourceFilter(prefixes);
        byte[] source = probe.address().getAddress();
        ByteBuf p = probe.ipv6() ? ipv6From(source) : Unpooled.buffer(20).writeZero(20).setByte(0, 0x45)
                .setBytes(12, source);
        // reference model: some prefix of the family has the same first `length` bits
        BigInteger s = new BigInteger(1, source);
        int bits = source.length * 8;
        boolean expected = prefixes.stream().anyMatch(c -> c.ipv6() == probe.ipv6()
                && s.shiftRight(bits - c.length()).equals(new BigInteger(1, c.address().getAddress())
                        .shiftRight(bits - c.length())));
        assertEquals(expected, filter.allows(p, 0, p.readableBytes()));
        p.release();
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Cidr> prefixes() {
        return new IpCapsulesPropertyTest().prefixes();
    }
}
