package dev.vnetd.bench.esp;

import dev.vnetd.crypto.esp.EspContext;
import dev.vnetd.crypto.esp.EspLifetime;
import dev.vnetd.crypto.esp.EspProvider;
import dev.vnetd.crypto.esp.EspResult;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.crypto.esp.InboundSa;
import dev.vnetd.crypto.esp.KeyMaterial;
import dev.vnetd.crypto.esp.OutboundSa;
import dev.vnetd.crypto.esp.RekeyListener;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What a transit ESP packet costs one core: decrypt it from one SA and re-encrypt it into the next, in place, as a
 * dataplane worker does (1. SA lookup done 2. decrypt + replay window 3. routing not measured 4. encrypt). The
 * packet circulates: each operation decrypts the packet the previous one encrypted, so sequence numbers rise and the
 * replay window (1024, ESN on) does its real work. {@code size} is the inner packet's length in bytes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class EspDecryptEncryptBenchmark {
    @Param({"aes-gcm-128", "aes-gcm-256", "chacha20-poly1305", "aes-cbc-hmac-sha256"})
    public String transform;

    @Param({"64", "512", "1400"})
    public int size;

    /** openssl: libcrypto through FFM; jdk: the JCE; bc: Bouncy Castle (EspProvider's setting values). */
    @Param({"openssl", "jdk", "bc"})
    public String provider;

    /** heap: a heap ByteBuffer (worked in its array); direct: a direct one (copied in and out of the context). */
    @Param({"heap"})
    public String buffer;

    private EspContext context;
    private InboundSa inbound;
    private OutboundSa outbound;
    private ByteBuffer packet;
    private int innerOffset;
    private int espLength;

    /** Builds one SA pair sharing keys and encrypts the first packet. */
    @Setup
    public void setUp() {
        EspTransform espTransform = EspTransform.fromConfigName(transform);
        KeyMaterial material = KeyMaterial.of(espTransform, key(espTransform));
        inbound = new InboundSa(0x1001, material, true, 1024, EspLifetime.UNLIMITED, RekeyListener.NONE);
        outbound = new OutboundSa(0x1001, material, true, EspLifetime.UNLIMITED, RekeyListener.NONE);
        context = new EspContext(EspProvider.resolve(provider, espTransform));
        innerOffset = outbound.headroom();
        int capacity = innerOffset + size + outbound.tailroom(size);
        packet = buffer.equals("direct") ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
        for (int i = 0; i < size; i++) {
            packet.put(innerOffset + i, (byte) i);
        }
        check(outbound.encrypt(context, packet, innerOffset, size, 4));
        espLength = context.length();
    }

    /** Decrypts the circulating packet and re-encrypts its inner packet; returns the new ESP length. */
    @Benchmark
    public int decryptEncrypt() {
        check(inbound.decrypt(context, packet, 0, espLength));
        check(outbound.encrypt(context, packet, context.offset(), context.length(), context.nextHeader()));
        return context.length();
    }

    private static void check(EspResult result) {
        if (result != EspResult.OK) {
            throw new IllegalStateException("ESP benchmark packet dropped: " + result);
        }
    }

    private static byte[] key(EspTransform transform) {
        int length = transform.minimumMaterialLength();
        byte[] key = new byte[length];
        for (int i = 0; i < length; i++) {
            key[i] = (byte) (i * 37 + 11);
        }
        return key;
    }
}
