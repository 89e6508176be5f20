/**
 * The per-packet system calls of a TUN attachment, FFM downcalls against Netty's JNI: {@link
 * dev.vnetd.bench.tun.TunReadBenchmark} and {@link dev.vnetd.bench.tun.TunWriteBenchmark} on a real TUN device.
 * They need root and run inside a network namespace of their own ({@code bench/run.sh tun} makes it), so the
 * packets written never meet the machine's own stack.
 */
package dev.vnetd.bench.tun;
