package dev.vnetd.dataplane.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;

/**
 * After every test class: collects garbage, lets Netty's detector look at what was collected, and fails the class
 * when a buffer was garbage-collected without being released. Registered by extension auto-detection
 * (junit-platform.properties), so no test can forget it.
 */
public final class LeakCheckExtension implements AfterAllCallback {
    private static final int ROUNDS = 5;

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        check(context.getDisplayName());
    }

    /** Fails when a buffer was collected without release since the last check; {@code where} names the culprit. */
    static void check(String where) throws InterruptedException {
        LeakDetection.install();
        for (int i = 0; i < ROUNDS; i++) {
            System.gc();
            Thread.sleep(20);
            // the detector reports collected, unreleased buffers when the next buffer is tracked
            for (int j = 0; j < 64; j++) {
                ByteBuf a = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                a.release();
                ByteBuf b = UnpooledByteBufAllocator.DEFAULT.directBuffer(16);
                b.release();
            }
        }
        List<String> leaks = LeakDetection.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " Netty buffer leak(s) in " + where + ":\n"
                    + String.join("\n", leaks));
        }
    }
}
