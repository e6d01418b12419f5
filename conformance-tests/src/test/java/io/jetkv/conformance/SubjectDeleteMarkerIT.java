package io.jetkv.conformance;

import static io.jetkv.conformance.MessageTtlIT.await;
import static io.jetkv.conformance.MessageTtlIT.b;
import static io.jetkv.conformance.MessageTtlIT.withTtl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.PublishOptions;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Subject delete markers (nats-server 2.11.2+, ADR-43): {@code subject_delete_marker_ttl}, its validation and the
 * settings it forces, the marker written when a TTL or {@code max_age} removes a subject's last message, and the
 * TTL floor. Through jnats; the invalid configurations go as raw API requests (jnats checks some itself).
 */
class SubjectDeleteMarkerIT {
    @TempDir
    Path store;

    NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    static MessageInfo lastOn(JetStreamManagement jsm, String stream, String subject) {
        try {
            return jsm.getLastMessage(stream, subject);
        } catch (io.nats.client.JetStreamApiException e) {
            return null; // 10037: nothing on the subject
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static long lastSeq(JetStreamManagement jsm) {
        try {
            return jsm.getStreamInfo("S").getStreamState().getLastSequence();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static boolean gone(JetStreamManagement jsm, long seq) {
        try {
            jsm.getMessage("S", seq);
            return false;
        } catch (io.nats.client.JetStreamApiException e) {
            return true;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static boolean isMarker(MessageInfo mi) {
        return mi != null && mi.getHeaders() != null && mi.getHeaders().getFirst("Nats-Marker-Reason") != null;
    }

    static String api(Connection nc, String subject, String body) throws Exception {
        return new String(nc.request(subject, b(body), Duration.ofSeconds(10)).getData(), StandardCharsets.UTF_8);
    }

    @Test
    void markerTtlForcesTtlsAndRollupsAndIsValidated() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamInfo si = jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>")
                    .storageType(StorageType.Memory).subjectDeleteMarkerTtl(Duration.ofMinutes(1)).build());
            StreamConfiguration c = si.getConfiguration();
            assertTrue(c.getAllowMessageTtl());
            assertTrue(c.getAllowRollup());
            assertFalse(c.getDenyPurge());
            assertEquals(Duration.ofMinutes(1), c.getSubjectDeleteMarkerTtl());

            String r = api(nc, "$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"subject_delete_marker_ttl\":500000000}");
            assertTrue(r.contains("\"err_code\":10052") && r.contains("subject delete marker TTL must be at least 1 second"), r);
            r = api(nc, "$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"subject_delete_marker_ttl\":-1}");
            assertTrue(r.contains("\"err_code\":10052") && r.contains("subject delete marker TTL must not be negative"), r);
            r = api(nc, "$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"mirror\":{\"name\":\"S\"},"
                    + "\"subject_delete_marker_ttl\":1000000000}");
            assertTrue(r.contains("\"err_code\":10052") && r.contains("subject delete markers forbidden on mirrors"), r);
            r = api(nc, "$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"subject_delete_marker_ttl\":1000000000,"
                    + "\"deny_purge\":true,\"allow_rollup_hdrs\":true}");
            assertTrue(r.contains("roll-ups require the purge permission"), r);

            // update may change or clear it; TTLs stay on
            StreamConfiguration cleared = StreamConfiguration.builder(c).subjectDeleteMarkerTtl(0).build();
            StreamConfiguration after = jsm.updateStream(cleared).getConfiguration();
            assertNull(after.getSubjectDeleteMarkerTtl());
            assertTrue(after.getAllowMessageTtl());
        }
    }

    @ParameterizedTest
    @EnumSource(value = StorageType.class, names = {"File", "Memory"})
    void aTtlRemovingASubjectsLastMessageLeavesAMarkerThatExpiresItself(StorageType storage) throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>").storageType(storage)
                    .subjectDeleteMarkerTtl(Duration.ofSeconds(1)).build());
            JetStream js = nc.jetStream();
            js.publish("s.a", b("old"));
            long seq = js.publish("s.a", b("x"), PublishOptions.builder().messageTtlSeconds(1).build()).getSeqno();
            AtomicReference<MessageInfo> seen = new AtomicReference<>();
            await("the marker", () -> isMarker(seen.updateAndGet(x -> lastOn(jsm, "S", "s.a"))));
            MessageInfo marker = seen.get();
            assertTrue(marker.getSeq() > seq);
            assertEquals(0, marker.getData() == null ? 0 : marker.getData().length);
            Headers h = marker.getHeaders();
            assertEquals(List.of("MaxAge"), h.get("Nats-Marker-Reason"));
            assertEquals(List.of("1s"), h.get("Nats-TTL"));
            assertEquals(List.of("sub"), h.get("Nats-Rollup"));
            // the rollup took the expiring message and the older one with it (the marker may have gone already)
            assertTrue(jsm.getStreamInfo("S").getStreamState().getMsgCount() <= 1);
            await("the marker to expire without a marker of its own", () -> lastOn(jsm, "S", "s.a") == null);
            assertEquals(0, jsm.getStreamInfo("S").getStreamState().getMsgCount());
        }
    }

