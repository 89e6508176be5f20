package dev.vnetd.dataplane.testing;

import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeakCheckExtensionTest {
    @Test
    void shouldFailWhenABufferIsCollectedWithoutRelease() throws InterruptedException {
        LeakCheckExtension.check("before");
        leakSome();

        AssertionError error = assertThrows(AssertionError.class, () -> LeakCheckExtension.check("probe"));
        assertTrue(error.getMessage().contains("LEAK"), error.getMessage());
    }

    @Test
    void shouldPassWhenEveryBufferIsReleased() throws InterruptedException {
        LeakCheckExtension.check("before");
        for (int i = 0; i < 10; i++) {
            PooledByteBufAllocator.DEFAULT.directBuffer(100).writeInt(1).release();
        }
        assertDoesNotThrow(() -> LeakCheckExtension.check("clean"));
    }

    private static void leakSome() {
        for (int i = 0; i < 10; i++) {
            PooledByteBufAllocator.DEFAULT.directBuffer(100).writeInt(1);
        }
    }
}
