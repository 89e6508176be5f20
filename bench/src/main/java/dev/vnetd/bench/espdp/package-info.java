/** JMH benchmarks of ESP tunnels on the dataplane path: decrypt, route, re-encrypt, in a worker's buffers. */
package dev.vnetd.bench.espdp;
