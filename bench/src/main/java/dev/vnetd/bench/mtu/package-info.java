/** JMH benchmarks of path MTU handling in the dataplane: what TCP MSS clamping costs a SYN. */
package dev.vnetd.bench.mtu;
