/**
 * The forwarding table: one longest-prefix-match table per virtual network and address family
 * ({@link dev.vnetd.dataplane.fib.Ipv4Lpm}, {@link dev.vnetd.dataplane.fib.Ipv6Lpm}), whose values index the virtual
 * network's routes. Both are a Poptrie (Asai and Ohara, SIGCOMM 2015, https://doi.org/10.1145/2785956.2787474) with
 * record roots, skip nodes and path-copying updates; the layout and the lock-free argument are in {@code Poptrie}.
 * Lookups are lock-free and allocation-free; one writer per table. The lookups read the table's arrays through
 * Agrona's {@code UnsafeApi}, so every JVM that loads this package needs
 * {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED}, as vnetd's launchers and tests already pass.
 */
package dev.vnetd.dataplane.fib;
