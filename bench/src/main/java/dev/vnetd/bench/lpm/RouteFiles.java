package dev.vnetd.bench.lpm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads the route and key files of {@code shared/tools/gen-routes.py}: one prefix ({@code 10.1.2.0/24}) or one
 * address a line. A route's value is its line number, as a FIB's value is an index into its route list.
 */
final class RouteFiles {
    /** IPv4 routes as parallel arrays. */
    record V4Routes(int[] prefixes, int[] lengths, int[] values, int count) {
    }

    /** IPv6 routes as parallel arrays. */
    record V6Routes(long[] highs, long[] lows, int[] lengths, int[] values, int count) {
    }

    private RouteFiles() {
    }

    static V4Routes v4Routes(String file) {
        String[] lines = lines(file);
        int n = lines.length;
        int[] prefixes = new int[n];
        int[] lengths = new int[n];
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            int slash = lines[i].indexOf('/');
            prefixes[i] = v4(lines[i].substring(0, slash));
            lengths[i] = Integer.parseInt(lines[i].substring(slash + 1));
            values[i] = i;
        }
        return new V4Routes(prefixes, lengths, values, n);
    }

    static int[] v4Keys(String file) {
        String[] lines = lines(file);
        int[] keys = new int[lines.length];
        for (int i = 0; i < lines.length; i++) {
            keys[i] = v4(lines[i]);
        }
        return keys;
    }

    static V6Routes v6Routes(String file) {
        String[] lines = lines(file);
        int n = lines.length;
        long[] highs = new long[n];
        long[] lows = new long[n];
        int[] lengths = new int[n];
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            int slash = lines[i].indexOf('/');
            ByteBuffer address = v6(lines[i].substring(0, slash));
            highs[i] = address.getLong(0);
            lows[i] = address.getLong(8);
            lengths[i] = Integer.parseInt(lines[i].substring(slash + 1));
            values[i] = i;
        }
        return new V6Routes(highs, lows, lengths, values, n);
    }

    /** IPv6 keys interleaved: high, low, high, low ... */
    static long[] v6Keys(String file) {
        String[] lines = lines(file);
        long[] keys = new long[2 * lines.length];
        for (int i = 0; i < lines.length; i++) {
            ByteBuffer address = v6(lines[i]);
            keys[2 * i] = address.getLong(0);
            keys[2 * i + 1] = address.getLong(8);
        }
        return keys;
    }

    private static String[] lines(String file) {
        try (BufferedReader reader = Files.newBufferedReader(Path.of(file))) {
            return reader.lines().filter(line -> !line.isBlank()).toArray(String[]::new);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int v4(String dotted) {
        int address = 0;
        int octet = 0;
        for (int i = 0; i < dotted.length(); i++) {
            char c = dotted.charAt(i);
            if (c == '.') {
                address = address << 8 | octet;
                octet = 0;
            } else {
                octet = octet * 10 + (c - '0');
            }
        }
        return address << 8 | octet;
    }

    private static ByteBuffer v6(String literal) {
        try {
            return ByteBuffer.wrap(Arrays.copyOf(InetAddress.getByName(literal).getAddress(), 16));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
