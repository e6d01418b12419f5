package io.jetkv.conformance;

import static io.jetkv.conformance.MessageTtlIT.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.PublishOptions;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Nats-Expected-Last-Subject-Sequence-Subject} (nats-server 2.11; 10193 from 2.12) through jnats'
 * {@code expectedLastSubjectSequenceSubject}: the expected last sequence is checked on another subject, or on
 * every subject a wildcard matches.
 */
class ExpectedLastSubjectSequenceSubjectIT {
    @TempDir
    Path store;

    @Test
    void theExpectedSequenceIsCheckedOnTheNamedSubject() throws Exception {
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                        .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
                Connection nc = Clients.connect(server.clientUrl())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("S").subjects("s.>")
                    .storageType(StorageType.File).build());
            JetStream js = nc.jetStream();
            js.publish("s.a", b("1"));
            js.publish("s.b", b("2"));
            assertEquals(3, js.publish("s.c", b("3"), expect(1, "s.a")).getSeqno());
            assertEquals(4, js.publish("s.c", b("4"), expect(3, "s.*")).getSeqno(), "wildcard: last of all matches");
            assertEquals(5, js.publish("s.c", b("5"), expect(0, "s.none")).getSeqno(), "0: nothing stored there");
            var e = assertThrows(JetStreamApiException.class, () -> js.publish("s.c", b("x"), expect(1, "s.b")));
            assertEquals(10071, e.getApiErrorCode());
            assertEquals("wrong last sequence: 2", e.getErrorDescription());
            // the header alone, without the sequence: 10193 (2.12+); jnats never sends it so, so raw headers
            Headers h = new Headers().put("Nats-Expected-Last-Subject-Sequence-Subject", "s.a");
            e = assertThrows(JetStreamApiException.class,
                    () -> js.publish(NatsMessage.builder().subject("s.c").headers(h).data(b("x")).build()));
            assertEquals(10193, e.getApiErrorCode());
            assertEquals("missing sequence for expected last sequence per subject", e.getErrorDescription());
            // the header is stored with the message
            assertEquals("s.a", nc.jetStreamManagement().getMessage("S", 3).getHeaders()
                    .getFirst("Nats-Expected-Last-Subject-Sequence-Subject"));
        }
    }

    static PublishOptions expect(long seq, String subject) {
        return PublishOptions.builder().expectedLastSubjectSequence(seq).expectedLastSubjectSequenceSubject(subject)
                .build();
    }
}
