package dev.vnetd.dataplane.transport;

import io.netty.channel.EventLoop;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One worker's wall clock for flow times, read once per packet: the time in milliseconds as of the worker's last
 * tick, which its own event loop runs every {@link #TICK_MILLIS} between I/O batches.
 *
 * <p>Why: {@code System.currentTimeMillis()} is a {@code clock_gettime} through the vDSO, about 20 ns on this
 * KVM guest and 11 % of the in-process path's samples (docs/performance.md, the packet path); a field read costs
 * nothing. Flow timeouts are seconds, so a time up to a tick (or one read batch) old changes no decision. The clock
 * is the worker's alone: written and read on its thread, nothing shared, no volatile. An idle worker wakes once per
 * tick to update it (a thousand wake-ups a second, a few microseconds each). Benchmarks of the path use one that
 * is never started: the same field read, the time frozen at construction.
 */
public final class WorkerClock implements LongSupplier {
    /** How often the worker reads the system clock. */
    public static final long TICK_MILLIS = 1;

    private long millis = System.currentTimeMillis();

    /** Starts ticking on {@code loop}, the worker that reads this clock, until the loop shuts down. */
    public void start(EventLoop loop) {
        loop.scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        millis = System.currentTimeMillis();
    }

    /** Milliseconds since the epoch as of the last tick. */
    @Override
    public long getAsLong() {
        return millis;
    }
}
