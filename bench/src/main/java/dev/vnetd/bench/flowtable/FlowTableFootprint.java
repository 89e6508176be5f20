package dev.vnetd.bench.flowtable;

import dev.vnetd.flowtable.EvictionReason;
import dev.vnetd.flowtable.FlowTable;

/**
 * Memory per flow: fills a 1 M table with the benchmark flows and prints
 * {@code bytes=B live=N bytes_per_flow=X early_drops=D} (run by {@code bench/cases/flowtable.sh}).
 */
public final class FlowTableFootprint {
    private FlowTableFootprint() {
    }

    /** Prints the footprint line. */
    public static void main(String[] args) {
        try (FlowTable table = new FlowKeys().fill()) {
            System.out.printf("bytes=%d live=%d bytes_per_flow=%.1f early_drops=%d%n", table.lengthInBytes(),
                    table.liveFlows(), (double) table.lengthInBytes() / table.liveFlows(),
                    table.evictions(EvictionReason.EARLY_DROP));
        }
    }
}
