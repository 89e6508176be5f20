package dev.vnetd.dataplane.transport;

import io.netty.channel.Channel;
import io.netty.channel.unix.UnixChannel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Datagrams the kernel dropped before vnetd could read them, per listener: the {@code drops} column of
 * {@code /proc/self/net/{udp,udp6,raw,raw6}} for vnetd's own sockets, found by their inodes. A socket's receive
 * buffer overflows when its worker falls behind (a burst, a GC pause, a descheduled thread); those packets never
 * reach the path, so without this count they would be lost without a trace in vnetd's metrics.
 *
 * <p>Sockets are registered as the workers open them (vnetd's own UDP and raw sockets, whose file
 * descriptor the process can name; NIO channels hide it and are not counted); {@link #drops(int)} reads
 * {@code /proc} on each call, from the metrics scraper's thread, never from a worker.
 */
final class SocketDrops {
    private static final List<String> TABLES = List.of("udp", "udp6", "raw", "raw6");
    private static final int INODE_FIELD = 9;
    private static final String SOCKET_LINK_PREFIX = "socket:[";

    private final Map<Long, Integer> listenerByInode = new ConcurrentHashMap<>();

    /** Counts {@code channel}'s drops toward listener {@code listenerId}; a channel without a visible fd is skipped. */
    void add(int listenerId, Channel channel) {
        if (channel instanceof UnixChannel unix) {
            add(listenerId, unix.fd().intValue());
        }
    }

    /** Counts the drops of the socket with file descriptor {@code fd} toward listener {@code listenerId}. */
    void add(int listenerId, int fd) {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            if (link.startsWith(SOCKET_LINK_PREFIX) && link.endsWith("]")) {
                listenerByInode.put(Long.parseLong(link.substring(SOCKET_LINK_PREFIX.length(), link.length() - 1)),
                        listenerId);
            }
        } catch (IOException | UnsupportedOperationException | NumberFormatException e) {
            // no /proc (not Linux): nothing to count
        }
    }

    /** Datagrams dropped so far by the kernel at the sockets of listener {@code listenerId}. */
    long drops(int listenerId) {
        long total = 0;
        for (String table : TABLES) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/net/" + table))) {
                    String[] fields = line.trim().split("\\s+");
                    if (fields.length <= INODE_FIELD + 3 || !Character.isDigit(fields[0].charAt(0))) {
                        continue;
                    }
                    Integer listener = listenerByInode.get(Long.parseLong(fields[INODE_FIELD]));
                    if (listener != null && listener == listenerId) {
                        total += Long.parseLong(fields[fields.length - 1]);
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // table absent (no IPv6, no raw sockets) or unreadable: nothing from it
            }
        }
        return total;
    }
}
