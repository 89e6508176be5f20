/** JMH benchmarks of the in-process packet path: no sockets, the cost that is vnetd's rather than the kernel's. */
package dev.vnetd.bench.pipeline;
