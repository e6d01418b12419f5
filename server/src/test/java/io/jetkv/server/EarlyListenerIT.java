package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ServerConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The client socket bound before the server loads ({@link EarlyListener}): a client that connects before the
 * server adopts the socket is queued by the kernel and served once the server is up, on either transport.
 * The build opens {@code sun.nio.ch} to these tests as the launcher does for the server.
 */
class EarlyListenerIT {
    private static final int TIMEOUT_MS = 10_000;

    @Test
    void clientQueuedBeforeTheServerStartsGetsInfoAndPong() throws Exception {
        EarlyListener early = EarlyListener.bind("127.0.0.1", 0);
        assertNotNull(early, "the launcher's JVM options let the socket be handed to Netty");
        int port = early.port();
        // connected and written before any server exists: only the kernel's backlog holds it
        try (Socket client = new Socket("127.0.0.1", port)) {
            client.setSoTimeout(TIMEOUT_MS);
            OutputStream out = client.getOutputStream();
            out.write("CONNECT {\"verbose\":false}\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ServerConfig config = ServerConfig.defaults().withHost("127.0.0.1").withPort(port);
            try (NatsServer server = NatsServer.start(config, early)) {
                assertEquals(port, server.port());
                BufferedReader in = new BufferedReader(
                        new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII));
                assertTrue(in.readLine().startsWith("INFO {"));
                assertEquals("PONG", in.readLine());
            }
        }
    }

    @Test
    void theNioTransportAdoptsTheSocketToo() throws Exception {
        EarlyListener early = EarlyListener.bind("127.0.0.1", 0);
        assertNotNull(early);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (Socket client = new Socket("127.0.0.1", early.port())) {
            client.setSoTimeout(TIMEOUT_MS);
            Channel server = new ServerBootstrap().group(group)
                    .channelFactory((io.netty.channel.ChannelFactory<ServerChannel>) () -> early.adopt(false))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    ctx.writeAndFlush(ctx.alloc().buffer().writeBytes(new byte[] {'h', 'i', '\n'}));
                                }
                            });
                        }
                    })
                    .register().sync().channel();
            try {
                BufferedReader in = new BufferedReader(
                        new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII));
                assertEquals("hi", in.readLine());
            } finally {
                server.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aPortInUseLeavesTheBindToTheServer() throws Exception {
        try (ServerSocketChannel taken = ServerSocketChannel.open()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = ((InetSocketAddress) taken.getLocalAddress()).getPort();
            // null: the server's own bind then fails with its usual message
            assertEquals(null, EarlyListener.bind("127.0.0.1", port));
        }
    }
}
