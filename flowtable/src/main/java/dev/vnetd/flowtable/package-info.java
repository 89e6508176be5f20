/**
 * The ARR flow table: an off-heap, fixed-capacity table of flows keyed by (virtual network, family, protocol,
 * addresses, ports), remembering each flow's origin tunnel and pinned next hop. Lookups never lock; start at
 * {@link dev.vnetd.flowtable.FlowTable}.
 *
 * <p>How the pipeline is meant to use it (a worker, per packet, nothing allocated):
 * <ol>
 *   <li>Look the packet's key up as is; a hit is a packet in the direction of the flow ({@code fromOrigin}). On a
 *       miss look up the swapped key (dst, src, dport, sport); a hit there is a reply: send it to
 *       {@link dev.vnetd.flowtable.FlowTable#originTunnel(int)} without a FIB lookup. For a receive batch, fill a
 *       {@link dev.vnetd.flowtable.FlowLookupBatch} and look the whole batch up at once.</li>
 *   <li>After reading the fields a decision needs, {@link dev.vnetd.flowtable.FlowTable#validate(long)} the handle;
 *       if it fails the flow changed or left, look up again.</li>
 *   <li>{@link dev.vnetd.flowtable.FlowTable#touch} every packet that matched (counters, last seen, replied flag,
 *       TCP state).</li>
 *   <li>A packet that opens a flow (TCP SYN, UDP, ICMP echo request) from an {@code arr: true} tunnel and matched
 *       nothing: {@link dev.vnetd.flowtable.FlowTable#insert} with its ingress tunnel as origin and the FIB's next
 *       hop as egress. {@link dev.vnetd.flowtable.FlowTable#created(long)} false means another worker won the race;
 *       use the returned flow. {@link dev.vnetd.flowtable.FlowTable#TABLE_FULL}: forward by FIB without a flow and
 *       count the drop reason of the pipeline's choice.</li>
 *   <li>Port translation, when the forward lookup hits a flow whose origin is another tunnel (two sites, same
 *       5-tuple): derive a port deterministically from (key, ingress tunnel, attempt), e.g. a hash into
 *       49152..65535, insert the translated key with {@code originalPort} = the site's port, and on later packets
 *       from that tunnel re-derive the same port and look the translated key up. Replies hit the translated key
 *       (swapped) and get {@link dev.vnetd.flowtable.FlowTable#originalPort(int)} back as destination port.</li>
 *   <li>Mid-flow failover: {@link dev.vnetd.flowtable.FlowTable#egressTunnel(int, int)}.</li>
 * </ol>
 *
 * <p>The control thread: {@link dev.vnetd.flowtable.FlowTable#sweep(long)} once a second; metrics from
 * {@code liveFlows}, {@code capacity}, {@code inserts}, {@code evictions(reason)}, {@code tableFullRefusals};
 * {@code vnetd_flows{vn}} by counting {@link dev.vnetd.flowtable.FlowTable#vn(int)} in a
 * {@link dev.vnetd.flowtable.FlowTable#forEach} walk (a per-vn counter on the insert path would cost every worker a
 * shared map); the admin flow listing is the same walk, stopped at the limit.
 *
 * <p>Every JVM that loads this module needs {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED} (Agrona
 * 2) and {@code --enable-native-access=ALL-UNNAMED} (huge page mapping and the batch lookup's prefetch stub, through
 * FFM).
 */
package dev.vnetd.flowtable;
