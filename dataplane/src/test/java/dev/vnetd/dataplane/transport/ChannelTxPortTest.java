package dev.vnetd.dataplane.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A socket that cannot send (the kernel's send buffer full, a receiver that does not read): the port refuses
 * packets once the channel's outbound buffer passes its high water mark, so the queue in front of the socket stays
 * bounded and the worker never waits.
 */
class ChannelTxPortTest {
    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.3", 4754);
    private static final int PACKET = 1400;

    @Test
    void shouldRefuseAndReleasePacketsOnceTheOutboundBufferIsFullAndAcceptAgainWhenItDrains() {
        EmbeddedChannel channel = new EmbeddedChannel();
        ChannelTxPort port = new ChannelTxPort(channel);
        int highWaterMark = channel.config().getWriteBufferHighWaterMark();
        List<ByteBuf> refused = new ArrayList<>();
        int accepted = 0;

        // nothing drains: no flush reaches the socket
        for (int i = 0; i < 1000; i++) {
            ByteBuf packet = Unpooled.buffer(PACKET).writerIndex(PACKET);
            if (port.send(packet, PEER, i)) {
                accepted++;
            } else {
                refused.add(packet);
            }
        }

        ChannelOutboundBuffer queue = channel.unsafe().outboundBuffer();
        assertTrue(queue.totalPendingWriteBytes() <= highWaterMark + PACKET,
                "queue bounded by the high water mark: " + queue.totalPendingWriteBytes());
        assertTrue(accepted > 0 && accepted <= highWaterMark / PACKET + 1,
                "accepted until the water mark was passed (Netty counts some bytes per entry too): " + accepted);
        assertEquals(1000 - accepted, refused.size());
        assertTrue(refused.stream().allMatch(b -> b.refCnt() == 0), "refused packets are released");
        assertFalse(channel.isWritable());

        port.flush();
        for (DatagramPacket sent; (sent = channel.readOutbound()) != null; ) {
            sent.release();
        }
        assertTrue(channel.isWritable(), "writable again once the socket took the queue");
        assertTrue(port.send(Unpooled.buffer(PACKET).writerIndex(PACKET), PEER, 0));
        port.flush();
        ((DatagramPacket) channel.readOutbound()).release();
        assertFalse(channel.finish());
    }
}
