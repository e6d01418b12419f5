package io.jetkv.conformance;

import io.jetkv.server.testing.ReferenceServer;
import static io.nats.client.api.KeyValueWatchOption.IGNORE_DELETE;
import static io.nats.client.api.KeyValueWatchOption.INCLUDE_HISTORY;
import static io.nats.client.api.KeyValueWatchOption.META_ONLY;
import static io.nats.client.api.KeyValueWatchOption.UPDATES_ONLY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.KeyValue;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.KeyResult;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.StorageType;
import io.nats.client.impl.NatsKeyValueWatchSubscription;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * KV watch options (nats.docs "Key/Value Store": watch; ADR-8 "Watch"), keys and history through jnats, each
 * test run against JetKV and against nats-server 2.9.10 with the same expectations (where 2.9.10 cannot match, the
 * test says why: several filters need 2.10, and 2.9.10's deltas from a start revision are unreliable). Every test
 * seeds a fresh bucket with {@link #seed}, so revisions are fixed, and asserts the exact entries before the end-of-data
 * marker ({@code END}) and the exact live entries after it.
 *
 * <p>Seeded bucket (history 10), revision by revision:
 *
 * <pre>
 *  r1 a.1=1   r2 a.2=2   r3 a.1=1b   r4 b=x   r5 a.b.c=deep   r6 DEL a.2   r7 c=c1 (removed by r8)
 *  r8 PURGE c   r9 a.1=1c
 * live: r10 PURGE a.2 (removes r2, r6)   r11 a.1=1d   r12 DEL b   r13 a.3=3   r14 &lt;sentinel&gt;=end
 * </pre>
 *
 * The sentinel is a put on a key the watch covers: entries arrive in stream order, so a stray delivery (a
 * delete that should have been ignored, a key outside the filter) would show up before it.
 */
class KvWatchOptionsIT {
    private static final String END = "END";
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    @TempDir
    static Path dirs;

    private static NatsServer jetkv;
    private static ReferenceServer reference;

    @BeforeAll
    static void startServers() throws Exception {
        jetkv = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true)
                        .withStoreDir(Files.createDirectories(dirs.resolve("jetkv")))));
        if (ReferenceServer.available()) {
            reference = ReferenceServer.start("-js", "-sd", Files.createDirectories(dirs.resolve("ref")).toString());
        }
    }

    @AfterAll
    static void stopServers() throws Exception {
        if (reference != null) {
            reference.close();
        }
        if (jetkv != null) {
            jetkv.close();
        }
    }

    static Stream<String> servers() {
        return ReferenceServer.available() ? Stream.of("jetkv", "nats-server") : Stream.of("jetkv");
    }

    private static String url(String server) {
        return server.equals("jetkv") ? jetkv.clientUrl() : "nats://127.0.0.1:" + reference.port();
    }

    /** A generous connect timeout: the first connection to a cold in-process server can take over 2 s. */
    private static Connection connect(String server) throws Exception {
        return Nats.connect(
                new Options.Builder().server(url(server)).connectionTimeout(Duration.ofSeconds(10)).build());
    }

    private static boolean isReference(String server) {
        return server.equals("nats-server");
    }

    /** A fresh bucket holding the seeded revisions r1..r9. */
    private static KeyValue seed(Connection nc) throws Exception {
        String bucket = "w" + BUCKETS.incrementAndGet();
        nc.keyValueManagement().create(KeyValueConfiguration.builder().name(bucket).maxHistoryPerKey(10)
                .storageType(StorageType.File).build());
        KeyValue kv = nc.keyValue(bucket);
        kv.put("a.1", "1");
        kv.put("a.2", "2");
        kv.put("a.1", "1b");
        kv.put("b", "x");
        kv.put("a.b.c", "deep");
        kv.delete("a.2");
        kv.put("c", "c1");
        kv.purge("c");
        assertEquals(9, kv.put("a.1", "1c"));
        return kv;
    }

    /** The live revisions r10..r14, ending with a put on {@code sentinel}. */
    private static void live(KeyValue kv, String sentinel) throws Exception {
        // The purge comes first: nats-server 2.9.10 moves a push consumer's next sequence up to the purge marker
        // when a subject is purged, so entries stored before it but not yet delivered would be lost there.
        kv.purge("a.2");
        kv.put("a.1", "1d");
        kv.delete("b");
        kv.put("a.3", "3");
        assertEquals(14, kv.put(sentinel, "end"));
    }

    /** One line per entry: operation, key, value (or its length for META_ONLY), revision and delta. */
    private static String describe(KeyValueEntry e) {
        String what = switch (e.getOperation()) {
            case PUT -> "PUT " + e.getKey() + "="
                    + (e.getValue() == null ? "<" + e.getDataLen() + "B>" : e.getValueAsString());
            case DELETE -> "DEL " + e.getKey();
            case PURGE -> "PURGE " + e.getKey();
        };
        return what + " r" + e.getRevision() + " d" + e.getDelta();
    }

    /** Records entries and the end-of-data marker in arrival order (dispatcher or subscribing thread). */
    private static final class Recorder implements KeyValueWatcher {
        private final BlockingQueue<String> events = new LinkedBlockingQueue<>();

        @Override
        public void watch(KeyValueEntry e) {
            events.add(describe(e));
        }

        @Override
        public void endOfData() {
            events.add(END);
        }

        /** The next {@code n} entries without their delta, skipping the end-of-data marker wherever it comes. */
        List<String> entries(int n) throws InterruptedException {
            List<String> got = new ArrayList<>();
            while (got.size() < n) {
                String e = events.poll(10, TimeUnit.SECONDS);
                if (e == null) {
                    break;
                }
                if (!e.equals(END)) {
                    got.add(e.replaceFirst(" d\\d+$", ""));
                }
            }
            return got;
        }

        /** The next {@code n} events, or fewer if the next one is not there within 10 s. */
        List<String> next(int n) throws InterruptedException {
            List<String> got = new ArrayList<>();
            while (got.size() < n) {
                String e = events.poll(10, TimeUnit.SECONDS);
                if (e == null) {
                    break;
                }
                got.add(e);
            }
            return got;
        }
    }

    /** A watch started on a seeded bucket. */
    @FunctionalInterface
    private interface Watch {
        NatsKeyValueWatchSubscription start(KeyValue kv, Recorder r) throws Exception;
    }

    /** Seeds a bucket, starts the watch, asserts the initial entries, runs {@link #live}, asserts the updates. */
    private static void check(String server, Watch watch, List<String> initial, String sentinel, List<String> updates)
            throws Exception {
        try (Connection nc = connect(server)) {
            KeyValue kv = seed(nc);
            Recorder r = new Recorder();
            try (NatsKeyValueWatchSubscription sub = watch.start(kv, r)) {
                assertEquals(initial, r.next(initial.size()), "initial entries, then end of data");
                live(kv, sentinel);
                // a live entry's delta depends on how many later puts were stored before it went out
                assertEquals(updates, r.next(updates.size()).stream().map(e -> e.replaceFirst(" d\\d+$", "")).toList(),
                        "live entries");
                nc.flush(Duration.ofSeconds(5));
                assertTrue(r.events.isEmpty(), () -> "nothing after the sentinel: " + r.events);
            }
        }
    }

    /**
     * As {@link #check}, but against nats-server only the entries are compared, without deltas and the end-of-data
     * position: for a start revision before the gap r7 left, 2.9.10's initial num_pending is sometimes one too high,
     * sometimes one too low (seen in repeated runs), so jnats ends the initial data early or late there. JetKV
     * counts the stored messages exactly and is held to the full expectation.
     */
    private static void checkAcrossTheGap(String server, Watch watch, List<String> initial, String sentinel,
            List<String> updates) throws Exception {
        if (!isReference(server)) {
            check(server, watch, initial, sentinel, updates);
            return;
        }
        try (Connection nc = connect(server)) {
            KeyValue kv = seed(nc);
            Recorder r = new Recorder();
            try (NatsKeyValueWatchSubscription sub = watch.start(kv, r)) {
                List<String> want = withoutDeltas(initial);
                assertEquals(want, r.entries(want.size()), "initial entries");
                live(kv, sentinel);
                want = withoutDeltas(updates);
                assertEquals(want, r.entries(want.size()), "live entries");
            }
        }
    }

    /** Entries without their delta, the end-of-data marker left out. */
    private static List<String> withoutDeltas(List<String> events) {
        return events.stream().filter(e -> !e.equals(END)).map(e -> e.replaceFirst(" d\\d+$", "")).toList();
    }

    private static final List<String> ALL_UPDATES =
            List.of("PURGE a.2 r10", "PUT a.1=1d r11", "DEL b r12", "PUT a.3=3 r13", "PUT z=end r14");
    private static final List<String> PUT_UPDATES = List.of("PUT a.1=1d r11", "PUT a.3=3 r13", "PUT z=end r14");

    // --- watchAll and the options -----------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void watchAllDeliversTheLatestEntryPerKeyInRevisionOrder(String server) throws Exception {
        check(server, (kv, r) -> kv.watchAll(r),
                List.of("PUT b=x r4 d4", "PUT a.b.c=deep r5 d3", "DEL a.2 r6 d2", "PURGE c r8 d1", "PUT a.1=1c r9 d0",
                        END),
                "z", ALL_UPDATES);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void ignoreDeleteDropsDeleteAndPurgeMarkersButStillEndsTheInitialData(String server) throws Exception {
        check(server, (kv, r) -> kv.watchAll(r, IGNORE_DELETE),
                List.of("PUT b=x r4 d4", "PUT a.b.c=deep r5 d3", "PUT a.1=1c r9 d0", END), "z", PUT_UPDATES);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void includeHistoryDeliversEveryStoredRevision(String server) throws Exception {
        check(server, (kv, r) -> kv.watchAll(r, INCLUDE_HISTORY),
                List.of("PUT a.1=1 r1 d7", "PUT a.2=2 r2 d6", "PUT a.1=1b r3 d5", "PUT b=x r4 d4",
                        "PUT a.b.c=deep r5 d3",
                        "DEL a.2 r6 d2", "PURGE c r8 d1", "PUT a.1=1c r9 d0", END),
                "z", ALL_UPDATES);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void includeHistoryWithIgnoreDelete(String server) throws Exception {
        check(server, (kv, r) -> kv.watchAll(r, INCLUDE_HISTORY, IGNORE_DELETE),
                List.of("PUT a.1=1 r1 d7", "PUT a.2=2 r2 d6", "PUT a.1=1b r3 d5", "PUT b=x r4 d4",
                        "PUT a.b.c=deep r5 d3",
                        "PUT a.1=1c r9 d0", END),
                "z", PUT_UPDATES);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void updatesOnlyEndsAtOnceAndDeliversOnlyNewRevisions(String server) throws Exception {
        check(server, (kv, r) -> kv.watchAll(r, UPDATES_ONLY), List.of(END), "z", ALL_UPDATES);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void updatesOnlyWithIgnoreDelete(String server) throws Exception {
        check(server, (kv, r) -> kv.watchAll(r, UPDATES_ONLY, IGNORE_DELETE), List.of(END), "z", PUT_UPDATES);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void metaOnlyDeliversEntriesWithoutValuesButWithTheirSize(String server) throws Exception {
        // headers_only: the server sends Nats-Msg-Size, which jnats reports as the data length
        check(server, (kv, r) -> kv.watchAll(r, META_ONLY),
                List.of("PUT b=<1B> r4 d4", "PUT a.b.c=<4B> r5 d3", "DEL a.2 r6 d2", "PURGE c r8 d1",
                        "PUT a.1=<2B> r9 d0", END),
                "z",
                List.of("PURGE a.2 r10", "PUT a.1=<2B> r11", "DEL b r12", "PUT a.3=<1B> r13",
                        "PUT z=<3B> r14"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void metaOnlyWithHistoryAndIgnoreDelete(String server) throws Exception {
        check(server, (kv, r) -> kv.watchAll(r, META_ONLY, INCLUDE_HISTORY, IGNORE_DELETE),
                List.of("PUT a.1=<1B> r1 d7", "PUT a.2=<1B> r2 d6", "PUT a.1=<2B> r3 d5", "PUT b=<1B> r4 d4",
                        "PUT a.b.c=<4B> r5 d3", "PUT a.1=<2B> r9 d0", END),
                "z", List.of("PUT a.1=<2B> r11", "PUT a.3=<1B> r13", "PUT z=<3B> r14"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void metaOnlyWithUpdatesOnly(String server) throws Exception {
        check(server, (kv, r) -> kv.watchAll(r, UPDATES_ONLY, META_ONLY), List.of(END), "z",
                List.of("PURGE a.2 r10", "PUT a.1=<2B> r11", "DEL b r12", "PUT a.3=<1B> r13",
                        "PUT z=<3B> r14"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void theLaterOfUpdatesOnlyAndIncludeHistoryWins(String server) throws Exception {
        // jnats maps each option to a deliver policy in order, so the last one is what the server is sent
        check(server, (kv, r) -> kv.watchAll(r, INCLUDE_HISTORY, UPDATES_ONLY), List.of(END), "z", ALL_UPDATES);
        check(server, (kv, r) -> kv.watchAll(r, UPDATES_ONLY, INCLUDE_HISTORY, IGNORE_DELETE),
                List.of("PUT a.1=1 r1 d7", "PUT a.2=2 r2 d6", "PUT a.1=1b r3 d5", "PUT b=x r4 d4",
                        "PUT a.b.c=deep r5 d3",
                        "PUT a.1=1c r9 d0", END),
                "z", PUT_UPDATES);
    }

    // --- one key, wildcards, several filters --------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void watchOneKey(String server) throws Exception {
        List<String> updates = List.of("PUT a.1=1d r11", "PUT a.1=end r14");
        check(server, (kv, r) -> kv.watch("a.1", r), List.of("PUT a.1=1c r9 d0", END), "a.1", updates);
        check(server, (kv, r) -> kv.watch("a.1", r, INCLUDE_HISTORY),
                List.of("PUT a.1=1 r1 d2", "PUT a.1=1b r3 d1", "PUT a.1=1c r9 d0", END), "a.1", updates);
        check(server, (kv, r) -> kv.watch("a.1", r, UPDATES_ONLY), List.of(END), "a.1", updates);
        check(server, (kv, r) -> kv.watch("a.1", r, META_ONLY), List.of("PUT a.1=<2B> r9 d0", END), "a.1",
                List.of("PUT a.1=<2B> r11", "PUT a.1=<3B> r14"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void watchOneDeletedKey(String server) throws Exception {
        check(server, (kv, r) -> kv.watch("a.2", r), List.of("DEL a.2 r6 d0", END), "a.2",
                List.of("PURGE a.2 r10", "PUT a.2=end r14"));
        // the only entry is ignored, yet its delta of 0 still ends the initial data
        check(server, (kv, r) -> kv.watch("a.2", r, IGNORE_DELETE), List.of(END), "a.2", List.of("PUT a.2=end r14"));
        check(server, (kv, r) -> kv.watch("a.2", r, INCLUDE_HISTORY), List.of("PUT a.2=2 r2 d1", "DEL a.2 r6 d0", END),
                "a.2", List.of("PURGE a.2 r10", "PUT a.2=end r14"));
        // purged: only the purge marker is left
        check(server, (kv, r) -> kv.watch("c", r, INCLUDE_HISTORY), List.of("PURGE c r8 d0", END), "c",
                List.of("PUT c=end r14"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void watchAbsentKeyEndsAtOnce(String server) throws Exception {
        check(server, (kv, r) -> kv.watch("nope", r), List.of(END), "nope", List.of("PUT nope=end r14"));
        check(server, (kv, r) -> kv.watch("nope", r, INCLUDE_HISTORY), List.of(END), "nope",
                List.of("PUT nope=end r14"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void watchSingleTokenWildcard(String server) throws Exception {
        List<String> updates =
                List.of("PURGE a.2 r10", "PUT a.1=1d r11", "PUT a.3=3 r13", "PUT a.9=end r14");
        check(server, (kv, r) -> kv.watch("a.*", r), List.of("DEL a.2 r6 d1", "PUT a.1=1c r9 d0", END), "a.9", updates);
        check(server, (kv, r) -> kv.watch("a.*", r, INCLUDE_HISTORY),
                List.of("PUT a.1=1 r1 d4", "PUT a.2=2 r2 d3", "PUT a.1=1b r3 d2", "DEL a.2 r6 d1", "PUT a.1=1c r9 d0",
                        END),
                "a.9", updates);
        check(server, (kv, r) -> kv.watch("a.*", r, IGNORE_DELETE), List.of("PUT a.1=1c r9 d0", END), "a.9",
                List.of("PUT a.1=1d r11", "PUT a.3=3 r13", "PUT a.9=end r14"));
        check(server, (kv, r) -> kv.watch("*", r), List.of("PUT b=x r4 d1", "PURGE c r8 d0", END), "z",
                List.of("DEL b r12", "PUT z=end r14"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void watchMultiTokenWildcard(String server) throws Exception {
        List<String> updates =
                List.of("PURGE a.2 r10", "PUT a.1=1d r11", "PUT a.3=3 r13", "PUT a.x.y=end r14");
        check(server, (kv, r) -> kv.watch("a.>", r),
                List.of("PUT a.b.c=deep r5 d2", "DEL a.2 r6 d1", "PUT a.1=1c r9 d0", END), "a.x.y", updates);
        check(server, (kv, r) -> kv.watch("a.>", r, META_ONLY, IGNORE_DELETE),
                List.of("PUT a.b.c=<4B> r5 d2", "PUT a.1=<2B> r9 d0", END), "a.x.y",
                List.of("PUT a.1=<2B> r11", "PUT a.3=<1B> r13", "PUT a.x.y=<3B> r14"));
        check(server, (kv, r) -> kv.watch(">", r),
                List.of("PUT b=x r4 d4", "PUT a.b.c=deep r5 d3", "DEL a.2 r6 d2", "PURGE c r8 d1", "PUT a.1=1c r9 d0",
                        END),
                "z", ALL_UPDATES);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void watchSeveralFilters(String server) throws Exception {
        Watch several = (kv, r) -> kv.watch(List.of("a.*", "b"), r);
        if (isReference(server)) {
            // filter_subjects needs 2.10; jnats refuses before asking a 2.9 server
            try (Connection nc = connect(server)) {
                KeyValue kv = seed(nc);
                assertThrows(IllegalArgumentException.class, () -> several.start(kv, new Recorder()));
            }
            return;
        }
        // JetKV announces 2.10.0, so jnats sends filter_subjects
        check(server, several, List.of("PUT b=x r4 d2", "DEL a.2 r6 d1", "PUT a.1=1c r9 d0", END), "b",
                List.of("PURGE a.2 r10", "PUT a.1=1d r11", "DEL b r12", "PUT a.3=3 r13", "PUT b=end r14"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void watchOneFilterInAList(String server) throws Exception {
        // one filter in a list is an ordinary filter_subject, fine on a 2.9 server too
        check(server, (kv, r) -> kv.watch(List.of("a.*"), r, IGNORE_DELETE), List.of("PUT a.1=1c r9 d0", END), "a.9",
                List.of("PUT a.1=1d r11", "PUT a.3=3 r13", "PUT a.9=end r14"));
    }

    // --- resuming from a revision ---------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void watchAllFromRevision(String server) throws Exception {
        List<String> fromFive =
                List.of("PUT a.b.c=deep r5 d3", "DEL a.2 r6 d2", "PURGE c r8 d1", "PUT a.1=1c r9 d0", END);
        checkAcrossTheGap(server, (kv, r) -> kv.watchAll(r, 5), fromFive, "z", ALL_UPDATES);
        // a start revision overrides UPDATES_ONLY (deliver policy by_start_sequence)
        checkAcrossTheGap(server, (kv, r) -> kv.watchAll(r, 5, UPDATES_ONLY), fromFive, "z", ALL_UPDATES);
        checkAcrossTheGap(server, (kv, r) -> kv.watchAll(r, 5, IGNORE_DELETE),
                List.of("PUT a.b.c=deep r5 d3", "PUT a.1=1c r9 d0", END), "z", PUT_UPDATES);
        checkAcrossTheGap(server, (kv, r) -> kv.watchAll(r, 5, META_ONLY),
                List.of("PUT a.b.c=<4B> r5 d3", "DEL a.2 r6 d2", "PURGE c r8 d1", "PUT a.1=<2B> r9 d0", END), "z",
                List.of("PURGE a.2 r10", "PUT a.1=<2B> r11", "DEL b r12", "PUT a.3=<1B> r13",
                        "PUT z=<3B> r14"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void fromARemovedRevisionStartsAtTheNextStoredOne(String server) throws Exception {
        checkAcrossTheGap(server, (kv, r) -> kv.watchAll(r, 7), List.of("PURGE c r8 d1", "PUT a.1=1c r9 d0", END), "z",
                ALL_UPDATES);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void fromAFutureRevisionEndsAtOnceAndStartsAfterTheLastStoredOne(String server) throws Exception {
        // nats-server lowers a start sequence beyond the stream's last sequence to last + 1 (here r10), so no
        // live revision is skipped
        check(server, (kv, r) -> kv.watchAll(r, 12), List.of(END), "z", ALL_UPDATES);
        check(server, (kv, r) -> kv.watch("a.1", r, 100), List.of(END), "a.1",
                List.of("PUT a.1=1d r11", "PUT a.1=end r14"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void watchKeyFromRevision(String server) throws Exception {
        List<String> updates = List.of("PUT a.1=1d r11", "PUT a.1=end r14");
        check(server, (kv, r) -> kv.watch("a.1", r, 2), List.of("PUT a.1=1b r3 d1", "PUT a.1=1c r9 d0", END), "a.1",
                updates);
        check(server, (kv, r) -> kv.watch("a.*", r, 3, IGNORE_DELETE),
                List.of("PUT a.1=1b r3 d2", "PUT a.1=1c r9 d0", END), "a.9",
                List.of("PUT a.1=1d r11", "PUT a.3=3 r13", "PUT a.9=end r14"));
        // nothing for the key at or after revision 10 yet
        check(server, (kv, r) -> kv.watch("a.1", r, 10), List.of(END), "a.1", updates);
    }

    // --- keys, consumeKeys, history -------------------------------------------------------------------

    private static List<String> drain(BlockingQueue<KeyResult> q) throws Exception {
        List<String> keys = new ArrayList<>();
        while (true) {
            KeyResult r = q.poll(10, TimeUnit.SECONDS);
            if (r == null) {
                keys.add("<timeout>");
                return keys;
            }
            if (r.isDone()) {
                return keys;
            }
            if (r.isException()) {
                keys.add("<" + r.getException().getClass().getSimpleName() + ">");
            } else {
                keys.add(r.getKey());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void keysSkipDeletedAndPurgedKeys(String server) throws Exception {
        try (Connection nc = connect(server)) {
            KeyValue kv = seed(nc);
            assertEquals(List.of("b", "a.b.c", "a.1"), kv.keys());
            assertEquals(List.of("a.1"), kv.keys("a.*"));
            assertEquals(List.of("a.b.c", "a.1"), kv.keys("a.>"));
            assertEquals(List.of("b"), kv.keys("b"));
            assertEquals(List.of(), kv.keys("a.2"));
            assertEquals(List.of(), kv.keys("nope.*"));
            assertEquals(List.of("a.1"), kv.keys(List.of("a.*")));
            assertEquals(List.of("b", "a.b.c", "a.1"), drain(kv.consumeKeys()));
            assertEquals(List.of("a.b.c", "a.1"), drain(kv.consumeKeys("a.>")));
            assertEquals(List.of(), drain(kv.consumeKeys("c")));
            if (isReference(server)) {
                assertThrows(IllegalArgumentException.class, () -> kv.keys(List.of("a.*", "b")));
            } else {
                assertEquals(List.of("b", "a.1"), kv.keys(List.of("a.*", "b")));
                assertEquals(List.of("b", "a.1"), drain(kv.consumeKeys(List.of("a.*", "b"))));
            }
            live(kv, "z");
            assertEquals(List.of("a.b.c", "a.1", "a.3", "z"), kv.keys());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void historyKeepsDeleteAndPurgeMarkers(String server) throws Exception {
        try (Connection nc = connect(server)) {
            KeyValue kv = seed(nc);
            assertEquals(List.of("PUT a.2=2 r2 d1", "DEL a.2 r6 d0"), kv.history("a.2").stream()
                    .map(KvWatchOptionsIT::describe).toList());
            assertEquals(List.of("PURGE c r8 d0"), kv.history("c").stream().map(KvWatchOptionsIT::describe).toList());
            assertEquals(List.of("PUT a.1=1 r1 d2", "PUT a.1=1b r3 d1", "PUT a.1=1c r9 d0"),
                    kv.history("a.1").stream().map(KvWatchOptionsIT::describe).toList());
            assertEquals(List.of(), kv.history("nope"));
            live(kv, "z");
            // the purge rolled up the key's earlier revisions, the delete kept them
            assertEquals(List.of("PURGE a.2 r10 d0"),
                    kv.history("a.2").stream().map(KvWatchOptionsIT::describe).toList());
            assertEquals(List.of("PUT b=x r4 d1", "DEL b r12 d0"), kv.history("b").stream()
                    .map(KvWatchOptionsIT::describe).toList());
            assertEquals(KeyValueOperation.DELETE, kv.history("b").get(1).getOperation());
        }
    }
}
