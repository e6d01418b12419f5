package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Message get by time (nats-server 2.11's {@code start_time}), as jnats' {@code getFirstMessage(stream, time[,
 * subject])} sends it, through {@code STREAM.MSG.GET} and, on a stream with {@code allow_direct}, a direct get.
 */
class MessageGetByTimeIT {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "allow_direct={0}")
    @ValueSource(booleans = {false, true})
    void firstMessageAtOrAfterATime(boolean direct) throws Exception {
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(dir)));
                Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("T").subjects("t.>").storageType(StorageType.File)
                    .allowDirect(direct).build());
            JetStream js = nc.jetStream();
            js.publish("t.a", bytes("a1"));
            js.publish("t.b", bytes("b1"));
            // the stored time of the third message splits the stream: everything from it on is at or after it
            long third = js.publish("t.a", bytes("a2")).getSeqno();
            ZonedDateTime split = jsm.getMessage("T", third).getTime();
            js.publish("t.b", bytes("b2"));

            assertEquals(third, jsm.getFirstMessage("T", split).getSeq());
            assertEquals(1, jsm.getFirstMessage("T", split.minusYears(1)).getSeq());
            MessageInfo b = jsm.getFirstMessage("T", split, "t.b");
            assertEquals(4, b.getSeq());
            assertEquals("b2", new String(b.getData(), StandardCharsets.UTF_8));
            JetStreamApiException none = assertThrows(JetStreamApiException.class,
                    () -> jsm.getFirstMessage("T", split.plusYears(1)));
            assertEquals(10037, none.getApiErrorCode());
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
