package io.jetkv.conformance;

import static io.jetkv.conformance.ApiLevelIT.request;
import static io.jetkv.conformance.ApiLevelIT.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code placement.preferred} in a stream's configuration: nats-server 2.11+ parses it (a step-down's choice of
 * server) but its stream config check refuses it, 500/10052 "preferred server not permitted in placement", on create
 * and update; an empty one is dropped with the empty placement members. jnats has no builder for it: raw requests.
 */
class PlacementPreferredIT {
    @TempDir
    Path store;

    @Test
    void preferredServerIsRefusedInAStreamConfig() throws Exception {
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
                Connection nc = Clients.connect(server.clientUrl())) {
            String refused = "{\"type\":\"io.nats.jetstream.api.v1.stream_create_response\",\"error\":{\"code\":500,"
                    + "\"err_code\":10052,\"description\":\"preferred server not permitted in placement\"}}";
            assertEquals(refused, text(request(nc, "$JS.API.STREAM.CREATE.P", null,
                    "{\"name\":\"P\",\"subjects\":[\"p\"],\"placement\":{\"preferred\":\"n1\"}}")));

            String created = text(request(nc, "$JS.API.STREAM.CREATE.P", null,
                    "{\"name\":\"P\",\"subjects\":[\"p\"],\"placement\":{\"preferred\":\"\"}}"));
            assertTrue(created.contains("\"did_create\":true") && !created.contains("preferred"), created);

            String update = text(request(nc, "$JS.API.STREAM.UPDATE.P", null,
                    "{\"name\":\"P\",\"subjects\":[\"p\"],\"placement\":{\"tags\":[\"x\"],\"preferred\":\"n1\"}}"));
            assertEquals(refused.replace("stream_create_response", "stream_update_response"), update);
        }
    }
}
