package dev.vnetd.crypto.esp;

import java.util.HexFormat;

/** Keys, SAs and packets shared by the ESP tests. */
final class EspFixtures {
    static final int SPI = 0x0000_1001;
    static final int IPV4 = 4;

    private EspFixtures() {
    }

    /** Deterministic keying material of the right length for a transform, different per seed. */
    static KeyMaterial material(EspTransform transform, int seed) {
        int length = transform.minimumMaterialLength();
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + seed * 7 + 1);
        }
        return KeyMaterial.of(transform, bytes);
    }

    static InboundSa inbound(EspTransform transform, boolean esn, int window) {
        return new InboundSa(SPI, material(transform, 1), esn, window, EspLifetime.UNLIMITED, RekeyListener.NONE);
    }

    static OutboundSa outbound(EspTransform transform, boolean esn) {
        return new OutboundSa(SPI, material(transform, 1), esn, EspLifetime.UNLIMITED, RekeyListener.NONE);
    }

    /** A buffer holding {@code inner} with the SA's headroom before it and tailroom after it. */
    static byte[] withRoom(OutboundSa sa, byte[] inner) {
        byte[] buffer = new byte[sa.headroom() + inner.length + sa.tailroom(inner.length)];
        System.arraycopy(inner, 0, buffer, sa.headroom(), inner.length);
        return buffer;
    }

    static byte[] innerPacket(int length, int seed) {
        byte[] inner = new byte[length];
        for (int i = 0; i < length; i++) {
            inner[i] = (byte) (i * 13 + seed);
        }
        return inner;
    }

    static byte[] hex(String text) {
        return HexFormat.of().parseHex(text);
    }

    static String hex(byte[] bytes, int offset, int length) {
        return HexFormat.of().formatHex(bytes, offset, offset + length);
    }
}
