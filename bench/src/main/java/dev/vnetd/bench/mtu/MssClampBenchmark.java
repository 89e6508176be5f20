package dev.vnetd.bench.mtu;

import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.path.MssClamp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * MSS clamping of one TCP SYN as Linux sends it (options MSS, SACK permitted, timestamps, NOP, window scale: 20
 * bytes), in a direct buffer as the worker receives it: the option walk, and for {@code clamp} the MSS rewrite with
 * the incremental checksum update. Each operation first puts the original MSS and checksum back (two 16-bit
 * stores), so every operation clamps again. {@code below}: the MSS is already under the clamp, the walk alone.
 * {@code -prof gc} shows what it allocates (nothing, by design).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MssClampBenchmark {
    private static final int TCP = 20;
    private static final int MSS_AT = TCP + 22;
    private static final int CHECKSUM_AT = TCP + 16;

    /** {@code clamp}: MSS 1460 lowered to 1360; {@code below}: MSS 1200, left alone. */
    @Param({"clamp", "below"})
    public String mode;

    private ByteBuf packet;
    private int mss;
    private int checksum;

    /** An IPv4 packet with a Linux SYN and a valid TCP checksum. */
    @Setup(Level.Trial)
    public void setUp() {
        mss = "clamp".equals(mode) ? 1460 : 1200;
        byte[] options = {2, 4, (byte) (mss >>> 8), (byte) mss, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
        int tcpLength = 20 + options.length;
        packet = Unpooled.directBuffer(TCP + tcpLength).writeZero(TCP + tcpLength);
        packet.setByte(0, 0x45).setShort(2, TCP + tcpLength).setByte(8, 64).setByte(9, 6)
                .setInt(12, 0xC0A8_0A05).setInt(16, 0x0A01_0203);
        packet.setShort(TCP, 40000).setShort(TCP + 2, 443).setInt(TCP + 4, 1).setByte(TCP + 12, (tcpLength / 4) << 4)
                .setByte(TCP + 13, 0x02).setShort(TCP + 14, 64240).setBytes(TCP + 20, options);
        long pseudo = InternetChecksum.sum(packet, 12, 8) + 6 + tcpLength;
        checksum = InternetChecksum.finish(pseudo + InternetChecksum.sum(packet, TCP, tcpLength));
        packet.setShort(CHECKSUM_AT, checksum);
    }

    /** Releases the buffer. */
    @TearDown(Level.Trial)
    public void tearDown() {
        packet.release();
    }

    /** Restores the SYN and clamps it to 1360 (auto for a 1400-byte tunnel MTU). */
    @Benchmark
    public boolean clampSyn() {
        packet.setShort(MSS_AT, mss);
        packet.setShort(CHECKSUM_AT, checksum);
        return MssClamp.clamp(packet, TCP, packet.readableBytes() - TCP, 1360);
    }
}
