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
 * One non-blocking read() of a TUN queue that is empty, the call that ends every read batch (EAGAIN): the cost of
 * the downcall and the system call without the copy. {@code ffm} is vnetd's critical FFM downcall
 * ({@code TunDevice.read}), {@code jni} Netty's {@code FileDescriptor.readAddress}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TunReadBenchmark {
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
    public int readEmpty() throws IOException {
        return binding.equals("ffm")
                ? TunDevice.read(device.errno, device.fd, device.address, TunBenchDevice.BUFFER)
                : device.jni.readAddress(device.address, 0, TunBenchDevice.BUFFER);
    }
}
