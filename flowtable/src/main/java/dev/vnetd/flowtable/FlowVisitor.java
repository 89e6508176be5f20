package dev.vnetd.flowtable;

/** Receives the live flows of a {@link FlowTable#forEach(FlowVisitor)} walk. */
@FunctionalInterface
public interface FlowVisitor {
    /**
     * Called once per live flow with its handle; read the flow through the table's accessors with
     * {@link FlowTable#slot(long)} and check {@link FlowTable#validate(long)} afterwards if the reads must belong to
     * one flow. Return {@code false} to stop the walk.
     */
    boolean visit(long handle);
}
