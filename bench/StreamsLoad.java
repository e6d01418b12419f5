import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.time.Duration;

/** Creates N file streams, each with one message and one durable consumer (bench/metrics-scrape.sh). */
public class StreamsLoad {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[1]);
        try (Connection nc = Nats.connect(Options.builder().server(args[0])
                .connectionTimeout(Duration.ofSeconds(10)).build())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            JetStream js = nc.jetStream();
            for (int i = 0; i < n; i++) {
                jsm.addStream(StreamConfiguration.builder().name("S" + i).subjects("s" + i + ".>")
                        .storageType(StorageType.File).build());
                js.publish("s" + i + ".x", new byte[16]);
                jsm.addOrUpdateConsumer("S" + i, ConsumerConfiguration.builder().durable("C").build());
            }
        }
    }
}
