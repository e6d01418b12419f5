package io.jetkv.server.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;

/**
 * Between the WebSocket codec and the client protocol: data frames in become the byte stream the NATS
 * decoder reads (lines may span frames, frames may hold several lines); the bytes the connection writes go
 * out as binary frames; pings are answered, a close is echoed. A close from the server side sends a close
 * frame first, with the status nats-server gives for the reason of the last {@code -ERR}. Event loop only.
 */
final class WebSocketFrames extends ChannelDuplexHandler {
    private static final byte[] ERR = "-ERR '".getBytes(StandardCharsets.US_ASCII);

    /** Largest frame sent, 0 for no limit (browsers get 4096). */
    private final int maxFrame;
    private String lastError;
    private boolean closeSent;

    WebSocketFrames(int maxFrame) {
        this.maxFrame = maxFrame;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof BinaryWebSocketFrame || msg instanceof TextWebSocketFrame
                || msg instanceof ContinuationWebSocketFrame) {
            // the frame's content carries its reference count on: the decoder releases it
            ctx.fireChannelRead(((WebSocketFrame) msg).content());
        } else if (msg instanceof PingWebSocketFrame ping) {
            ctx.writeAndFlush(new PongWebSocketFrame(ping.content()));
        } else if (msg instanceof CloseWebSocketFrame close) {
            if (closeSent) {
                close.release();
                ctx.close();
            } else {
                closeSent = true;
                ctx.writeAndFlush(close).addListener(ChannelFutureListener.CLOSE);
            }
        } else if (msg instanceof WebSocketFrame other) {
            other.release();
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        // frames pass; so does an empty buffer (the connection flushes one before it closes): not a frame
        if (!(msg instanceof ByteBuf buf) || !buf.isReadable()) {
            ctx.write(msg, promise);
            return;
        }
        noteError(buf);
        if (maxFrame == 0 || buf.readableBytes() <= maxFrame) {
            ctx.write(new BinaryWebSocketFrame(buf), promise);
            return;
        }
        while (buf.readableBytes() > maxFrame) {
            ctx.write(new BinaryWebSocketFrame(buf.readRetainedSlice(maxFrame)), ctx.voidPromise());
        }
        ctx.write(new BinaryWebSocketFrame(buf), promise);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (closeSent || !ctx.channel().isActive()) {
            ctx.close(promise);
            return;
        }
        closeSent = true;
        int status = status(lastError);
        String reason = reason(lastError);
        ctx.writeAndFlush(new CloseWebSocketFrame(status, reason)).addListener(f -> ctx.close(promise));
    }

    // the server's -ERR comes alone in its write, just before the close it explains
    private void noteError(ByteBuf buf) {
        int n = buf.readableBytes();
        int at = buf.readerIndex();
        if (n <= ERR.length || buf.getByte(at) != '-') {
            return;
        }
        for (int i = 0; i < ERR.length; i++) {
            if (buf.getByte(at + i) != ERR[i]) {
                return;
            }
        }
        int end = buf.indexOf(at + ERR.length, at + Math.min(n, 256), (byte) '\'');
        if (end > 0) {
            lastError = buf.toString(at + ERR.length, end - at - ERR.length, StandardCharsets.US_ASCII);
        }
    }

    /**
     * The close frame's text: nats-server names the reason the connection closed, which is the error's own words
     * except for a refused CONNECT ({@code -ERR 'Authorization Violation'}, closed as "Authentication Failure").
     */
    static String reason(String error) {
        if (error == null) {
            return "Server Shutdown";
        }
        return error.equals("Authorization Violation") ? "Authentication Failure" : error;
    }

    /** nats-server's close status for each reason (RFC 6455 7.4.1). */
    static int status(String error) {
        if (error == null) {
            return 1001; // going away: the server shuts down
        }
        String e = error.toLowerCase(java.util.Locale.ROOT);
        if (e.startsWith("maximum payload")) {
            return 1009;
        }
        if (e.startsWith("authorization") || e.startsWith("authentication") || e.startsWith("slow consumer")
                || e.startsWith("maximum") || e.startsWith("user authentication")) {
            return 1008;
        }
        if (e.startsWith("unknown protocol") || e.startsWith("invalid") || e.contains("parser")
                || e.startsWith("protocol")) {
            return 1002;
        }
        return 1011;
    }
}
