package dev.vnetd.dataplane.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A worker's send port on an EmbeddedChannel with a small write-buffer mark: a read batch larger than the mark. */
class ChannelTxPortTest {
    private static final InetSocketAddress PEER = new InetSocketAddress("198.18.0.2", 4500);
    private static final int PACKET = 300;

    private static EmbeddedChannel channel(ChannelOutboundHandlerAdapter... handlers) {
        EmbeddedChannel channel = new EmbeddedChannel(handlers);
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(2 * PACKET, 3 * PACKET));
        return channel;
    }

    private static ByteBuf packet(int index) {
        return Unpooled.directBuffer(PACKET).writeInt(index).writeZero(PACKET - Integer.BYTES);
    }

    @Test
    void shouldAskForFlowHashesOnlyWithSeveralChannelsToSpreadFlowsOver() {
        assertFalse(new ChannelTxPort(channel()).spreadsFlows(), "one channel: every flow takes it");
        assertTrue(new ChannelTxPort(channel(), channel()).spreadsFlows(), "two channels: the flow hash picks one");
    }

    @Test
    void shouldFlushEarlyRatherThanDropWhenABatchOutgrowsTheHighWaterMark() {
        EmbeddedChannel channel = channel();
        ChannelTxPort port = new ChannelTxPort(channel);

        for (int i = 0; i < 10; i++) {
            assertTrue(port.send(packet(i), PEER, i), "packet " + i + " of a batch ten times the mark");
        }
        port.flush();

        for (int i = 0; i < 10; i++) {
            DatagramPacket out = channel.readOutbound();
            try {
                assertEquals(i, out.content().getInt(out.content().readerIndex()), "sent in order");
                assertEquals(PEER, out.recipient());
            } finally {
                out.release();
            }
        }
        assertNull(channel.readOutbound());
        assertFalse(channel.finish());
    }

    @Test
    void shouldDropAndReleaseWhenTheQueueStaysAboveTheMarkAfterAFlush() {
        ChannelOutboundHandlerAdapter socketFull = new ChannelOutboundHandlerAdapter() {
            @Override
            public void flush(ChannelHandlerContext ctx) {
            }
        };
        EmbeddedChannel channel = channel(socketFull);
        ChannelTxPort port = new ChannelTxPort(channel);
        int queued = 0;
        while (channel.isWritable()) {
            assertTrue(port.send(packet(queued), PEER, queued), "below the mark, packet " + queued + " is queued");
            queued++;
        }
        ByteBuf refused = packet(queued);

        assertFalse(port.send(refused, PEER, queued), "the socket took nothing: the queue is still above the mark");
        assertEquals(0, refused.refCnt(), "a dropped packet is released");

        channel.pipeline().remove(socketFull);
        port.flush();
        for (int i = 0; i < queued; i++) {
            DatagramPacket out = channel.readOutbound();
            assertEquals(i, out.content().getInt(out.content().readerIndex()));
            out.release();
        }
        assertNull(channel.readOutbound());
        assertFalse(channel.finish());
    }
}
