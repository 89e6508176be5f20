package dev.vnetd.control.peers;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Ports the kernel says are free now, for tests that must write them into a configuration. */
public final class FreePort {
    private FreePort() {
    }

    /** A free UDP port on {@code address}. */
    public static int udp(String address) throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(address, 0))) {
            return s.getLocalPort();
        }
    }

    /** A free TCP port on 127.0.0.1. */
    public static int tcp() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
