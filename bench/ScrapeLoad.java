import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load for bench/scrape-cost.sh, two modes.
 *
 * <p>{@code conns <host> <port> <n>}: opens n raw client connections (CONNECT + PING each, answered PINGs), prints
 * "ready <n>" once every one has had its PONG, and holds them until stdin closes. One thread, one selector: 10,000
 * jnats connections would cost 20,000+ threads in the client.
 *
 * <p>{@code pub <url> <monitorPort> <seconds> <rounds>}: jnats core publishing (128-byte messages, one subscriber
 * on the same subject) for {@code seconds}, after one uncounted warm-up round of the same length, alternating rounds
 * without and with a scraper that fetches /varz, /jsz?streams=true&consumers=true and /metrics (when served) every
 * 100 ms; prints each round's msgs/s and the scrapes done.
 */
public class ScrapeLoad {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("conns")) {
            conns(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        } else {
            pub(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        }
    }

    static void conns(String host, int port, int n) throws Exception {
        Selector selector = Selector.open();
        byte[] hello = "CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"raw\",\"version\":\"0\"}\r\nPING\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        int ready = 0;
        List<SocketChannel> all = new ArrayList<>();
        // open in batches so the server's accept backlog is not overrun
        for (int i = 0; i < n; i++) {
            SocketChannel ch = SocketChannel.open(new InetSocketAddress(host, port));
            ch.write(ByteBuffer.wrap(hello));
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ, new int[1]);
            all.add(ch);
            if (i % 200 == 199) {
                ready += drain(selector, 0);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (ready < n && System.nanoTime() < deadline) {
            ready += drain(selector, 200);
        }
        System.out.println("ready " + ready);
        System.out.flush();
        // keep answering PINGs until stdin closes
        Thread holder = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // nothing: wait for EOF
                }
            } catch (java.io.IOException ignored) {
                // closing
            }
            System.exit(0);
        });
        holder.setDaemon(true);
        holder.start();
        while (true) {
            drain(selector, 1000);
        }
    }

    /** Reads what came; answers PING; returns how many connections saw their first PONG. */
    private static int drain(Selector selector, long timeoutMillis) throws Exception {
        int firstPongs = 0;
        if (timeoutMillis == 0 ? selector.selectNow() == 0 : selector.select(timeoutMillis) == 0) {
            return 0;
        }
        ByteBuffer buf = ByteBuffer.allocate(8192);
        for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
            SelectionKey key = it.next();
            it.remove();
            SocketChannel ch = (SocketChannel) key.channel();
            buf.clear();
            int r = ch.read(buf);
            if (r < 0) {
                key.cancel();
                ch.close();
                continue;
            }
            String text = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
            int[] state = (int[]) key.attachment();
            if (state[0] == 0 && text.contains("PONG")) {
                state[0] = 1;
                firstPongs++;
            }
            if (text.contains("PING\r\n")) {
                ch.write(ByteBuffer.wrap("PONG\r\n".getBytes(StandardCharsets.US_ASCII)));
            }
        }
        return firstPongs;
    }

    static void pub(String url, int monitorPort, int seconds, int rounds) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + monitorPort;
        boolean metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        List<String> paths = new ArrayList<>(List.of("/varz", "/jsz?streams=true&consumers=true"));
        if (metrics) {
            paths.add("/metrics");
        }
        byte[] payload = new byte[128];
        try (Connection nc = Nats.connect(Options.builder().server(url).build())) {
            var sub = nc.subscribe("scrape.bench");
            AtomicLong received = new AtomicLong();
            Thread drainer = new Thread(() -> {
                try {
                    while (true) {
                        if (sub.nextMessage(Duration.ofSeconds(1)) != null) {
                            received.incrementAndGet();
                        }
                    }
                } catch (Exception e) {
                    // closing
                }
            });
            drainer.setDaemon(true);
            drainer.start();
            // a server's publish path is compiled during its first few hundred thousand messages, and on a loaded
            // machine the JIT's threads wait for CPU too: a round first, not counted, so that the rounds compare
            // the steady state (issue 18, BENCHMARKS.md)
            double warm = publishFor(nc, payload, seconds);
            System.out.printf("warm-up round %.0f msgs/s (not counted)%n", warm);
            double[] without = new double[rounds];
            double[] with = new double[rounds];
            for (int r = 0; r < rounds * 2; r++) {
                boolean scraping = r % 2 == 1;
                AtomicLong scrapes = new AtomicLong();
                ScheduledExecutorService scraper = Executors.newSingleThreadScheduledExecutor();
                if (scraping) {
                    scraper.scheduleAtFixedRate(() -> {
                        for (String p : paths) {
                            try {
                                http.send(HttpRequest.newBuilder(URI.create(base + p)).build(),
                                        HttpResponse.BodyHandlers.discarding());
                            } catch (Exception e) {
                                return;
                            }
                        }
                        scrapes.incrementAndGet();
                    }, 0, 100, TimeUnit.MILLISECONDS);
                }
                double rate = publishFor(nc, payload, seconds);
                scraper.shutdownNow();
                scraper.awaitTermination(5, TimeUnit.SECONDS);
                (scraping ? with : without)[r / 2] = rate;
                System.out.printf("round %d %s %.0f msgs/s%s%n", r / 2 + 1, scraping ? "scraping" : "quiet", rate,
                        scraping ? " (" + scrapes.get() + " scrapes of " + paths.size() + " endpoints)" : "");
            }
            Arrays.sort(without);
            Arrays.sort(with);
            double q = without[rounds / 2];
            double s = with[rounds / 2];
            System.out.printf("median quiet %.0f msgs/s, scraping %.0f msgs/s, change %+.1f%%%n", q, s, (s - q) / q * 100);
        }
    }

    /** Publishes to scrape.bench for {@code seconds}; msgs/s up to the flush that follows the last one. */
    private static double publishFor(Connection nc, byte[] payload, int seconds) throws Exception {
        long n = 0;
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            for (int i = 0; i < 1000; i++) {
                nc.publish("scrape.bench", payload);
            }
            n += 1000;
            if (n % 50_000 == 0) {
                nc.flush(Duration.ofSeconds(30)); // keep the client's buffer from racing ahead of the server
            }
        }
        nc.flush(Duration.ofSeconds(30));
        return n / ((System.nanoTime() - start) / 1e9);
    }
}
