/**
 * JMH benchmarks of tunnel health probes on the packet path: what the reply check costs forwarded packets, and
 * what taking a probe reply out of the traffic costs.
 */
package dev.vnetd.bench.health;
