package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.PublishOptions;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Per-message TTL (nats-server 2.11, ADR-43) through jnats: {@code allow_msg_ttl} and its update rule, the
 * {@code Nats-TTL} header's values and errors, expiry on the message's own deadline, {@code never} against
 * {@code max_age}, and TTLs across a restart. Short TTLs, polled to a deadline: nothing sleeps for a TTL.
 */
class MessageTtlIT {
    /** Generous: expiry runs within about a second of the deadline, the machine may be loaded. */
    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path store;

    NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    static Message withTtl(String subject, String ttl) {
        Headers h = new Headers();
        h.put("Nats-TTL", ttl);
        return NatsMessage.builder().subject(subject).headers(h).data(b("x")).build();
    }

    static long msgs(JetStreamManagement jsm, String stream) {
        try {
            return jsm.getStreamInfo(stream).getStreamState().getMsgCount();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static int errorCode(JetStreamApiException e) {
        return e.getApiErrorCode();
    }

    @Test
    void ttlOnAStreamWithoutMessageTtlsIsRefused() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>").storageType(StorageType.Memory).build());
            JetStream js = nc.jetStream();
            var e = assertThrows(JetStreamApiException.class,
                    () -> js.publish("s.a", b("x"), PublishOptions.builder().messageTtlSeconds(5).build()));
            assertEquals(10166, errorCode(e));
            assertEquals("per-message TTL is disabled", e.getErrorDescription());
            e = assertThrows(JetStreamApiException.class, () -> js.publish(withTtl("s.a", "never")));
            assertEquals(10166, errorCode(e));
            // an invalid value gets 10165 even here (single server: the invalid check comes later, and first)
            e = assertThrows(JetStreamApiException.class, () -> js.publish(withTtl("s.a", "soon")));
            assertEquals(10165, errorCode(e));
            assertEquals("invalid per-message TTL", e.getErrorDescription());
            assertEquals(0, msgs(jsm, "S"));
        }
    }