    @Test
    void maxAgeLeavesMarkersToo() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>").storageType(StorageType.File)
                    .maxAge(Duration.ofSeconds(1)).subjectDeleteMarkerTtl(Duration.ofSeconds(5)).build());
            JetStream js = nc.jetStream();
            js.publish("s.b", b("x"));
            AtomicReference<MessageInfo> seen = new AtomicReference<>();
            await("the max_age marker", () -> isMarker(seen.updateAndGet(x -> lastOn(jsm, "S", "s.b"))));
            assertEquals("5s", seen.get().getHeaders().getFirst("Nats-TTL"));
            // max_age (1 s) removes the marker before its own TTL, and writes none for it
            await("the marker to age out", () -> lastOn(jsm, "S", "s.b") == null);
        }
    }

    @Test
    void noMarkerWhileTheSubjectKeepsOtherMessages() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>").storageType(StorageType.File)
                    .subjectDeleteMarkerTtl(Duration.ofSeconds(1)).build());
            JetStream js = nc.jetStream();
            js.publish("s.c", b("x"), PublishOptions.builder().messageTtlSeconds(1).build());
            js.publish("s.d", b("x"), PublishOptions.builder().messageTtlSeconds(3600).build());
            js.publish("s.e", b("x"), PublishOptions.builder().messageTtlSeconds(1).build());
            js.publish("s.e", b("keep"));
            // s.c (seq 1) gets a marker (seq 5); s.e's TTL'd message (seq 3) goes without one
            await("both TTL'd messages to expire", () -> lastSeq(jsm) >= 5 && gone(jsm, 3));
            assertEquals(5, lastSeq(jsm), "one marker only");
            MessageInfo e = lastOn(jsm, "S", "s.e");
            assertFalse(isMarker(e));
            assertEquals("keep", new String(e.getData(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void ttlsBelowTheMarkerTtlAreRaisedToIt() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>").storageType(StorageType.Memory)
                    .subjectDeleteMarkerTtl(Duration.ofMinutes(1)).build());
            JetStream js = nc.jetStream();
            long low = js.publish(withTtl("s.a", "2s")).getSeqno();
            long high = js.publish(withTtl("s.a", "2m0s")).getSeqno();
            long never = js.publish(withTtl("s.a", "never")).getSeqno();
            assertEquals("60", jsm.getMessage("S", low).getHeaders().getFirst("Nats-TTL"));
            assertEquals("2m0s", jsm.getMessage("S", high).getHeaders().getFirst("Nats-TTL"));
            assertEquals("never", jsm.getMessage("S", never).getHeaders().getFirst("Nats-TTL"));
        }
    }
}
