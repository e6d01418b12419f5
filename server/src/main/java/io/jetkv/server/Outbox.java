package io.jetkv.server;

import io.jetkv.server.monitor.ServerStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The bytes waiting to be written to one client. Any thread may append (a publisher on another event loop,
 * a JetStream writer); appends coalesce into one buffer that is handed to Netty in one write per flush,
 * as nats-server batches its per-client flushes.
 *
 * <p>Threading: {@link #lock} guards {@link #buf}; it is a leaf lock (nothing else is taken while holding
 * it). {@link #flush()} runs on the client's event loop only. Memory is bounded: when the bytes queued here
 * and in Netty's outbound buffer exceed {@code maxPending} the client is a slow consumer and is closed.
 *
 * <p>Time is bounded too, as nats-server's {@code write_deadline}: a write handed to Netty that the socket has not
 * taken within the deadline (the peer stopped reading) makes the client a slow consumer, however little is queued.
 * Writes complete in order, so one timer watches the oldest unfinished write at a time.
 */
final class Outbox {
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] MSG = {'M', 'S', 'G', ' '};
    private static final byte[] HMSG = {'H', 'M', 'S', 'G', ' '};

    private final Channel channel;
    private final long maxPending;
    private final Consumer<String> onSlowConsumer;
    private final Supplier<Duration> writeDeadline;
    private final ServerStats stats;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicBoolean flushQueued = new AtomicBoolean();
    private final Runnable flushTask = this::flush;
    private ByteBuf buf;
    // a MSG control line is assembled here before it is copied into buf; guarded by lock
    private byte[] scratch = new byte[128];
    private boolean dead;
    // messages and their bytes queued for this client, for /connz; guarded by lock
    private long outMsgs;
    private long outBytes;
    // event loop only: the oldest write not yet taken by the socket, its deadline timer, and the newest such write
    private ChannelFuture watched;
    private ScheduledFuture<?> deadlineTimer;
    private ChannelFuture newest;

    /**
     * @param writeDeadline  read when a write does not complete at once (so a reload applies); zero: no deadline
     * @param onSlowConsumer called with what was exceeded, from any thread; the connection closes itself
     */
    Outbox(Channel channel, long maxPending, Supplier<Duration> writeDeadline, Consumer<String> onSlowConsumer,
            ServerStats stats) {
        this.stats = stats;
        this.channel = channel;
        this.maxPending = maxPending;
        this.writeDeadline = writeDeadline;
        this.onSlowConsumer = onSlowConsumer;
    }

    EventLoop eventLoop() {
        return channel.eventLoop();
    }

    /** Queues raw protocol bytes (INFO, PONG, +OK, -ERR). */
    void appendRaw(byte[] bytes) {
        lock.lock();
        try {
            if (dead) {
                return;
            }
            buffer(bytes.length).writeBytes(bytes);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues a {@code MSG} or {@code HMSG} for subscription {@code sid}. With {@code withHeaders} false the
     * header block is dropped and a plain {@code MSG} carries the payload alone.
     *
     * @return false when the client is gone or was just closed as a slow consumer
     */
    boolean appendMsg(OutMsg m, byte[] sid, boolean withHeaders) {
        boolean slow;
        lock.lock();
        try {
            if (dead) {
                return false;
            }
            int total = m.data.readableBytes();
            boolean hmsg = withHeaders && m.headerSize > 0;
            int skip = hmsg ? 0 : m.headerSize;
            int size = total - skip;
            byte[] subject = m.subjectBytes();
            byte[] reply = m.replyBytes();
            int lineMax = subject.length + sid.length + 32 + (reply == null ? 0 : reply.length);
            ByteBuf b = buffer(lineMax + size + 2);
            // the control line is put together in an array and written at once: each write into the direct
            // buffer is a bounds-checked NIO call, and a line is made of seven or eight small pieces
            byte[] line = lineMax <= scratch.length ? scratch : (scratch = new byte[lineMax]);
            int at = put(line, 0, hmsg ? HMSG : MSG);
            at = put(line, at, subject);
            line[at++] = ' ';
            at = put(line, at, sid);
            line[at++] = ' ';
            if (reply != null) {
                at = put(line, at, reply);
                line[at++] = ' ';
            }
            if (hmsg) {
                at = putDecimal(line, at, m.headerSize);
                line[at++] = ' ';
            }
            at = putDecimal(line, at, size);
            line[at++] = '\r';
            line[at++] = '\n';
            b.writeBytes(line, 0, at);
            b.writeBytes(m.data, m.data.readerIndex() + skip, size);
            b.writeBytes(CRLF);
            outMsgs++;
            outBytes += size;
            stats.delivered(size);
            slow = overPending();
        } finally {
            lock.unlock();
        }
        return appended(slow);
    }

    private static final byte[] ROUTED_MSG = {'R', 'M', 'S', 'G', ' '};
    private static final byte[] ROUTED_HMSG = {'H', 'M', 'S', 'G', ' '};

    /**
     * Queues an {@code RMSG} (or {@code HMSG} when the message has headers) in {@code account} for a route:
     * {@code RMSG acc subject [reply] size}, or with queue groups {@code RMSG acc subject + reply q... size} /
     * {@code RMSG acc subject | q... size}. Bounded like a client's: over {@code maxPending} the route is dropped.
     *
     * @return false when the route is gone or was just closed as slow
     */
    boolean appendRouted(OutMsg m, byte[] account, List<String> queues) {
        boolean slow;
        lock.lock();
        try {
            if (dead) {
                return false;
            }
            int total = m.data.readableBytes();
            boolean hmsg = m.headerSize > 0;
            byte[] subject = m.subjectBytes();
            byte[] reply = m.replyBytes();
            int queueLen = 0;
            for (String q : queues) {
                queueLen += q.length() * 3 + 1;
            }
            ByteBuf b = buffer(subject.length + account.length + total + queueLen + 48
                    + (reply == null ? 0 : reply.length));
            // RMSG <account> <subject> ...: the account whose subject space the message belongs to
            b.writeBytes(hmsg ? ROUTED_HMSG : ROUTED_MSG).writeBytes(account).writeByte(' ');
            b.writeBytes(subject).writeByte(' ');
            if (!queues.isEmpty()) {
                b.writeByte(reply != null ? '+' : '|').writeByte(' ');
            }
            if (reply != null) {
                b.writeBytes(reply).writeByte(' ');
            }
            for (String q : queues) {
                b.writeCharSequence(q, StandardCharsets.UTF_8);
                b.writeByte(' ');
            }
            if (hmsg) {
                writeDecimal(b, m.headerSize);
                b.writeByte(' ');
            }
            writeDecimal(b, total);
            b.writeBytes(CRLF);
            b.writeBytes(m.data, m.data.readerIndex(), total);
            b.writeBytes(CRLF);
            slow = overPending();
        } finally {
            lock.unlock();
        }
        return appended(slow);
    }

    /** Under the lock, after an append: over {@code maxPending} the connection is dead and its queue dropped. */
    private boolean overPending() {
        if (pendingBytes() <= maxPending) {
            return false;
        }
        dead = true;
        buf.release();
        buf = null;
        return true;
    }

    /** After the lock is released: a connection just found slow is closed, and the append did not count. */
    private boolean appended(boolean slow) {
        if (slow) {
            onSlowConsumer.accept("pending bytes over " + maxPending);
            return false;
        }
        return true;
    }

    /** Hands the queued bytes to Netty. Event loop only. */
    void flush() {
        flushQueued.set(false);
        ByteBuf out;
        lock.lock();
        try {
            out = buf;
            buf = null;
        } finally {
            lock.unlock();
        }
        if (out != null) {
            if (!channel.isActive()) {
                out.release();
                return;
            }
            stats.outboundFlush();
            Duration deadline = writeDeadline.get();
            if (deadline.isZero()) {
                channel.writeAndFlush(out, channel.voidPromise());
                return;
            }
            ChannelFuture f = channel.writeAndFlush(out);
            if (!f.isDone()) {
                newest = f;
                if (watched == null) {
                    watch(f, deadline);
                }
            }
        }
    }

    /** Event loop only: times {@code f}, then whichever write is unfinished when it completes. */
    private void watch(ChannelFuture f, Duration deadline) {
        watched = f;
        int bytes = pendingBytesOnLoop();
        deadlineTimer = channel.eventLoop().schedule(() -> {
            if (!f.isDone() && channel.isActive()) {
                onSlowConsumer.accept("WriteDeadline of " + deadline.toMillis() + "ms exceeded with " + bytes
                        + " total bytes");
            }
        }, deadline.toNanos(), TimeUnit.NANOSECONDS);
        // write futures complete on the channel's event loop, in write order
        f.addListener(done -> {
            deadlineTimer.cancel(false);
            watched = null;
            ChannelFuture next = newest;
            if (next == f || next == null || next.isDone()) {
                newest = null;
            } else {
                watch(next, writeDeadline.get().isZero() ? deadline : writeDeadline.get());
            }
        });
    }

    private int pendingBytesOnLoop() {
        ChannelOutboundBuffer ob = channel.unsafe().outboundBuffer();
        return ob == null ? 0 : (int) Math.min(Integer.MAX_VALUE, ob.totalPendingWriteBytes());
    }

    /** Flushes now when called on the client's loop, else schedules one flush there (coalesced). */
    void flushFrom(EventLoop current) {
        if (current == channel.eventLoop()) {
            flush();
        } else if (flushQueued.compareAndSet(false, true)) {
            channel.eventLoop().execute(flushTask);
        }
    }

    /** Drops whatever is queued; called when the connection closes. */
    void discard() {
        lock.lock();
        try {
            dead = true;
            if (buf != null) {
                buf.release();
                buf = null;
            }
        } finally {
            lock.unlock();
        }
    }

    /** {out_msgs, out_bytes, pending_bytes} read together; the client's event loop only (pending bytes). */
    long[] counters() {
        lock.lock();
        try {
            return new long[] {outMsgs, outBytes, pendingBytes()};
        } finally {
            lock.unlock();
        }
    }

    private long pendingBytes() {
        ChannelOutboundBuffer ob = channel.unsafe().outboundBuffer();
        return (buf == null ? 0 : buf.readableBytes()) + (ob == null ? 0 : ob.totalPendingWriteBytes());
    }

    private ByteBuf buffer(int need) {
        if (buf == null) {
            buf = ByteBufAllocator.DEFAULT.directBuffer(Math.max(need, 8192));
        } else {
            buf.ensureWritable(need);
        }
        return buf;
    }

    private static int put(byte[] dst, int at, byte[] src) {
        System.arraycopy(src, 0, dst, at, src.length);
        return at + src.length;
    }

    /** Puts non-negative {@code v} in decimal at {@code at}; returns the index after it. */
    static int putDecimal(byte[] dst, int at, int v) {
        int digits = 1;
        for (int t = v; t >= 10; t /= 10) {
            digits++;
        }
        int end = at + digits;
        int i = end;
        do {
            dst[--i] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v > 0);
        return end;
    }

    /** Writes non-negative {@code v} in decimal, digit by digit: no String per message. */
    static void writeDecimal(ByteBuf b, int v) {
        int digits = 1;
        for (int t = v; t >= 10; t /= 10) {
            digits++;
        }
        int at = b.writerIndex() + digits;
        b.ensureWritable(digits);
        b.writerIndex(at);
        do {
            b.setByte(--at, '0' + v % 10);
            v /= 10;
        } while (v > 0);
    }
}
