package dev.vnetd.control;

import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.flowtable.FlowTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The flow table's control work, off the workers: once a second it removes flows idle past their protocol's
 * timeout, removes the flows whose origin or egress tunnel a reload removed, and counts the live flows of every
 * virtual network for {@code vnetd_flows{vn}}.
 */
final class FlowSweeper implements AutoCloseable {
    /** Sweep period: expiry is exact to about a second, and a sweep of 1 M flows takes a few milliseconds. */
    static final long PERIOD_MILLIS = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(FlowSweeper.class);

    private final FlowTable flows;
    private final AtomicLongArray flowsPerVn;
    private final ForwardingStateHolder holder;
    private final ScheduledExecutorService executor;

    FlowSweeper(FlowTable flows, int virtualNetworks, ForwardingStateHolder holder) {
        this.flows = flows;
        this.holder = holder;
        this.flowsPerVn = new AtomicLongArray(virtualNetworks);
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vnetd-flow-sweeper");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleAtFixedRate(this::sweep, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Live flows of a virtual network at the last sweep. */
    long flows(int vn) {
        return flowsPerVn.get(vn);
    }

    void sweep() {
        try {
            flows.sweep(System.currentTimeMillis());
            long[] counts = new long[flowsPerVn.length()];
            ForwardingState state = holder.get();
            flows.forEach(handle -> {
                int slot = FlowTable.slot(handle);
                if (retired(state, flows.originTunnel(slot)) || retired(state, flows.egressTunnel(slot))) {
                    flows.remove(handle);
                    return true;
                }
                int vn = flows.vn(slot);
                if (vn >= 0 && vn < counts.length) {
                    counts[vn]++;
                }
                return true;
            });
            for (int i = 0; i < counts.length; i++) {
                flowsPerVn.set(i, counts[i]);
            }
        } catch (RuntimeException e) {
            LOG.error("event=flow_sweep_failed error=\"{}\"", e.toString(), e);
        }
    }

    /** Whether {@code tunnel} is a tunnel of {@code state} that a reload removed. */
    private static boolean retired(ForwardingState state, int tunnel) {
        return tunnel >= 0 && tunnel < state.tunnels().length && state.retiredTunnel(tunnel);
    }

    /** Stops sweeping and waits for a sweep in progress, so the table can be closed (unmapped) safely after. */
    @Override
    public void close() {
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.error("event=flow_sweep_stuck");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