    @Test
    void invalidTtlValuesAreRefused() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>").storageType(StorageType.Memory)
                    .allowMessageTtl().build());
            JetStream js = nc.jetStream();
            for (String bad : new String[] {"0", "-1", "500ms", "1x", "0.5s"}) {
                var e = assertThrows(JetStreamApiException.class, () -> js.publish(withTtl("s.a", bad)), bad);
                assertEquals(10165, errorCode(e), bad);
            }
            for (String good : new String[] {"60", "30s", "1m0s", "1.5s", "NEVER"}) {
                assertTrue(js.publish(withTtl("s.a", good)).getSeqno() > 0, good);
            }
            // the header is stored as sent
            assertEquals("1.5s", jsm.getMessage("S", 4).getHeaders().getFirst("Nats-TTL"));
        }
    }

    @ParameterizedTest
    @EnumSource(value = StorageType.class, names = {"File", "Memory"})
    void messagesExpireOnTheirOwnTtl(StorageType storage) throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>").storageType(storage)
                    .allowMessageTtl().build());
            JetStream js = nc.jetStream();
            js.publish("s.keep", b("plain"));
            long shortSeq = js.publish("s.short", b("x"), PublishOptions.builder().messageTtlSeconds(1).build()).getSeqno();
            js.publish("s.long", b("x"), PublishOptions.builder().messageTtlSeconds(3600).build());
            js.publish("s.never", b("x"), PublishOptions.builder().messageTtlNever().build());
            await("the 1 s message to expire", () -> msgs(jsm, "S") == 3);
            var e = assertThrows(JetStreamApiException.class, () -> jsm.getMessage("S", shortSeq));
            assertEquals(10037, errorCode(e));
            assertNotNull(jsm.getLastMessage("S", "s.keep"));
            assertNotNull(jsm.getLastMessage("S", "s.long"));
            assertNotNull(jsm.getLastMessage("S", "s.never"));
        }
    }

    @Test
    void neverOutlivesMaxAgeAndNoTtlOutlivesIt() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>").storageType(StorageType.File)
                    .allowMessageTtl().maxAge(Duration.ofSeconds(1)).build());
            JetStream js = nc.jetStream();
            js.publish("s.never", b("x"), PublishOptions.builder().messageTtlNever().build());
            js.publish("s.plain", b("x"));
            js.publish("s.hour", b("x"), PublishOptions.builder().messageTtlSeconds(3600).build());
            js.publish("s.never2", b("x"), PublishOptions.builder().messageTtlNever().build());
            await("max_age to remove all but the never messages", () -> msgs(jsm, "S") == 2);
            assertNotNull(jsm.getLastMessage("S", "s.never"));
            assertNotNull(jsm.getLastMessage("S", "s.never2"));
            // later messages still age out behind the never ones
            js.publish("s.plain", b("y"));
            await("the later message to age out", () -> msgs(jsm, "S") == 2);
        }
    }

    @Test
    void ttlsSurviveARestartNeitherLostNorResurrected() throws Exception {
        long gone;
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>").storageType(StorageType.File)
                    .allowMessageTtl().build());
            JetStream js = nc.jetStream();
            gone = js.publish("s.a", b("x"), PublishOptions.builder().messageTtlSeconds(1).build()).getSeqno();
            await("the first message to expire", () -> msgs(jsm, "S") == 0);
            js.publish("s.b", b("x"), PublishOptions.builder().messageTtlSeconds(2).build());
            js.publish("s.c", b("x"), PublishOptions.builder().messageTtlSeconds(3600).build());
            js.publish("s.d", b("x"));
        }
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            var e = assertThrows(JetStreamApiException.class, () -> jsm.getMessage("S", gone));
            assertEquals(10037, errorCode(e), "an expired message stays gone");
            await("the 2 s message to expire after the restart", () -> msgs(jsm, "S") == 2);
            assertNotNull(jsm.getLastMessage("S", "s.c"));
            assertNotNull(jsm.getLastMessage("S", "s.d"));
            assertTrue(jsm.getStreamInfo("S").getConfiguration().getAllowMessageTtl());
        }
    }

    @Test
    void allowMsgTtlMayBeTurnedOnButNotOff() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamConfiguration off = StreamConfiguration.builder().name("S").subjects("s.>")
                    .storageType(StorageType.Memory).build();
            assertFalse(jsm.addStream(off).getConfiguration().getAllowMessageTtl());
            StreamConfiguration on = StreamConfiguration.builder(off).allowMessageTtl().build();
            assertTrue(jsm.updateStream(on).getConfiguration().getAllowMessageTtl());
            nc.jetStream().publish(withTtl("s.a", "1"));
            await("the message to expire once TTLs were switched on", () -> msgs(jsm, "S") == 0);
            var e = assertThrows(JetStreamApiException.class, () -> jsm.updateStream(off));
            assertEquals(10052, errorCode(e));
            assertEquals("message TTL status can not be disabled", e.getErrorDescription());
            // an identical re-create is idempotent
            assertTrue(jsm.addStream(on).getConfiguration().getAllowMessageTtl());
        }
    }

    @Test
    void expiryLeavesOtherMessagesAndSequencesAlone() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>").storageType(StorageType.File)
                    .allowMessageTtl().build());
            JetStream js = nc.jetStream();
            for (int i = 0; i < 50; i++) {
                if (i % 2 == 0) {
                    js.publish("s." + i, b("v" + i), PublishOptions.builder().messageTtlSeconds(1).build());
                } else {
                    js.publish("s." + i, b("v" + i));
                }
            }
            await("the TTL'd half to expire", () -> msgs(jsm, "S") == 25);
            StreamInfo si = jsm.getStreamInfo("S");
            assertEquals(50, si.getStreamState().getLastSequence());
            assertEquals(2, si.getStreamState().getFirstSequence());
            MessageInfo mi = jsm.getMessage("S", 2);
            assertArrayEquals(b("v1"), mi.getData());
            assertEquals(51, js.publish("s.x", b("z")).getSeqno());
        }
    }

    @Test
    void sourcedTtlMessagesAreStoredVerbatimAndExpireOnlyWhereTtlsAreOn() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("O").subjects("o.>").storageType(StorageType.File)
                    .allowMessageTtl().build());
            jsm.addStream(StreamConfiguration.builder().name("COPY").storageType(StorageType.File)
                    .sources(io.nats.client.api.Source.builder().name("O").build()).build());
            nc.jetStream().publish("o.a", b("x"), PublishOptions.builder().messageTtlSeconds(1).build());
            await("the copy", () -> msgs(jsm, "COPY") == 1);
            await("the origin's message to expire", () -> msgs(jsm, "O") == 0);
            // COPY has no allow_msg_ttl: it kept the message, header and all
            assertEquals(1, msgs(jsm, "COPY"));
            assertEquals("1s", jsm.getLastMessage("COPY", "o.a").getHeaders().getFirst("Nats-TTL"));
        }
    }
}
