package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy between a client socket and an upper-casing echo server: each fault, then its heal. */
class FaultProxyTest {
    private ServerSocket server;
    private FaultProxy proxy;
    private final AtomicReference<InetSocketAddress> target = new AtomicReference<>();

    @BeforeEach
    void start() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread echo = new Thread(() -> {
                        try (s) {
                            InputStream in = s.getInputStream();
                            int b;
                            while ((b = in.read()) >= 0) {
                                s.getOutputStream().write(Character.toUpperCase(b));
                            }
                        } catch (IOException ignored) {
                            // reset by the proxy
                        }
                    });
                    echo.setDaemon(true);
                    echo.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        target.set(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
        proxy = new FaultProxy("test", target::get);
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        server.close();
    }

    private Socket dial() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        s.setSoTimeout(5000);
        return s;
    }

    private static String read(Socket s, int n) throws IOException {
        return new String(s.getInputStream().readNBytes(n), StandardCharsets.UTF_8);
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
    }

    /** Nothing arrives within {@code ms}: a negative, so watched for a while. */
    private static void assertSilent(Socket s, int ms) throws IOException {
        s.setSoTimeout(ms);
        assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read());
        s.setSoTimeout(5000);
    }

    @Test
    void carriesBytesBothWays() throws IOException {
        try (Socket s = dial()) {
            send(s, "hello");
            assertEquals("HELLO", read(s, 5));
            assertEquals(1, proxy.connections());
        }
    }

    @Test
    void blackholeHoldsBytesUntilHealedAndLosesNone() throws IOException {
        try (Socket s = dial()) {
            send(s, "a");
            assertEquals("A", read(s, 1));
            proxy.blackhole(FaultProxy.Direction.UPSTREAM);
            send(s, "bcd");
            assertSilent(s, 300);
            proxy.heal();
            assertEquals("BCD", read(s, 3));
        }
    }

    @Test
    void oneWayBlackholeLetsTheOtherDirectionThrough() throws IOException {
        try (Socket s = dial()) {
            send(s, "x");
            assertEquals("X", read(s, 1));
            // answers are held, requests still reach the server: the echo happens, its reply waits
            proxy.blackhole(FaultProxy.Direction.DOWNSTREAM);
            send(s, "yz");
            assertSilent(s, 300);
            proxy.heal();
            assertEquals("YZ", read(s, 2));
        }
    }

    @Test
    void twoWayPartitionHoldsANewConnectionBeforeTheTarget() throws IOException {
        proxy.blackhole(FaultProxy.Direction.UPSTREAM);
        proxy.blackhole(FaultProxy.Direction.DOWNSTREAM);
        try (Socket s = dial()) {
            send(s, "q");
            assertSilent(s, 300);
            proxy.heal();
            assertEquals("Q", read(s, 1));
        }
    }

    @Test
    void delayHoldsEveryChunkBackInOrder() throws IOException {
        proxy.delay(Duration.ofMillis(200));
        try (Socket s = dial()) {
            long start = System.nanoTime();
            send(s, "one");
            send(s, "two");
            assertEquals("ONETWO", read(s, 6));
            // up and down: at least twice the delay (a lower bound only: a slow machine is slower, never faster)
            assertTrue(System.nanoTime() - start >= Duration.ofMillis(400).toNanos());
        }
    }

    @Test
    void resetClosesConnectionsAndRefusesNewOnesUntilHealed() throws Exception {
        try (Socket s = dial()) {
            send(s, "a");
            assertEquals("A", read(s, 1));
            proxy.reset();
            assertThrows(IOException.class, () -> {
                // a RST surfaces as "connection reset", or as the end of the stream
                if (s.getInputStream().read() < 0) {
                    throw new IOException("closed");
                }
            });
        }
        try (Socket s = dial()) {
            assertThrows(IOException.class, () -> {
                if (s.getInputStream().read() < 0) {
                    throw new IOException("closed");
                }
            });
        }
        proxy.heal();
        try (Socket s = dial()) {
            send(s, "b");
            assertArrayEquals("B".getBytes(StandardCharsets.UTF_8), s.getInputStream().readNBytes(1));
        }
    }

    @Test
    void followsTheTargetWhenItMoves() throws IOException {
        target.set(null); // nothing to reach: the dialer's connection is closed
        try (Socket s = dial()) {
            assertThrows(IOException.class, () -> {
                if (s.getInputStream().read() < 0) {
                    throw new IOException("closed");
                }
            });
        }
        target.set(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
        try (Socket s = dial()) {
            send(s, "m");
            assertEquals("M", read(s, 1));
        }
    }
}
