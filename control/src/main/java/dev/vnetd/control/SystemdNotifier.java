package dev.vnetd.control;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The sd_notify protocol spoken directly (no libsystemd): datagrams such as {@code READY=1} to the unix socket named
 * by {@code $NOTIFY_SOCKET} (a path, or an abstract name starting with {@code @}), and {@code WATCHDOG=1} every half
 * of {@code $WATCHDOG_USEC}, sent only while a liveness check passes, so a wedged dataplane makes systemd restart
 * the service. Without {@code $NOTIFY_SOCKET} (not under systemd) every call does nothing.
 */
public final class SystemdNotifier implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SystemdNotifier.class);
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SUN_PATH_LENGTH = 108;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET = LINKER.downcallHandle(LINKER.defaultLookup().find("socket")
            .orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT), Linker.Option.captureCallState("errno"));
    private static final MethodHandle SENDTO = LINKER.downcallHandle(LINKER.defaultLookup().find("sendto")
            .orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close")
            .orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private final String socketName;
    private final long watchdogMicros;
    private ScheduledExecutorService watchdog;

    private SystemdNotifier(String socketName, long watchdogMicros) {
        this.socketName = socketName;
        this.watchdogMicros = watchdogMicros;
    }

    /** A notifier for this process's environment. */
    public static SystemdNotifier fromEnvironment() {
        String socket = System.getenv("NOTIFY_SOCKET");
        long watchdog = 0;
        String usec = System.getenv("WATCHDOG_USEC");
        String pid = System.getenv("WATCHDOG_PID");
        if (usec != null && (pid == null || pid.equals(Long.toString(ProcessHandle.current().pid())))) {
            try {
                watchdog = Long.parseLong(usec);
            } catch (NumberFormatException e) {
                LOG.warn("event=watchdog_ignored reason=\"WATCHDOG_USEC is not a number\" value={}", usec);
            }
        }
        return new SystemdNotifier(socket == null || socket.isEmpty() ? null : socket, watchdog);
    }

    /** Whether vnetd runs under a service manager that listens. */
    public boolean enabled() {
        return socketName != null;
    }

    /** Sends one state update, e.g. {@code READY=1}; failures are logged, never thrown. */
    public void notify(String state) {
        if (socketName == null) {
            return;
        }
        try {
            send(state);
        } catch (IOException e) {
            LOG.warn("event=sd_notify_failed state={} error=\"{}\"", state.replace('\n', ' '), e.getMessage());
        }
    }

    /**
     * Starts sending {@code WATCHDOG=1} every half of {@code $WATCHDOG_USEC}, as systemd asks, while {@code alive}
     * holds; nothing without a watchdog.
     */
    public void startWatchdog(BooleanSupplier alive) {
        if (socketName == null || watchdogMicros <= 0) {
            return;
        }
        long period = Math.max(1, watchdogMicros / 2);
        watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vnetd-watchdog");
            t.setDaemon(true);
            return t;
        });
        watchdog.scheduleAtFixedRate(() -> {
            if (alive.getAsBoolean()) {
                notify("WATCHDOG=1");
            } else {
                LOG.error("event=watchdog_withheld reason=\"dataplane workers not alive\"");
            }
        }, 0, period, TimeUnit.MICROSECONDS);
        LOG.info("event=watchdog_started period_ms={}", period / 1000);
    }

    private void send(String update) throws IOException {
        byte[] message = update.getBytes(StandardCharsets.UTF_8);
        byte[] name = socketName.getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH_LENGTH) {
            throw new IOException("NOTIFY_SOCKET too long");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(CAPTURED);
            int fd = (int) SOCKET.invokeExact(callState, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new IOException("socket(AF_UNIX): errno " + (int) ERRNO.get(callState, 0L));
            }
            try {
                MemorySegment address = arena.allocate(2 + SUN_PATH_LENGTH, 2);
                address.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
                MemorySegment.copy(name, 0, address, ValueLayout.JAVA_BYTE, 2, name.length);
                boolean abstractName = name[0] == '@';
                if (abstractName) {
                    address.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
                }
                int length = 2 + name.length + (abstractName ? 0 : 1);
                MemorySegment buffer = arena.allocateFrom(ValueLayout.JAVA_BYTE, message);
                long sent = (long) SENDTO.invokeExact(callState, fd, buffer, (long) message.length, 0, address,
                        length);
                if (sent < 0) {
                    throw new IOException("sendto " + socketName + ": errno " + (int) ERRNO.get(callState, 0L));
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    @Override
    public void close() {
        if (watchdog != null) {
            watchdog.shutdownNow();
        }
    }
}
