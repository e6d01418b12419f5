package io.jetkv.server;

import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;

/**
 * The client port, bound by {@link Main} before the rest of the server loads. Harnesses that start a
 * server per test only check that the port accepts, and give it a fraction of a second: the JVM reaches
 * {@code main} in well under that, loading SLF4J, Netty and the configuration's classes takes as long
 * again. The kernel queues the connections made meanwhile (backlog 1024) and {@link NatsServer} then
 * adopts the bound socket instead of binding one: the first client gets its INFO once the server is up,
 * as a client of a server under load would.
 *
 * <p>Netty's native transport adopts a socket by its file descriptor, which the JDK keeps in a
 * non-exported class: the launcher opens {@code sun.nio.ch} for this. Where that is not open (a plain
 * {@code java -jar}), {@link #bind} says so before binding anything and the server binds as usual. Main
 * thread only.
 */
final class EarlyListener {
    private final ServerSocketChannel socket;
    private final int fd;

    private EarlyListener(ServerSocketChannel socket, int fd) {
        this.socket = socket;
        this.fd = fd;
    }

    /**
     * Binds and listens on {@code host:port} (0: any free port), or returns null when the socket cannot
     * be handed to Netty or the bind fails (the server's own bind then reports the failure as usual).
     */
    static EarlyListener bind(String host, int port) {
        ServerSocketChannel socket = null;
        try {
            socket = ServerSocketChannel.open();
            int fd = fdOf(socket);
            if (fd < 0) {
                socket.close();
                return null;
            }
            socket.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            socket.bind(new InetSocketAddress(host, port), 1024);
            return new EarlyListener(socket, fd);
        } catch (IOException | RuntimeException e) {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // nothing was bound, or the server's own bind will say why
                }
            }
            return null;
        }
    }

    /** The bound port (the one the kernel chose when asked for any). */
    int port() {
        return socket.socket().getLocalPort();
    }

    /**
     * A Netty server channel over the bound socket, for the transport the server's event loops use. The
     * channel owns the socket from then on: closing it closes the socket.
     */
    ServerChannel adopt(boolean epoll) {
        return epoll ? new EpollServerSocketChannel(fd) : new NioServerSocketChannel(socket);
    }

    // sun.nio.ch.ServerSocketChannelImpl.getFDVal(), readable when the launcher opened the package
    private static int fdOf(ServerSocketChannel socket) {
        try {
            Method m = socket.getClass().getDeclaredMethod("getFDVal");
            m.setAccessible(true);
            return (int) m.invoke(socket);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }
}
