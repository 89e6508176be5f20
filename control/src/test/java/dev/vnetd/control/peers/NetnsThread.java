package dev.vnetd.control.peers;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Runs code on a fresh thread that has joined a network namespace with setns(2): a Linux thread has its own
 * namespace, so sockets and TUN devices it opens live there while the rest of the JVM stays where it was. The thread
 * ends with the code, so nothing else ever runs in the namespace.
 */
public final class NetnsThread {
    private static final int O_RDONLY = 0;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SETNS = LINKER.downcallHandle(LINKER.defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private NetnsThread() {
    }

    /** Runs {@code task} in namespace {@code name} (as made by {@code ip netns add}) and returns its result. */
    public static <T> T call(String name, Callable<T> task) throws Exception {
        FutureTask<T> future = new FutureTask<>(() -> {
            enter(name);
            return task.call();
        });
        Thread thread = new Thread(future, "netns-" + name);
        thread.start();
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    private static void enter(String name) throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom("/run/netns/" + name), O_RDONLY);
            if (fd < 0) {
                throw new IOException("open /run/netns/" + name);
            }
            int result = (int) SETNS.invokeExact(fd, CLONE_NEWNET);
            int ignored = (int) CLOSE.invokeExact(fd);
            if (result != 0) {
                throw new IOException("setns into " + name + " failed");
            }
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("setns into " + name, t);
        }
    }
}
