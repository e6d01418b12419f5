import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.PublishAck;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The KV console's key listing on a big bucket (bench/kv-console.sh): fills bucket "big" with n keys through
 * jnats (async publishes to $KV.big.k<i>, 1,000 in flight: the stream queue refuses more with 429), then times console pages over HTTP: the first (the
 * sort after a change), the next ones (binary search in the kept order), one deep in the bucket, and a filtered one.
 *
 * <p>Usage: {@code java -cp jnats.jar:. ConsoleKeys nats://127.0.0.1:4222 <monitorPort> [keys]}
 */
public class ConsoleKeys {
    private static final Pattern NEXT = Pattern.compile("\"next\":\"([^\"]+)\"");

    public static void main(String[] args) throws Exception {
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 1_000_000;
        String base = "http://127.0.0.1:" + args[1] + "/console/api/buckets/big/keys";
        try (Connection nc = Nats.connect(Options.builder().server(args[0]).build())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("big").build());
            JetStream js = nc.jetStream();
            long t0 = System.nanoTime();
            List<CompletableFuture<PublishAck>> window = new ArrayList<>();
            byte[] value = new byte[32];
            for (int i = 0; i < n; i++) {
                window.add(js.publishAsync(String.format("$KV.big.k%07d", i), value));
                if (window.size() == 1_000) {
                    CompletableFuture.allOf(window.toArray(new CompletableFuture<?>[0])).get();
                    window.clear();
                }
            }
            CompletableFuture.allOf(window.toArray(new CompletableFuture<?>[0])).get();
            System.out.printf("load %d keys %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
        }
        HttpClient http = HttpClient.newHttpClient();
        String first = time(http, "first_page_after_change", base + "?limit=100");
        String next = after(first);
        for (int i = 0; i < 3; i++) {
            String page = time(http, "next_page", base + "?limit=100&after=" + next);
            next = after(page);
        }
        time(http, "deep_page", base + "?limit=100&after=" + String.format("k%07d", n / 2));
        time(http, "filtered_page_one_key", base + "?limit=100&filter=" + String.format("k%07d", n / 3));
        time(http, "first_page_again", base + "?limit=100");
    }

    private static String after(String page) {
        Matcher m = NEXT.matcher(page);
        return m.find() ? m.group(1) : "";
    }

    private static String time(HttpClient http, String name, String url) throws Exception {
        long t = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(2))
                .build(), HttpResponse.BodyHandlers.ofString());
        System.out.printf("%s %.1f ms (HTTP %d, %d bytes)%n", name, (System.nanoTime() - t) / 1e6, r.statusCode(),
                r.body().length());
        return r.body();
    }
}
