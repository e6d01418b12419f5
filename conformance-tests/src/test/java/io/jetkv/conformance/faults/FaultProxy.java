package io.jetkv.conformance.faults;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A TCP proxy with faults, for one directed link between two nodes: the dialer connects to {@link #port()}, the
 * proxy connects on to whatever {@code target} names at that moment (so a node may restart on another port).
 * Faults apply per direction of the link: {@link #blackhole} stops moving bytes (the proxy holds what it has and
 * stops reading, so TCP backs up as on a lossy network; nothing is lost when healed), {@link #delay} holds every chunk back,
 * {@link #reset} closes every connection with a RST and refuses new ones until {@link #heal}.
 *
 * <p>Plain blocking sockets: an accept thread, and per connection one reader and one writer thread per
 * direction, linked by a small bounded queue (a full queue stops the reader: back-pressure, no growth).
 * Fault setters are called from the test thread.
 */
public final class FaultProxy implements AutoCloseable {
    /** {@code UPSTREAM}: bytes from the dialer to the target; {@code DOWNSTREAM}: the answers. */
    public enum Direction {
        UPSTREAM,
        DOWNSTREAM
    }

    private static final byte[] END = new byte[0];

    private final String name;
    private final Supplier<InetSocketAddress> target;
    private final ServerSocket listener;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final boolean[] blocked = new boolean[2]; // guarded by this
    private volatile long delayNanos;
    private volatile boolean refusing;
    private volatile boolean closed;

    /** Listens on a free loopback port at once; {@code target} returns null while there is nothing to reach. */
    public FaultProxy(String name, Supplier<InetSocketAddress> target) throws IOException {
        this(name, InetAddress.getLoopbackAddress(), 0, target);
    }

    /** Listens on {@code address}:{@code port} (0: a free port) at once. */
    public FaultProxy(String name, InetAddress address, int port, Supplier<InetSocketAddress> target)
            throws IOException {
        this.name = name;
        this.target = target;
        this.listener = new ServerSocket(port, 50, address);
        Thread acceptor = new Thread(this::acceptLoop, "proxy-" + name);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    public String name() {
        return name;
    }

    /** Connections currently carried. */
    public int connections() {
        return links.size();
    }

    /** Stops bytes flowing in {@code d} (both ways when called for each) until {@link #heal}. */
    public synchronized void blackhole(Direction d) {
        blocked[d.ordinal()] = true;
    }

    /** Holds every chunk back by {@code delay} in both directions (order kept); zero removes the delay. */
    public void delay(Duration delay) {
        delayNanos = delay.toNanos();
    }

    /** Closes every connection with a RST and refuses (resets) new ones until {@link #heal}. */
    public void reset() {
        refusing = true;
        for (Link l : links) {
            l.abort();
        }
    }

    /** Removes every fault: bytes flow again, new connections are carried, no delay. */
    public synchronized void heal() {
        refusing = false;
        delayNanos = 0;
        Arrays.fill(blocked, false);
        notifyAll();
    }

    private synchronized boolean blocked(Direction d) {
        return blocked[d.ordinal()];
    }

    /** Waits while {@code d} is blackholed; false once the proxy or link closed. */
    private synchronized boolean awaitOpen(Direction d, Link link) throws InterruptedException {
        while (blocked[d.ordinal()] && !closed && !link.closed) {
            wait(100); // re-checks link closure, which does not notify this monitor
        }
        return !closed && !link.closed;
    }

    private synchronized boolean awaitAnyOpen(Link link) throws InterruptedException {
        while (blocked[0] && blocked[1] && !closed && !link.closed) {
            wait(100);
        }
        return !closed && !link.closed;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket in;
            try {
                in = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (refusing) {
                abort(in);
                continue;
            }
            Link link = new Link(in);
            links.add(link);
            Thread t = new Thread(link::connect, "proxy-" + name + "-connect");
            t.setDaemon(true);
            t.start();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Link l : links) {
            l.abort();
        }
        synchronized (this) {
            notifyAll();
        }
    }

    private static void abort(Socket s) {
        try {
            s.setSoLinger(true, 0); // RST rather than FIN: the peer sees "connection reset"
        } catch (SocketException ignored) {
            // already closed
        }
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** One carried connection: the dialer's socket and ours to the target. */
    private final class Link {
        private final Socket in;
        private volatile Socket out;
        private volatile boolean closed;

        Link(Socket in) {
            this.in = in;
        }

        /** A two-way partition holds a new connection before it reaches the target, as a dropped SYN would. */
        void connect() {
            try {
                if (!awaitAnyOpen(this) || refusing) {
                    abort();
                    return;
                }
                InetSocketAddress to = target.get();
                if (to == null) {
                    abort();
                    return;
                }
                Socket s = new Socket();
                s.connect(to, 2000);
                s.setTcpNoDelay(true);
                in.setTcpNoDelay(true);
                out = s;
                if (FaultProxy.this.closed || refusing) {
                    abort();
                    return;
                }
                pump(in.getInputStream(), s.getOutputStream(), Direction.UPSTREAM);
                pump(s.getInputStream(), in.getOutputStream(), Direction.DOWNSTREAM);
            } catch (IOException | InterruptedException e) {
                abort();
            }
        }

        private void pump(InputStream from, OutputStream to, Direction d) {
            BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(64);
            Thread reader = new Thread(() -> {
                byte[] buf = new byte[16 * 1024];
                long lastDue = 0;
                try {
                    while (true) {
                        int n = from.read(buf);
                        // a read already waiting when the blackhole began returns into it: hold that chunk too
                        if (n < 0 || !awaitOpen(d, this)) {
                            break;
                        }
                        // never earlier than the chunk before: a shortened delay must not reorder the stream
                        long due = Math.max(System.nanoTime() + delayNanos, lastDue);
                        lastDue = due;
                        queue.put(new Chunk(Arrays.copyOf(buf, n), due));
                    }
                } catch (IOException | InterruptedException e) {
                    // the link is going away
                }
                try {
                    queue.put(new Chunk(END, 0));
                } catch (InterruptedException ignored) {
                    abort();
                }
            }, "proxy-" + name + "-" + d + "-read");
            Thread writer = new Thread(() -> {
                try {
                    while (true) {
                        Chunk c = queue.poll(1, TimeUnit.SECONDS);
                        if (c == null) {
                            if (closed) {
                                return;
                            }
                            continue;
                        }
                        if (c.bytes == END) {
                            break;
                        }
                        long wait;
                        while ((wait = c.due - System.nanoTime()) > 0) {
                            LockSupport.parkNanos(wait); // the injected delay itself
                        }
                        if (!awaitOpen(d, this)) { // what was in flight when the blackhole began waits too
                            break;
                        }
                        to.write(c.bytes);
                        to.flush();
                    }
                } catch (IOException | InterruptedException e) {
                    // the link is going away
                }
                abort();
            }, "proxy-" + name + "-" + d + "-write");
            reader.setDaemon(true);
            writer.setDaemon(true);
            reader.start();
            writer.start();
        }

        void abort() {
            closed = true;
            links.remove(this);
            FaultProxy.abort(in);
            Socket s = out;
            if (s != null) {
                FaultProxy.abort(s);
            }
        }
    }

    private record Chunk(byte[] bytes, long due) {}
}
