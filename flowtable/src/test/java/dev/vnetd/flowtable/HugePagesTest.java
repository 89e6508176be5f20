package dev.vnetd.flowtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class HugePagesTest {
    @Test
    @EnabledOnOs(OS.LINUX)
    void shouldMapZeroedMemoryAlignedToAHugePage() {
        int length = 3 * (int) HugePages.HUGE_PAGE;
        long base = HugePages.map(length);
        assertNotEquals(0, base);
        long start = HugePages.aligned(base);
        assertEquals(0, start % HugePages.HUGE_PAGE);
        UnsafeBuffer buffer = new UnsafeBuffer(start, length);
        assertEquals(0, buffer.getLong(length - 8));
        buffer.putLong(length - 8, 42);
        assertEquals(42, buffer.getLong(length - 8));
        HugePages.advise(base, length);
        HugePages.unmap(base, length);
    }

    @Test
    void shouldRoundUpToTheNextHugePage() {
        assertEquals(HugePages.HUGE_PAGE, HugePages.aligned(1));
        assertEquals(HugePages.HUGE_PAGE, HugePages.aligned(HugePages.HUGE_PAGE));
        assertEquals(2 * HugePages.HUGE_PAGE, HugePages.aligned(HugePages.HUGE_PAGE + 4096));
    }
}
