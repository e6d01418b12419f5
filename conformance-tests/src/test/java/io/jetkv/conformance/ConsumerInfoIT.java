package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.JetStreamSubscription;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer info as the {@code nats} CLI shows it ("Last Delivered Message", "Acknowledgment Floor", "Last Ack"),
 * with the same jnats code against JetKV and nats-server: a filtered push consumer whose stream ends with
 * messages it does not take reports its delivered and ack floor stream sequences past them, and the ack floor
 * carries the time of the last ack.
 */
class ConsumerInfoIT {
    @TempDir
    Path dir;

    @Test
    void jetkv() throws Exception {
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(dir)))) {
            check(server.clientUrl());
        }
    }

    @Test
    void reference() throws Exception {
        Assumptions.assumeTrue(ReferenceServer.available(), "nats-server is not installed");
        try (ReferenceServer ref = ReferenceServer.start("-js", "-sd", dir.resolve("ref").toString())) {
            check("nats://127.0.0.1:" + ref.port());
        }
    }

    private static void check(String url) throws Exception {
        try (Connection nc = Nats.connect(url)) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("C").subjects("c.>").storageType(StorageType.File)
                    .build());
            JetStream js = nc.jetStream();
            for (String s : new String[] {"c.a", "c.a", "c.b"}) {
                js.publish(s, s.getBytes(StandardCharsets.UTF_8));
            }
            JetStreamSubscription sub = js.subscribe("c.a", PushSubscribeOptions.builder().configuration(
                    ConsumerConfiguration.builder().durable("p").ackPolicy(AckPolicy.Explicit).build()).build());
            for (int i = 0; i < 2; i++) {
                Message m = sub.nextMessage(Duration.ofSeconds(5));
                assertNotNull(m, "delivery " + i);
                m.ackSync(Duration.ofSeconds(5));
            }
            // the consumer looked past c.b for a third c.a once the second was sent, on both servers
            ConsumerInfo ci = jsm.getConsumerInfo("C", "p");
            assertEquals(2, ci.getDelivered().getConsumerSequence());
            assertEquals(3, ci.getDelivered().getStreamSequence());
            assertEquals(2, ci.getAckFloor().getConsumerSequence());
            assertEquals(3, ci.getAckFloor().getStreamSequence());
            assertNotNull(ci.getAckFloor().getLastActive(), "ack_floor.last_active");
            assertTrue(ci.getAckFloor().getLastActive().isAfter(ci.getCreationTime().minusSeconds(1)));

            JetStreamSubscription none = js.subscribe("c.a", PushSubscribeOptions.builder().configuration(
                    ConsumerConfiguration.builder().durable("n").ackPolicy(AckPolicy.None).build()).build());
            for (int i = 0; i < 2; i++) {
                assertNotNull(none.nextMessage(Duration.ofSeconds(5)), "delivery " + i);
            }
            nc.flush(Duration.ofSeconds(5));
            ConsumerInfo cn = jsm.getConsumerInfo("C", "n");
            assertEquals(3, cn.getDelivered().getStreamSequence());
            assertEquals(2, cn.getAckFloor().getStreamSequence(), "ack none: the floor is the last delivered");
            assertNull(cn.getAckFloor().getLastActive(), "no acks, no last ack time");
        }
    }
}
