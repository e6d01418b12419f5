package io.jetkv.conformance;

import static io.jetkv.conformance.MessageTtlIT.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code Nats-Required-Api-Level} request header (ADR-44, nats-server 2.12): a request needing a level above
 * the server's is refused, with error 10185 (412) on the JSON endpoints and status {@code 412 Required Api Level}
 * on direct gets and pull requests. JetKV implements level 4 (it advertises 2.14.5), so any level above 4 is refused.
 * No stock client sends the header on its own (jnats and nats.go never, nats.js only with a hidden option), so
 * these are raw requests.
 */
class ApiLevelIT {
    @TempDir
    Path store;

    NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    static Message request(Connection nc, String subject, String level, String body) throws Exception {
        Headers h = new Headers();
        if (level != null) {
            h.put("Nats-Required-Api-Level", level);
        }
        Message m = NatsMessage.builder().subject(subject).headers(h).data(b(body)).build();
        return nc.request(m, Duration.ofSeconds(10));
    }

    static String text(Message m) {
        return new String(m.getData(), StandardCharsets.UTF_8);
    }

    @Test
    void jsonEndpointsRefuseALevelAboveTheServers() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("S").subjects("s")
                    .storageType(StorageType.Memory).allowDirect(true).build());
            for (String bad : new String[] {"5", "6", "one", "4.0"}) {
                String r = text(request(nc, "$JS.API.INFO", bad, ""));
                assertTrue(r.contains("\"code\":412") && r.contains("\"err_code\":10185")
                        && r.contains("JetStream minimum api level required"), bad + ": " + r);
                r = text(request(nc, "$JS.API.STREAM.INFO.S", bad, ""));
                assertTrue(r.contains("\"err_code\":10185"), r);
                assertTrue(r.contains("io.nats.jetstream.api.v1.stream_info_response"), r);
            }
            String r = text(request(nc, "$JS.API.STREAM.CREATE.T", "5", "{\"name\":\"T\",\"subjects\":[\"t\"]}"));
            assertTrue(r.contains("\"err_code\":10185"), r);
            assertFalse(nc.jetStreamManagement().getStreamNames().contains("T"), "a refused create creates nothing");
            // the server's own level passes
            for (String ok : new String[] {"0", "1", "2", "3", "4"}) {
                r = text(request(nc, "$JS.API.INFO", ok, ""));
                assertTrue(r.contains("\"type\":\"io.nats.jetstream.api.v1.account_info_response\"")
                        && !r.contains("\"error\":") && r.contains("\"level\":4"), r);
            }
        }
    }

    @Test
    void directGetAndPullRequestsAnswerAStatus() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            var jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s").storageType(StorageType.Memory)
                    .allowDirect(true).build());
            nc.jetStream().publish("s", b("x"));
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("d").build());

            Message m = request(nc, "$JS.API.DIRECT.GET.S", "5", "{\"seq\":1}");
            assertEquals(412, m.getStatus().getCode());
            assertEquals("Required Api Level", m.getStatus().getMessage());
            m = request(nc, "$JS.API.DIRECT.GET.S.s", "5", "");
            assertEquals(412, m.getStatus().getCode());
            m = request(nc, "$JS.API.CONSUMER.MSG.NEXT.S.d", "5", "{\"batch\":1,\"no_wait\":true}");
            assertEquals(412, m.getStatus().getCode());
            // without the header the same requests are served
            m = request(nc, "$JS.API.DIRECT.GET.S", null, "{\"seq\":1}");
            assertEquals("x", text(m));
        }
    }
}
