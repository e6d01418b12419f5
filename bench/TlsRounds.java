import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Core NATS over TLS on two servers with the same certificate, in alternating rounds ({@link Rounds}): publish
 * throughput and publish-to-subscriber throughput (both connections TLS). With a third number, TLS connects per
 * second too; jnats takes about a second per TLS connect against either server, so that figure measures the
 * client, not the server, and is off by default.
 *
 * <p>Usage: TlsRounds urlA urlB ca.pem [rounds] [messages] [connects]
 */
public final class TlsRounds {
    private static final byte[] PAYLOAD = new byte[128];

    public static void main(String[] args) throws Exception {
        SSLContext ctx = trusting(Path.of(args[2]));
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 6;
        int n = args.length > 4 ? Integer.parseInt(args[4]) : 200_000;
        int connects = args.length > 5 ? Integer.parseInt(args[5]) : 0;
        try (Connection a = connect(args[0], ctx); Connection b = connect(args[1], ctx);
                Connection sa = connect(args[0], ctx); Connection sb = connect(args[1], ctx)) {
            Rounds.row("TLS publish, 128 B (msgs/s)", 30, rounds, (onA, warmUp) -> publish(onA ? a : b, n));
            Rounds.row("TLS pub to sub, 128 B (msgs/s)", 30, rounds,
                    (onA, warmUp) -> pubSub(onA ? a : b, onA ? sa : sb, n));
            if (connects > 0) {
                Rounds.row("TLS connects (per s)", 30, rounds,
                        (onA, warmUp) -> connects(onA ? args[0] : args[1], ctx, connects));
            }
        }
    }

    static SSLContext trusting(Path caFile) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(caFile)) {
            ks.setCertificateEntry("ca", (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), new SecureRandom());
        return ctx;
    }

    static Connection connect(String url, SSLContext ctx) throws Exception {
        return Nats.connect(Options.builder().server(url).sslContext(ctx).noReconnect()
                .connectionTimeout(Duration.ofSeconds(20)).maxMessagesInOutgoingQueue(65_536)
                .writeQueuePushTimeout(Duration.ofSeconds(20)).build());
    }

    static double publish(Connection c, int n) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            c.publish("tls.bench", PAYLOAD);
        }
        c.flush(Duration.ofSeconds(60));
        return n / ((System.nanoTime() - start) / 1e9);
    }

    static double pubSub(Connection pub, Connection sub, int n) throws Exception {
        CountDownLatch done = new CountDownLatch(n);
        var d = sub.createDispatcher(m -> done.countDown());
        d.subscribe("tls.pubsub");
        sub.flush(Duration.ofSeconds(20));
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            pub.publish("tls.pubsub", PAYLOAD);
        }
        pub.flush(Duration.ofSeconds(60));
        if (!done.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("only " + (n - done.getCount()) + " of " + n + " delivered");
        }
        double rate = n / ((System.nanoTime() - start) / 1e9);
        sub.closeDispatcher(d);
        return rate;
    }

    static double connects(String url, SSLContext ctx, int count) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            try (Connection c = connect(url, ctx)) {
                c.flush(Duration.ofSeconds(20));
            }
        }
        return count / ((System.nanoTime() - start) / 1e9);
    }
}
