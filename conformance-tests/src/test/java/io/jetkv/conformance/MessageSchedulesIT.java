package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Message schedules (nats-server 2.12 {@code @at}, 2.14 {@code @every}, cron, time zones, sources, cancel; ADR-51)
 * through jnats: the stream setting and its rules, the publish errors, the produced messages and their headers, and
 * schedules across a restart. Schedules are a second or two out and polled to a deadline; nothing sleeps for them.
 */
class MessageSchedulesIT {
    /** Generous: schedules fire within about a second of their time, the machine may be loaded. */
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

    /** A message with the given headers (name, value, name, value, ...). */
    static NatsMessage msg(String subject, String body, String... headers) {
        Headers h = new Headers();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], headers[i + 1]);
        }
        return NatsMessage.builder().subject(subject).headers(h).data(b(body)).build();
    }

    /** {@code @at} a few seconds from now, as nats.go writes it: UTC, whole seconds. */
    static String atIn(int seconds) {
        return "@at " + DateTimeFormatter.ISO_INSTANT.format(Instant.now().plusSeconds(seconds).truncatedTo(ChronoUnit.SECONDS));
    }

    static StreamConfiguration.Builder schedules(String name, StorageType storage) {
        return StreamConfiguration.builder().name(name).subjects("sched.>", "orders.>", "sensors.>")
                .storageType(storage).allowMessageSchedules();
    }

    static long count(JetStreamManagement jsm, String stream, String subject) {
        try {
            return jsm.getStreamInfo(stream, io.nats.client.api.StreamInfoOptions.filterSubjects(subject))
                    .getStreamState().getSubjects().stream().mapToLong(s -> s.getCount()).sum();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static MessageInfo last(JetStreamManagement jsm, String stream, String subject) {
        try {
            return jsm.getLastMessage(stream, subject);
        } catch (JetStreamApiException e) {
            return null;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static int publishError(JetStream js, NatsMessage m) {
        return assertThrows(JetStreamApiException.class, () -> js.publish(m), m.getHeaders().toString())
                .getApiErrorCode();
    }

    @Test
    void allowMsgSchedulesForcesRollupsAndPurgesAndHasTheReferenceRules() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamConfiguration cfg = jsm.addStream(schedules("S", StorageType.Memory).denyPurge(true).build())
                    .getConfiguration();
            assertTrue(cfg.getAllowMsgSchedules());
            assertTrue(cfg.getAllowRollup(), "schedules roll up their subject");
            assertFalse(cfg.getDenyPurge(), "a one-shot purges its schedule");

            var e = assertThrows(JetStreamApiException.class, () -> jsm.addStream(
                    schedules("N", StorageType.Memory).subjects("n.>").discardPolicy(DiscardPolicy.New).build()));
            assertEquals(10052, e.getApiErrorCode());
            assertEquals("message scheduling cannot use discard new", e.getErrorDescription());
            e = assertThrows(JetStreamApiException.class, () -> jsm.addStream(StreamConfiguration.builder().name("M")
                    .mirror(io.nats.client.api.Mirror.builder().name("S").build()).allowMessageSchedules().build()));
            assertEquals(10186, e.getApiErrorCode());
            assertEquals("stream mirrors can not also schedule messages", e.getErrorDescription());
            e = assertThrows(JetStreamApiException.class, () -> jsm.addStream(StreamConfiguration.builder().name("R")
                    .sources(io.nats.client.api.Source.builder().name("S").build()).allowMessageSchedules().build()));
            assertEquals(10187, e.getApiErrorCode());
            e = assertThrows(JetStreamApiException.class, () -> jsm.addStream(
                    schedules("C", StorageType.Memory).subjects("c.>").allowMessageCounter().build()));
            assertEquals(10052, e.getApiErrorCode());
            assertEquals("counter stream cannot use message schedules", e.getErrorDescription());

            // may be switched on by an update, never off
            StreamConfiguration off = StreamConfiguration.builder().name("U").subjects("u.>")
                    .storageType(StorageType.Memory).build();
            assertFalse(jsm.addStream(off).getConfiguration().getAllowMsgSchedules());
            assertTrue(jsm.updateStream(StreamConfiguration.builder(off).allowMessageSchedules().build())
                    .getConfiguration().getAllowMsgSchedules());
            e = assertThrows(JetStreamApiException.class, () -> jsm.updateStream(off));
            assertEquals(10052, e.getApiErrorCode());
            assertEquals("message schedules can not be disabled", e.getErrorDescription());
        }
    }

    @Test
    void badSchedulesGetTheReferenceErrors() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(schedules("S", StorageType.Memory).build());
            jsm.addStream(StreamConfiguration.builder().name("OFF").subjects("off.>").storageType(StorageType.Memory)
                    .build());
            jsm.addStream(schedules("T", StorageType.Memory).subjects("t.>").allowMessageTtl().build());
            JetStream js = nc.jetStream();
            String at = atIn(3600);
            String tgt = "Nats-Schedule-Target";

            assertEquals(10188, publishError(js, msg("off.s", "x", "Nats-Schedule", at, tgt, "off.t")));
            assertEquals(10188, publishError(js, msg("off.s", "x", "Nats-Schedule", "nonsense", tgt, "off.t")));
            assertEquals(10188, publishError(js, msg("off.c", "", "Nats-Schedule-Next", "purge",
                    "Nats-Scheduler", "off.s")), "a cancel on a stream without schedules");
            for (String bad : new String[] {"*/5 * * * *", "@every 500ms", "@at 2030-01-01", "2030-01-01T00:00:00Z",
                    "@sometimes"}) {
                assertEquals(10189, publishError(js, msg("sched.a", "x", "Nats-Schedule", bad, tgt, "orders.a")), bad);
            }
            assertEquals(10189, publishError(js, msg("sched.a", "x", "Nats-Schedule", "@every 1m",
                    "Nats-Schedule-Time-Zone", "Europe/Amsterdam", tgt, "orders.a")), "a zone is for cron only");
            for (String bad : new String[] {"+02:00", "", "Mars/Olympus"}) {
                assertEquals(10223, publishError(js, msg("sched.a", "x", "Nats-Schedule", "0 0 * * * *",
                        "Nats-Schedule-Time-Zone", bad, tgt, "orders.a")), bad);
            }
            assertEquals(10191, publishError(js, msg("t.s", "x", "Nats-Schedule", at, tgt, "t.t",
                    "Nats-Schedule-TTL", "banana")));
            assertEquals(10191, publishError(js, msg("t.s", "x", "Nats-Schedule", at, tgt, "t.t",
                    "Nats-Schedule-TTL", "500ms")));
            assertEquals(10166, publishError(js, msg("sched.a", "x", "Nats-Schedule", at, tgt, "orders.a",
                    "Nats-Schedule-TTL", "5m")), "a TTL on a stream without message TTLs");
            assertEquals(10192, publishError(js, msg("sched.a", "x", "Nats-Schedule", at, tgt, "orders.a",
                    "Nats-Schedule-Rollup", "all")));
            assertEquals(10192, publishError(js, msg("sched.a", "x", "Nats-Schedule", at, tgt, "orders.a",
                    "Nats-Rollup", "all")));
            assertEquals(10190, publishError(js, msg("sched.a", "x", "Nats-Schedule", at)), "no target");
            assertEquals(10190, publishError(js, msg("sched.a", "x", "Nats-Schedule", at, tgt, "elsewhere")));
            assertEquals(10190, publishError(js, msg("sched.a", "x", "Nats-Schedule", at, tgt, "orders.*")));
            assertEquals(10190, publishError(js, msg("sched.a", "x", "Nats-Schedule", at, tgt, "sched.a")));
            assertEquals(10203, publishError(js, msg("sched.a", "x", "Nats-Schedule", at, tgt, "orders.a",
                    "Nats-Schedule-Source", "sensors.>")));
            assertEquals(10203, publishError(js, msg("sched.a", "x", "Nats-Schedule", at, tgt, "orders.a",
                    "Nats-Schedule-Source", "orders.a")));
            // what clients may say with Nats-Scheduler and Nats-Schedule-Next: only a cancel of a schedule
            assertEquals(10212, publishError(js, msg("sched.c", "", "Nats-Schedule-Next", "2030-01-01T00:00:00Z",
                    "Nats-Scheduler", "sched.a")));
            assertEquals(10212, publishError(js, msg("sched.c", "", "Nats-Schedule-Next", "purge")));
            assertEquals(10212, publishError(js, msg("sched.c", "", "Nats-Schedule-Next", "purge",
                    "Nats-Scheduler", "sched.c")));
            assertEquals(10212, publishError(js, msg("sched.c", "", "Nats-Schedule-Next", "purge",
                    "Nats-Scheduler", "sched.>")));
            assertEquals(10212, publishError(js, msg("sched.c", "", "Nats-Scheduler", "sched.a")));
            js.publish("orders.plain", b("not a schedule"));
            assertEquals(10212, publishError(js, msg("sched.c", "", "Nats-Schedule-Next", "purge",
                    "Nats-Scheduler", "orders.plain")), "the cancelled subject holds no schedule");
            assertEquals(1, jsm.getStreamInfo("S").getStreamState().getMsgCount(), "nothing refused was stored");

            // valid ones: a cron in a zone, and a schedule gets Nats-Rollup: sub
            assertTrue(js.publish(msg("sched.cron", "x", "Nats-Schedule", "0 0 0 1 1 *", "Nats-Schedule-Time-Zone",
                    "Europe/Amsterdam", tgt, "orders.a")).getSeqno() > 0);
            assertEquals("sub", last(jsm, "S", "sched.cron").getHeaders().getFirst("Nats-Rollup"));
        }
    }

    @ParameterizedTest
    @EnumSource(value = StorageType.class, names = {"File", "Memory"})
    void atFiresOnceOnTheTargetAndPurgesTheSchedule(StorageType storage) throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(schedules("S", storage).allowMessageTtl().build());
            JetStream js = nc.jetStream();
            long seq = js.publish(msg("sched.order.1", "delayed-body", "Nats-Schedule", atIn(2),
                    "Nats-Schedule-Target", "orders.created", "Nats-Schedule-TTL", "5m", "X-Custom", "kept",
                    "Nats-Msg-Id", "m1")).getSeqno();
            assertEquals(0, count(jsm, "S", "orders.created"), "not before its time");
            await("the schedule to fire", () -> last(jsm, "S", "orders.created") != null);
            MessageInfo produced = last(jsm, "S", "orders.created");
            assertEquals("delayed-body", new String(produced.getData(), StandardCharsets.UTF_8));
            Headers h = produced.getHeaders();
            assertEquals("sched.order.1", h.getFirst("Nats-Scheduler"));
            assertEquals("purge", h.getFirst("Nats-Schedule-Next"));
            assertEquals("5m", h.getFirst("Nats-TTL"), "the schedule's TTL becomes the message's");
            assertEquals("kept", h.getFirst("X-Custom"), "other headers ride along");
            assertNull(h.getFirst("Nats-Schedule"));
            assertNull(h.getFirst("Nats-Schedule-Target"));
            assertNull(h.getFirst("Nats-Schedule-TTL"));
            assertNull(h.getFirst("Nats-Msg-Id"));
            assertNull(h.getFirst("Nats-Rollup"));
            assertTrue(produced.getSeq() > seq);
            await("the one-shot schedule to be purged", () -> last(jsm, "S", "sched.order.1") == null);
            assertEquals(1, count(jsm, "S", "orders.created"));

            // a time long past fires at once
            js.publish(msg("sched.past", "past-body", "Nats-Schedule", "@at 2009-11-10T23:00:00Z",
                    "Nats-Schedule-Target", "orders.past"));
            await("the past schedule to fire", () -> last(jsm, "S", "orders.past") != null);
            await("the past schedule to be purged", () -> last(jsm, "S", "sched.past") == null);
            assertEquals(1, count(jsm, "S", "orders.created"), "the first schedule fired once");
        }
    }

    @Test
    void everyRepeatsUntilCancelled() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(schedules("S", StorageType.File).build());
            JetStream js = nc.jetStream();
            js.publish(msg("sched.tick", "tick", "Nats-Schedule", "@every 1s", "Nats-Schedule-Target", "orders.tick"));
            await("three ticks", () -> count(jsm, "S", "orders.tick") >= 3);
            MessageInfo tick = last(jsm, "S", "orders.tick");
            String next = tick.getHeaders().getFirst("Nats-Schedule-Next");
            Instant nextAt = OffsetDateTime.parse(next).toInstant();
            assertTrue(nextAt.isAfter(tick.getTime().toInstant().minusSeconds(1)), next + " after " + tick.getTime());
            assertEquals("sched.tick", tick.getHeaders().getFirst("Nats-Scheduler"));
            assertEquals("tick", new String(tick.getData(), StandardCharsets.UTF_8));
            assertTrue(last(jsm, "S", "sched.tick") != null, "a repeating schedule stays");

            // cancel: any message naming the schedule with Nats-Schedule-Next: purge
            js.publish(msg("sched.cancel", "", "Nats-Schedule-Next", "purge", "Nats-Scheduler", "sched.tick"));
            assertNull(last(jsm, "S", "sched.tick"), "the cancel purged the schedule");
            long ticks = count(jsm, "S", "orders.tick");
            // a witness schedule fires after the cancelled one would have ticked again; nothing more came from it
            js.publish(msg("sched.witness", "w", "Nats-Schedule", atIn(2), "Nats-Schedule-Target", "orders.witness"));
            await("the witness to fire", () -> last(jsm, "S", "orders.witness") != null);
            assertEquals(ticks, count(jsm, "S", "orders.tick"), "no tick after the cancel");
        }
    }

    @Test
    void cronWithATimeZoneAndASourceSamplesTheLatestValue() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(schedules("S", StorageType.Memory).build());
            JetStream js = nc.jetStream();
            js.publish("sensors.temp", b("20.5"));
            js.publish("sensors.temp", b("21.0"));
            js.publish(msg("sched.sample", "", "Nats-Schedule", "*/2 * * * * *", "Nats-Schedule-Time-Zone",
                    "America/New_York", "Nats-Schedule-Source", "sensors.temp", "Nats-Schedule-Target",
                    "sensors.sampled"));
            await("a sample", () -> last(jsm, "S", "sensors.sampled") != null);
            MessageInfo sample = last(jsm, "S", "sensors.sampled");
            assertEquals("21.0", new String(sample.getData(), StandardCharsets.UTF_8), "the source's last message");
            String next = sample.getHeaders().getFirst("Nats-Schedule-Next");
            OffsetDateTime at = OffsetDateTime.parse(next);
            assertEquals(ZoneId.of("America/New_York").getRules().getOffset(at.toInstant()), at.getOffset(),
                    "the next time is written in the schedule's zone: " + next);
            assertEquals(0, at.getSecond() % 2, next);
            js.publish("sensors.temp", b("22.5"));
            await("a sample of the newer value", () -> "22.5".equals(
                    new String(last(jsm, "S", "sensors.sampled").getData(), StandardCharsets.UTF_8)));
            // replacing the schedule: one message holds it, the newest (auto roll-up)
            js.publish(msg("sched.sample", "", "Nats-Schedule", "0 0 0 1 1 *", "Nats-Schedule-Target",
                    "sensors.sampled"));
            assertEquals(1, count(jsm, "S", "sched.sample"));
        }
    }

    @Test
    void deletedOrAgedOutSchedulesDoNotFireAndProducedMessagesFollowTheStreamsRules() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(schedules("S", StorageType.File).allowMessageTtl().maxMessagesPerSubject(2).build());
            JetStream js = nc.jetStream();
            // a schedule deleted by sequence is cancelled
            long deleted = js.publish(msg("sched.deleted", "x", "Nats-Schedule", atIn(2),
                    "Nats-Schedule-Target", "orders.deleted")).getSeqno();
            assertTrue(jsm.deleteMessage("S", deleted));
            // a schedule whose own Nats-TTL ends first never fires
            js.publish(msg("sched.short", "x", "Nats-Schedule", atIn(4), "Nats-Schedule-Target", "orders.short",
                    "Nats-TTL", "1s"));
            // a plain message on the schedule's subject replaces it: the last message holds the schedule
            js.publish(msg("sched.replaced", "x", "Nats-Schedule", atIn(2), "Nats-Schedule-Target", "orders.replaced"));
            js.publish("sched.replaced", b("no longer a schedule"));
            // the produced message expires on the schedule's TTL, and the target's per-subject limit applies
            js.publish(msg("sched.ttl", "x", "Nats-Schedule", "@every 1s", "Nats-Schedule-Target", "orders.ttl",
                    "Nats-Schedule-TTL", "2s"));
            await("a produced message with a TTL", () -> last(jsm, "S", "orders.ttl") != null);
            assertEquals("2s", last(jsm, "S", "orders.ttl").getHeaders().getFirst("Nats-TTL"));
            await("several ticks", () -> last(jsm, "S", "orders.ttl").getSeq() > deleted + 8);
            assertTrue(count(jsm, "S", "orders.ttl") <= 2, "max_msgs_per_subject holds for produced messages");
            js.publish(msg("sched.cancel", "", "Nats-Schedule-Next", "purge", "Nats-Scheduler", "sched.ttl"));
            await("the last produced message to expire", () -> last(jsm, "S", "orders.ttl") == null);

            js.publish(msg("sched.witness", "w", "Nats-Schedule", atIn(2), "Nats-Schedule-Target", "orders.witness"));
            await("the witness to fire", () -> last(jsm, "S", "orders.witness") != null);
            await("the short-lived schedule to expire", () -> last(jsm, "S", "sched.short") == null);
            // published after the short-lived one, due after its time: once it fired, that time has been passed
            js.publish(msg("sched.witness2", "w", "Nats-Schedule", atIn(5), "Nats-Schedule-Target", "orders.witness2"));
            await("a witness after the short one's time", () -> last(jsm, "S", "orders.witness2") != null);
            assertNull(last(jsm, "S", "orders.deleted"), "a deleted schedule does not fire");
            assertNull(last(jsm, "S", "orders.short"), "an expired schedule does not fire");
            assertNull(last(jsm, "S", "orders.replaced"), "a replaced schedule does not fire");
        }
    }

    @Test
    void aRestoredSnapshotKeepsItsPendingSchedules() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(schedules("S", StorageType.File).build());
            JetStream js = nc.jetStream();
            js.publish(msg("sched.later", "later", "Nats-Schedule", atIn(3600), "Nats-Schedule-Target", "orders.later"));
            js.publish(msg("sched.soon", "soon", "Nats-Schedule", atIn(3), "Nats-Schedule-Target", "orders.soon"));
            SnapshotClient.Backup backup = SnapshotClient.backup(nc, "S", false);
            assertTrue(jsm.deleteStream("S"));
            var restored = SnapshotClient.restore(nc, "S", backup);
            assertNull(restored.get("error"), restored.toString());
            await("the restored schedule to fire", () -> last(jsm, "S", "orders.soon") != null);
            assertEquals("sched.soon", last(jsm, "S", "orders.soon").getHeaders().getFirst("Nats-Scheduler"));
            await("the restored one-shot to be purged", () -> last(jsm, "S", "sched.soon") == null);
            assertTrue(last(jsm, "S", "sched.later") != null, "a schedule not due yet stays");
            assertNull(last(jsm, "S", "orders.later"));
        }
    }

    @Test
    void schedulesSurviveARestartNeitherLostNorFiredTwice() throws Exception {
        long oneShotSeq;
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(schedules("S", StorageType.File).build());
            JetStream js = nc.jetStream();
            js.publish(msg("sched.tick", "tick", "Nats-Schedule", "@every 1s", "Nats-Schedule-Target", "orders.tick"));
            await("a tick before the restart", () -> count(jsm, "S", "orders.tick") >= 1);
            oneShotSeq = js.publish(msg("sched.later", "later", "Nats-Schedule", atIn(4),
                    "Nats-Schedule-Target", "orders.later")).getSeqno();
            assertNull(last(jsm, "S", "orders.later"), "the one-shot is still pending when the server stops");
        }
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            assertEquals(oneShotSeq, last(jsm, "S", "sched.later").getSeq(), "the pending schedule is kept");
            await("the one-shot to fire after the restart", () -> last(jsm, "S", "orders.later") != null);
            await("the one-shot to be purged", () -> last(jsm, "S", "sched.later") == null);
            long before = count(jsm, "S", "orders.tick");
            await("the repeat to go on after the restart", () -> count(jsm, "S", "orders.tick") >= before + 2);
        }
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            JetStream js = nc.jetStream();
            js.publish(msg("sched.witness", "w", "Nats-Schedule", atIn(2), "Nats-Schedule-Target", "orders.witness"));
            await("the witness to fire after the second restart", () -> last(jsm, "S", "orders.witness") != null);
            assertEquals(1, count(jsm, "S", "orders.later"), "the one-shot fired exactly once");
            // every tick names a different next time: no firing was repeated across the restarts
            List<String> nexts = new ArrayList<>();
            var sub = js.subscribe("orders.tick", io.nats.client.PushSubscribeOptions.builder()
                    .ordered(true).build());
            long n = count(jsm, "S", "orders.tick");
            for (long i = 0; i < n; i++) {
                var m = sub.nextMessage(WAIT);
                nexts.add(m.getHeaders().getFirst("Nats-Schedule-Next"));
            }
            Set<String> distinct = new HashSet<>(nexts);
            assertEquals(nexts.size(), distinct.size(), "a tick fired twice: " + nexts);
            assertNotEquals(0, nexts.size());
        }
    }
}
