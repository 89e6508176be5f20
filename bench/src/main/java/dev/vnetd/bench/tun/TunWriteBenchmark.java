package dev.vnetd.bench.tun;

import dev.vnetd.dataplane.transport.TunDevice;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * One write() of a 64-byte IPv4/UDP packet to a TUN queue, as vnetd delivers a packet to the host: the downcall,
 * the copy into an skb and the host's IP receive, which drops it (the destination is not the host's and nothing is
 * forwarded). {@code ffm} is vnetd's critical FFM downcall ({@code TunDevice.write}), {@code jni} Netty's
 * {@code FileDescriptor.writeAddress}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TunWriteBenchmark {
    /** Which binding makes the call. */
    @Param({"ffm", "jni"})
    public String binding;

    private TunBenchDevice device;

    @Setup
    public void open() throws Exception {
        device = new TunBenchDevice();
    }

    @TearDown
    public void close() {
        device.close();
    }

    @Benchmark
    public int write() throws IOException {
        return binding.equals("ffm")
                ? TunDevice.write(device.errno, device.fd, device.address, TunBenchDevice.PACKET_LENGTH)
                : device.jni.writeAddress(device.address, 0, TunBenchDevice.PACKET_LENGTH);
    }
}
