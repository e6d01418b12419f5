package io.jetkv.server;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * A message on its way to subscribers: encoded subject and reply, and the header block plus payload in one
 * buffer. Built once per publish and shared by every delivery of it; the buffer belongs to the caller.
 */
final class OutMsg {
    final String subject;
    final String reply;
    final ByteBuf data;
    final int headerSize;
    /**
     * The subject the message was routed by when it is not {@link #subject} (a JetStream delivery to a deliver or
     * reply subject); set by the router before it delivers, read by account import taps on the same thread.
     */
    String deliverTo;

    OutMsg(String subject, String reply, ByteBuf data, int headerSize) {
        this.subject = subject;
        this.reply = reply;
        this.data = data;
        this.headerSize = headerSize;
    }

    /** With the subject already encoded, e.g. by a publisher that repeats it. */
    OutMsg(String subject, byte[] subjectBytes, String reply, ByteBuf data, int headerSize) {
        this(subject, reply, data, headerSize);
        this.subjectBytes = subjectBytes;
    }

    // Encoded on first delivery to a client: a publish nobody (or only JetStream) receives never pays for it.
    // Benign race: two loops delivering at once may both encode; the arrays are equal.
    private byte[] subjectBytes;
    private byte[] replyBytes;

    byte[] subjectBytes() {
        byte[] b = subjectBytes;
        if (b == null) {
            b = subject.getBytes(StandardCharsets.UTF_8);
            subjectBytes = b;
        }
        return b;
    }

    /** The encoded reply subject, or null when there is none. */
    byte[] replyBytes() {
        if (reply == null) {
            return null;
        }
        byte[] b = replyBytes;
        if (b == null) {
            b = reply.getBytes(StandardCharsets.UTF_8);
            replyBytes = b;
        }
        return b;
    }

    /** The header block as an array, or null. */
    byte[] headersArray() {
        if (headerSize == 0) {
            return null;
        }
        byte[] h = new byte[headerSize];
        data.getBytes(data.readerIndex(), h);
        return h;
    }

    /** The payload as an array. */
    byte[] payloadArray() {
        byte[] p = new byte[data.readableBytes() - headerSize];
        data.getBytes(data.readerIndex() + headerSize, p);
        return p;
    }
}
