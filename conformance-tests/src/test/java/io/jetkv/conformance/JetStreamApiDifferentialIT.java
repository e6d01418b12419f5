package io.jetkv.conformance;

import io.jetkv.server.testing.ReferenceServer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential conformance of the JetStream API (nats.docs "JetStream wire API reference"): every scenario
 * sends the same raw {@code $JS.API.*} requests and JetStream publishes to JetKV and to nats-server 2.9.10,
 * and compares the replies as JSON trees (status messages as status line, headers and payload).
 *
 * <p>Normalised, not flagged: timestamps (only their presence and RFC 3339 shape count), the {@code api}
 * counters, {@code cluster}, {@code null} versus {@code []} for empty lists (the spec allows both), the
 * timestamp token of ack subjects, and fields 2.10 added that 2.9.10 does not send ({@link #NEWER_FIELDS}),
 * since JetKV advertises 2.10. Everything the reference sends must be there with the same value.
 *
 * <p>One difference is by design, not listed: where nats-server leaves a {@code $JS.API} request unanswered (an
 * unknown operation, a wrong number of name tokens), JetKV answers no-responders (503), so that a client fails at
 * once instead of waiting for its timeout; such a step passes when JetKV's only answer is that status.
 *
 * <p>Scenarios where JetKV is known to answer differently are listed in {@link #DIVERGENCES} (to fix or to
 * accept) and {@link #VERSION_DIFFERENCES} (2.10 behaviour on purpose) and skipped, so the suite stays green for
 * agreed behaviour; run them anyway with {@code -Djs.divergences=run}. Each scenario starts from an empty account
 * on both servers, so one divergence cannot leak into the next scenario.
 */
class JetStreamApiDifferentialIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** How long a step that expects no reply listens; absence can only be shown by waiting. */
    private static final int QUIET_MS = 250;
    /** Guard for steps that expect a reply: a hang fails the step instead of the build. */
    private static final int GUARD_MS = 3000;

    private static final String CONNECT =
            "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}\r\n";

    private static final String API = "$JS.API.";
    private static final String INFO = API + "STREAM.INFO.";
    private static final String CREATE = API + "STREAM.CREATE.";
    private static final String UPDATE = API + "STREAM.UPDATE.";
    private static final String DELETE = API + "STREAM.DELETE.";
    private static final String NAMES = API + "STREAM.NAMES";
    private static final String LIST = API + "STREAM.LIST";
    private static final String PURGE = API + "STREAM.PURGE.";
    private static final String MSG_GET = API + "STREAM.MSG.GET.";
    private static final String MSG_DELETE = API + "STREAM.MSG.DELETE.";
    private static final String DIRECT = API + "DIRECT.GET.";
    private static final String CC = API + "CONSUMER.CREATE.";
    private static final String DCC = API + "CONSUMER.DURABLE.CREATE.";
    private static final String C_INFO = API + "CONSUMER.INFO.";
    private static final String C_DELETE = API + "CONSUMER.DELETE.";
    private static final String C_NAMES = API + "CONSUMER.NAMES.";
    private static final String C_LIST = API + "CONSUMER.LIST.";
    private static final String NEXT = API + "CONSUMER.MSG.NEXT.";

    /** Keys whose string values are timestamps: compared by shape (zero time or RFC 3339), not value. */
    private static final Set<String> TIME_KEYS = Set.of("created", "ts", "time", "first_ts", "last_ts", "last_active");
    private static final Pattern RFC3339 = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z");
    private static final String ZERO_TIME = "0001-01-01T00:00:00Z";

    /** Ignored wherever they appear: identity of the server and per-run counters. */
    private static final Set<String> IGNORED_KEYS = Set.of("cluster", "server_id");
    private static final List<String> IGNORED_PATHS = List.of("api.total", "api.errors");

    /** Fields 2.10+ sends that 2.9.10 does not; accepted when only JetKV has them (by key, or by path). */
    private static final Set<String> NEWER_FIELDS =
            Set.of("compression", "consumer_limits", "ts", "metadata", "reserved_memory", "reserved_storage",
                    "api.level", "allow_msg_ttl");

    /**
     * Scenario name → how JetKV differs from nats-server 2.9.10 there. Each is skipped (documented, not hidden)
     * until JetKV changes or the lead accepts the difference; the scenario keeps the reference's answer as its
     * expectation.
     */
    private static final Map<String, String> DIVERGENCES = Map.of();

    /**
     * Scenario name → a 2.10 behaviour JetKV implements on purpose (it advertises 2.10) where 2.9.10 differs.
     * Skipped like divergences, but not a defect.
     */
    private static final Map<String, String> VERSION_DIFFERENCES = Map.ofEntries(
            Map.entry("streamUpdateRetention", "2.10 lets an update swap limits and interest retention; 2.9.10"
                    + " refuses any retention change"),
            Map.entry("streamLimitsBelowMinusOne", "2.11+ stores stream limits below -1 as -1 (checkStreamCfg;"
                    + " pedantic mode refuses them); 2.9.10 keeps them, which jnats then refuses to read"),
            Map.entry("consumerNameTooLong", "2.10 limits consumer names to 255 characters (400/10102); 2.9.10"
                    + " takes any length"),
            Map.entry("consumerCreateActionCreateOnExisting", "2.10 enforces action create: a different config on"
                    + " an existing consumer is 400/10148 \"consumer already exists\"; 2.9.10 ignores action and"
                    + " updates"),
            Map.entry("consumerCreateActionUpdateOnMissing", "2.10 enforces action update: a missing consumer is"
                    + " 400/10149 \"consumer does not exist\"; 2.9.10 ignores action and creates"));

    private static final boolean RUN_DIVERGENCES = "run".equals(System.getProperty("js.divergences"));
    /** {@code -Djs.dump=true} prints every step with both replies, to read what a scenario exercises. */
    private static final boolean DUMP = Boolean.getBoolean("js.dump");

    @TempDir
    static Path dirs;

    private static NatsServer jetkv;
    private static ReferenceServer reference;
    private static Side jk;
    private static Side ref;

    // --- steps and scenarios -------------------------------------------------------------------------

    /** What a step expects to come back, which decides how long it listens. */
    enum Kind {
        /** one JSON reply: an API response or a pub ack */
        JSON,
        /** raw messages (direct get, pull), until {@code max} arrived, a terminal status, or {@code waitMs} */
        RAW,
        /** nothing: listens {@link #QUIET_MS} and records whatever arrives */
        QUIET
    }

    record Step(Kind kind, String subject, List<String> headers, String body, int max, int waitMs,
            List<String> ignored) {
        Step ignoring(String... paths) {
            List<String> all = new ArrayList<>(ignored);
            all.addAll(Arrays.asList(paths));
            return new Step(kind, subject, headers, body, max, waitMs, all);
        }

        String describe() {
            return (headers.isEmpty() ? "" : headers + " ") + subject + (body.isEmpty() ? "" : " " + body);
        }
    }

    record Scenario(String name, List<Step> steps) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** JSON with single quotes, to keep the scenarios readable. */
    private static String j(String s) {
        return s.replace('\'', '"');
    }

    private static Step req(String subject, String body) {
        return new Step(Kind.JSON, subject, List.of(), j(body), 1, GUARD_MS, List.of());
    }

    private static Step pub(String subject, String payload, String... headers) {
        return new Step(Kind.JSON, subject, List.of(headers), payload, 1, GUARD_MS, List.of());
    }

    private static Step raw(String subject, String body, int max) {
        return new Step(Kind.RAW, subject, List.of(), j(body), max, GUARD_MS, List.of());
    }

    /** Raw messages, listening at most {@code waitMs} (for answers of uncertain length). */
    private static Step raw(String subject, String body, int max, int waitMs) {
        return new Step(Kind.RAW, subject, List.of(), j(body), max, waitMs, List.of());
    }

    private static Step quiet(String subject, String body, String... headers) {
        return new Step(Kind.QUIET, subject, List.of(headers), j(body), 0, QUIET_MS, List.of());
    }

    private static Scenario sc(String name, Step... steps) {
        return new Scenario(name, List.of(steps));
    }

    private static Scenario sc(String name, List<Step> prefix, Step... steps) {
        List<Step> all = new ArrayList<>(prefix);
        all.addAll(List.of(steps));
        return new Scenario(name, all);
    }

    private static Step create(String name, String configRest) {
        return req(CREATE + name, "{'name':'" + name + "'" + (configRest.isEmpty() ? "" : "," + configRest) + "}");
    }

    /** The KV bucket configuration jnats 2.25.1 sends (captured). */
    private static final String JNATS_KV = "{'name':'KV_jcfg','subjects':['$KV.jcfg.>'],'retention':'limits',"
            + "'max_msgs_per_subject':3,'max_age':3600000000000,'max_msg_size':1024,'storage':'file','num_replicas':1,"
            + "'discard':'new','duplicate_window':120000000000,'allow_rollup_hdrs':true,'allow_direct':true,"
            + "'deny_delete':true}";
    /** The KV bucket configuration nats.go sends (from its StreamConfig JSON tags: 2.10 fields included). */
    private static final String NATSGO_KV = "{'name':'KV_gcfg','subjects':['$KV.gcfg.>'],'retention':'limits',"
            + "'max_consumers':-1,'max_msgs':-1,'max_bytes':-1,'discard':'new','max_age':0,'max_msgs_per_subject':1,"
            + "'max_msg_size':-1,'storage':'file','num_replicas':1,'duplicate_window':120000000000,'sealed':false,"
            + "'deny_delete':true,'deny_purge':false,'allow_rollup_hdrs':true,'compression':'none',"
            + "'allow_direct':true,'mirror_direct':false,'consumer_limits':{}}";
    /** The KV bucket configuration nats.js 3.4.0 sends (captured), with TTL, max bytes and description. */
    private static final String NATSJS_KV = "{'name':'KV_b2','retention':'limits','max_msgs_per_subject':3,"
            + "'max_bytes':100000,'max_msg_size':1000,'storage':'file','description':'d','subjects':['$KV.b2.>'],"
            + "'discard':'new','allow_direct':true,'num_replicas':1,'max_age':60000000000,'allow_rollup_hdrs':true}";
    /** The KV bucket configuration nats.c 3.4.1 sends (captured). */
    private static final String NATSC_KV = "{'name':'KV_cbk','subjects':['$KV.cbk.>'],'retention':'limits',"
            + "'max_consumers':-1,'max_msgs':-1,'max_bytes':-1,'max_age':0,'max_msg_size':-1,'max_msgs_per_subject':2,"
            + "'discard':'new','storage':'file','num_replicas':1,'deny_delete':true,'allow_rollup_hdrs':true,"
            + "'allow_direct':true}";

    /** Stream CS on cs.> with three messages, for the consumer scenarios. */
    private static final List<Step> CS = List.of(
            create("CS", "'subjects':['cs.>']"), pub("cs.a", "one"), pub("cs.b", "two"), pub("cs.a", "three"));

    private static Step consumer(String subjectTail, String config) {
        return req(CC + subjectTail, "{'stream_name':'CS','config':" + config + "}");
    }

    static Stream<Scenario> scenarios() {
        List<Scenario> all = new ArrayList<>();
        all.addAll(accountAndStreamCreate());
        all.addAll(streamUpdate());
        all.addAll(streamReads());
        all.addAll(publishing());
        all.addAll(consumers());
        all.addAll(pulls());
        all.addAll(bodies());
        return all.stream();
    }

    private static List<Scenario> accountAndStreamCreate() {
        List<Scenario> s = new ArrayList<>(List.of(
                sc("accountInfoEmpty", req(API + "INFO", ""), req(API + "INFO", "{}")),
                sc("accountInfoCountsStreamsConsumersAndBytes",
                        create("A", "'subjects':['a.>'],'storage':'file'"),
                        create("M", "'subjects':['m.>'],'storage':'memory'"),
                        pub("a.1", "hello"),
                        pub("a.2", "hello world", "Nats-Msg-Id", "x1"),
                        pub("m.1", "memory"),
                        req(CC + "A.c1", "{'stream_name':'A','config':{'ack_policy':'explicit'}}"),
                        req(API + "INFO", "")),
                sc("streamCreateMinimal",
                        req(CREATE + "MIN", "{'name':'MIN'}"),
                        req(INFO + "MIN", ""),
                        create("MIN2", "'subjects':['min2.*'],'storage':'memory'")),
                sc("streamCreateKvJnats", req(CREATE + "KV_jcfg", JNATS_KV), req(CREATE + "KV_jcfg", JNATS_KV)),
                sc("streamCreateKvNatsGo", req(CREATE + "KV_gcfg", NATSGO_KV), req(CREATE + "KV_gcfg", NATSGO_KV)),
                sc("streamCreateKvNatsJs", req(CREATE + "KV_b2", NATSJS_KV)),
                sc("streamCreateKvNatsC", req(CREATE + "KV_cbk", NATSC_KV)),
                sc("streamCreateFullConfig", req(CREATE + "FULL", "{'name':'FULL','description':'all fields',"
                        + "'subjects':['full.>','fuller'],'retention':'limits','max_consumers':10,'max_msgs':1000,"
                        + "'max_bytes':1048576,'max_age':86400000000000,'max_msgs_per_subject':5,'max_msg_size':4096,"
                        + "'discard':'new','discard_new_per_subject':true,'storage':'memory','num_replicas':1,"
                        + "'no_ack':false,'duplicate_window':60000000000,'placement':{'cluster':'','tags':[]},"
                        + "'sealed':false,'deny_delete':true,'deny_purge':false,'allow_rollup_hdrs':true,"
                        + "'allow_direct':true,'mirror_direct':false,"
                        + "'republish':{'src':'full.>','dest':'rp.>','headers_only':true}}")),
                sc("streamCreateUnknownFieldsIgnored",
                        create("UNK", "'subjects':['unk'],'bogus_field':1,'allow_msg_ttl':false")),
                sc("streamCreateNameWithDotGetsNoReply", quiet(CREATE + "a.b", "{'name':'a.b'}")),
                sc("streamCreateNameMismatch", req(CREATE + "X", "{'name':'Y'}")),
                sc("streamCreateNameMissingInBody", req(CREATE + "NONAME", "{'subjects':['nn']}")),
                sc("streamCreateNameWithStar", req(CREATE + "a*b", "{'name':'a*b'}")),
                sc("streamCreateNameWithGt", req(CREATE + "a>b", "{'name':'a>b'}")),
                sc("streamCreateNameWithSlash", req(CREATE + "a/b", "{'name':'a/b'}")),
                sc("streamCreateEmptyBody", req(CREATE + "EMPTY", "")),
                sc("streamCreateNotJson", req(CREATE + "JUNK", "not json")),
                sc("streamCreateBadRetention", create("E", "'retention':'bogus'"), req(INFO + "E", "")),
                sc("streamCreateBadDiscard", create("E", "'discard':'bogus'")),
                sc("streamCreateBadStorage", create("E", "'storage':'bogus'")),
                sc("streamCreateWrongType", create("E", "'max_msgs':'many'")),
                sc("streamCreateSubjectsNotList", create("E", "'subjects':'e.1'")),
                sc("streamCreateDuplicatesLargerThanMaxAge",
                        create("C", "'max_age':1000000000,'duplicate_window':2000000000")),
                sc("streamCreateMaxAgeTooSmall", create("C", "'max_age':50000000")),
                sc("streamCreateDuplicatesTooSmall", create("C", "'duplicate_window':50000000")),
                sc("streamCreateDuplicatesDefaultFromMaxAge", create("C", "'max_age':30000000000")),
                sc("streamCreateReplicas", create("C", "'num_replicas':3")),
                sc("streamCreateSubjectsOverlapApi", create("C", "'subjects':['$JS.API.>']")),
                sc("streamCreateInvalidSubject", create("C", "'subjects':['a..b']")),
                sc("streamCreateDuplicateSubjects", create("C", "'subjects':['c.1','c.1']")),
                sc("streamCreateRollupNeedsPurge", create("C", "'deny_purge':true,'allow_rollup_hdrs':true")),
                sc("streamCreateDiscardNewPerSubjectNeedsDiscardNew",
                        create("C", "'discard_new_per_subject':true,'max_msgs_per_subject':1")),
                sc("streamCreateDiscardNewPerSubjectNeedsLimit",
                        create("C", "'discard':'new','discard_new_per_subject':true")),
                sc("streamCreateDescriptionTooLong", create("C", "'description':'" + "d".repeat(4097) + "'")),
                sc("streamCreateOverlappingSubjects",
                        create("O1", "'subjects':['o.>']"),
                        create("O2", "'subjects':['o.a']"),
                        create("O3", "'subjects':['*.b']"),
                        create("O4", "'subjects':['p.>','o.*.c']"),
                        create("O5", "'subjects':['oo.>']")),
                sc("streamCreateNameInUse",
                        create("U", "'subjects':['u.>'],'max_msgs':10"),
                        create("U", "'subjects':['u.>'],'max_msgs':10"),
                        create("U", "'subjects':['u.>'],'max_msgs':10,'retention':'limits','discard':'old',"
                                + "'max_consumers':-1,'storage':'file','num_replicas':1"),
                        create("U", "'subjects':['u.>'],'max_msgs':11"),
                        create("U", "'subjects':['u.x']"),
                        req(INFO + "U", ""))));
        return s;
    }

    private static List<Scenario> streamUpdate() {
        String f = "'subjects':['f.>'],'deny_delete':true,'deny_purge':true,'max_consumers':5";
        List<Step> fPrefix = List.of(create("F", f));
        List<Scenario> s = new ArrayList<>(List.of(
                sc("streamUpdateAllowedChanges",
                        create("UP", "'subjects':['up.>']"),
                        pub("up.1", "1"), pub("up.2", "2"), pub("up.3", "3"), pub("up.1", "4"), pub("up.1", "5"),
                        req(UPDATE + "UP", "{'name':'UP','subjects':['up.>','up2.*'],'max_msgs':4,"
                                + "'description':'d','max_age':3600000000000,'discard':'old','allow_direct':true,"
                                + "'allow_rollup_hdrs':true,'duplicate_window':60000000000,'max_msgs_per_subject':2,"
                                + "'max_bytes':100000,'max_msg_size':512,'deny_delete':true}"),
                        req(INFO + "UP", "{'subjects_filter':'>'}"),
                        pub("up2.x", "y")),
                sc("streamUpdateMissingStream", req(UPDATE + "NOPE", "{'name':'NOPE'}")),
                sc("streamUpdateNameMismatch", fPrefix, req(UPDATE + "F", j("{'name':'G'," + f + "}"))),
                sc("streamUpdateStorage", fPrefix, req(UPDATE + "F", j("{'name':'F'," + f + ",'storage':'memory'}"))),
                sc("streamUpdateRetention", fPrefix,
                        req(UPDATE + "F", j("{'name':'F'," + f + ",'retention':'interest'}"))),
                sc("streamUpdateMaxConsumers", fPrefix, req(UPDATE + "F",
                        "{'name':'F','subjects':['f.>'],'deny_delete':true,'deny_purge':true,'max_consumers':6}")),
                sc("streamUpdateCancelDenyDelete", fPrefix, req(UPDATE + "F",
                        "{'name':'F','subjects':['f.>'],'deny_purge':true,'max_consumers':5}")),
                sc("streamUpdateCancelDenyPurge", fPrefix, req(UPDATE + "F",
                        "{'name':'F','subjects':['f.>'],'deny_delete':true,'max_consumers':5}")),
                sc("streamUpdateOverlappingSubjects", fPrefix,
                        create("F2", "'subjects':['f2.>']"),
                        req(UPDATE + "F", j("{'name':'F','subjects':['f.>','f2.x'],'deny_delete':true,"
                                + "'deny_purge':true,'max_consumers':5}"))),
                sc("streamUpdateBadEnum", fPrefix, req(UPDATE + "F", j("{'name':'F'," + f + ",'discard':'x'}"))),
                sc("streamUpdateEmptyBody", fPrefix, req(UPDATE + "F", "")),
                sc("streamUpdateRepublish", fPrefix,
                        req(UPDATE + "F", j("{'name':'F'," + f + ",'republish':{'src':'f.>','dest':'rp.>'}}"))),
                sc("streamCreateRepublishSourceNotSubset",
                        create("RP", "'subjects':['rp.>'],'republish':{'src':'x.>','dest':'out.>'}")),
                sc("streamCreateRepublishCycle",
                        create("RP", "'subjects':['rp.>'],'republish':{'src':'rp.>','dest':'rp.out.>'}")),
                sc("streamCreateInterestRetention", create("RT", "'subjects':['rt'],'retention':'interest'")),
                sc("streamCreateWorkQueueRetention", create("RT", "'subjects':['rt'],'retention':'workqueue'")),
                sc("streamSealedConfigEcho",
                        create("SE", "'subjects':['se.>']"),
                        pub("se.1", "x"),
                        req(UPDATE + "SE", "{'name':'SE','subjects':['se.>'],'sealed':true}"),
                        req(INFO + "SE", "")),
                sc("streamSealedRefusesChanges",
                        create("SE", "'subjects':['se.>']"),
                        pub("se.1", "x"),
                        // what sealing does to the rest of the config is streamSealedConfigEcho's subject
                        req(UPDATE + "SE", "{'name':'SE','subjects':['se.>'],'sealed':true}")
                                .ignoring("config.discard", "config.deny_delete", "config.deny_purge"),
                        pub("se.2", "y"),
                        req(PURGE + "SE", ""),
                        req(MSG_DELETE + "SE", "{'seq':1}"),
                        req(UPDATE + "SE", "{'name':'SE','subjects':['se.>'],'sealed':false}"))));
        return s;
    }

    private static List<Scenario> streamReads() {
        List<Step> g = List.of(
                create("G", "'subjects':['g.>'],'allow_direct':true"),
                pub("g.a", "1"),
                pub("g.b", "2", "X-A", "1", "X-B", "two words"),
                pub("g.a", "3"),
                pub("g.c", ""));
        return List.of(
                sc("streamInfoSubjectsFilterAndDeletedDetails",
                        create("I", "'subjects':['i.>']"),
                        pub("i.a", "1"), pub("i.a", "2"), pub("i.b", "3"), pub("i.c.d", "4"), pub("i.a", "5"),
                        req(MSG_DELETE + "I", "{'seq':2}"),
                        req(MSG_DELETE + "I", "{'seq':4}"),
                        req(INFO + "I", "{'subjects_filter':'>'}"),
                        req(INFO + "I", "{'subjects_filter':'i.a'}"),
                        req(INFO + "I", "{'subjects_filter':'i.*'}"),
                        req(INFO + "I", "{'subjects_filter':'nomatch'}"),
                        req(INFO + "I", "{'subjects_filter':'>','offset':1}"),
                        req(INFO + "I", "{'subjects_filter':'i.*','offset':2}"),
                        req(INFO + "I", "{'subjects_filter':'>','offset':9}"),
                        req(INFO + "I", "{'deleted_details':true}"),
                        req(INFO + "I", "{'deleted_details':true,'subjects_filter':'i.>'}"),
                        req(INFO + "I", "{}")),
                sc("streamInfoNotJson", create("I", "'subjects':['i.>']"), req(INFO + "I", "junk")),
                sc("streamInfoMissing", req(INFO + "NOPE", "")),
                sc("streamNamesAndListEmpty", req(NAMES, ""), req(LIST, "")),
                sc("streamNamesAndListWithSubjectFilterAndPaging",
                        req(CREATE + "KV_b", j("{'name':'KV_b','subjects':['$KV.b.>']}")),
                        req(CREATE + "KV_a", j("{'name':'KV_a','subjects':['$KV.a.>']}")),
                        create("s3", "'subjects':['s3.>']"),
                        create("s1", "'subjects':['s1.*']"),
                        create("s2", "'subjects':['s2.x']"),
                        req(NAMES, ""),
                        req(NAMES, "{'subject':'$KV.*.>'}"),
                        req(NAMES, "{'subject':'s1.x'}"),
                        req(NAMES, "{'subject':'*.x'}"),
                        req(NAMES, "{'subject':'nomatch'}"),
                        req(NAMES, "{'offset':2}"),
                        req(NAMES, "{'offset':10}"),
                        req(LIST, ""),
                        req(LIST, "{'subject':'$KV.*.>'}"),
                        req(LIST, "{'offset':3}")),
                sc("streamNamesNotJson", req(NAMES, "junk")),
                sc("streamPurgeVariants",
                        create("P", "'subjects':['p.>']"),
                        pub("p.a", "1"), pub("p.a", "2"), pub("p.a", "3"), pub("p.b", "4"), pub("p.b", "5"),
                        pub("p.b", "6"), pub("p.c", "7"), pub("p.c", "8"),
                        req(PURGE + "P", "{'filter':'p.a'}"),
                        req(INFO + "P", "{'subjects_filter':'>'}"),
                        req(PURGE + "P", "{'filter':'p.b','keep':1}"),
                        req(PURGE + "P", "{'seq':7}"),
                        req(INFO + "P", "{'subjects_filter':'>'}"),
                        req(PURGE + "P", "{'keep':1}"),
                        req(INFO + "P", ""),
                        req(PURGE + "P", ""),
                        req(INFO + "P", "")),
                sc("streamPurgeFilterWithSeq",
                        create("P", "'subjects':['p.>']"),
                        pub("p.a", "1"), pub("p.b", "2"), pub("p.a", "3"), pub("p.a", "4"),
                        req(PURGE + "P", "{'filter':'p.a','seq':4}"),
                        req(INFO + "P", "{'subjects_filter':'>'}")),
                sc("streamPurgeSeqAndKeep", create("P", "'subjects':['p.>']"), pub("p.a", "1"),
                        req(PURGE + "P", "{'seq':2,'keep':1}")),
                sc("streamPurgeMissingStream", req(PURGE + "NOPE", "")),
                sc("streamPurgeNotJson", create("P", "'subjects':['p.>']"), req(PURGE + "P", "junk")),
                sc("streamPurgeDenied", create("DP", "'subjects':['dp'],'deny_purge':true"), pub("dp", "x"),
                        req(PURGE + "DP", "")),
                sc("streamMsgGet", g,
                        req(MSG_GET + "G", "{'seq':1}"),
                        req(MSG_GET + "G", "{'seq':2}"),
                        req(MSG_GET + "G", "{'seq':4}"),
                        req(MSG_GET + "G", "{'last_by_subj':'g.a'}"),
                        req(MSG_GET + "G", "{'next_by_subj':'g.a','seq':2}"),
                        req(MSG_GET + "G", "{'next_by_subj':'g.a'}"),
                        req(MSG_GET + "G", "{'next_by_subj':'g.*','seq':2}"),
                        req(MSG_GET + "G", "{'last_by_subj':'g.*'}")),
                sc("streamMsgGetMissing", g,
                        req(MSG_GET + "G", "{'seq':99}"),
                        req(MSG_GET + "G", "{'last_by_subj':'g.zz'}"),
                        req(MSG_GET + "G", "{'next_by_subj':'g.a','seq':4}")),
                sc("streamMsgGetBadRequests", g,
                        req(MSG_GET + "G", "{}"),
                        req(MSG_GET + "G", "junk"),
                        req(MSG_GET + "NOPE", "{'seq':1}")),
                sc("streamMsgGetEmptyBody", g, req(MSG_GET + "G", "")),
                sc("streamMsgGetSeqAndLastBySubject", g, req(MSG_GET + "G", "{'seq':1,'last_by_subj':'g.a'}")),
                sc("streamMsgDelete",
                        create("D", "'subjects':['d.>']"),
                        pub("d.1", "a"), pub("d.1", "b"), pub("d.2", "c"), pub("d.1", "d"),
                        req(MSG_DELETE + "D", "{'seq':2,'no_erase':true}"),
                        req(MSG_DELETE + "D", "{'seq':2}"),
                        req(MSG_DELETE + "D", "{'seq':3}"),
                        req(MSG_GET + "D", "{'seq':2}"),
                        req(INFO + "D", "{'deleted_details':true}"),
                        req(MSG_DELETE + "D", "{'seq':1}"),
                        req(INFO + "D", "{'deleted_details':true}"),
                        req(MSG_DELETE + "NOPE", "{'seq':1}")),
                sc("streamMsgDeleteNotJson", create("D", "'subjects':['d.>']"), pub("d.1", "a"),
                        req(MSG_DELETE + "D", "junk")),
                sc("streamMsgDeleteEmptyRequest", create("D", "'subjects':['d.>']"), pub("d.1", "a"),
                        req(MSG_DELETE + "D", "{}")),
                sc("streamMsgDeleteBeyondLastSequence", create("D", "'subjects':['d.>']"), pub("d.1", "a"),
                        req(MSG_DELETE + "D", "{'seq':99}")),
                sc("streamMsgDeleteDenied", create("DD", "'subjects':['dd'],'deny_delete':true"), pub("dd", "x"),
                        req(MSG_DELETE + "DD", "{'seq':1}")),
                sc("directGet", g,
                        raw(DIRECT + "G", "{'seq':1}", 1),
                        raw(DIRECT + "G", "{'seq':2}", 1),
                        raw(DIRECT + "G", "{'seq':4}", 1),
                        raw(DIRECT + "G", "{'last_by_subj':'g.a'}", 1),
                        raw(DIRECT + "G", "{'next_by_subj':'g.a','seq':2}", 1),
                        raw(DIRECT + "G.g.a", "", 1),
                        raw(DIRECT + "G.g.b", "", 1)),
                sc("directGetNotFound", g,
                        raw(DIRECT + "G", "{'seq':99}", 1),
                        raw(DIRECT + "G", "{'last_by_subj':'g.zz'}", 1),
                        raw(DIRECT + "G.g.zz", "", 1)),
                sc("directGetBadRequests", g,
                        raw(DIRECT + "G", "{}", 1),
                        raw(DIRECT + "G", "", 1),
                        raw(DIRECT + "G", "junk", 1),
                        raw(DIRECT + "G.g.a", "{'seq':1}", 1)),
                sc("directGetWithoutAllowDirect", create("ND", "'subjects':['nd']"), pub("nd", "x"),
                        raw(DIRECT + "ND", "{'seq':1}", 1, 500)),
                sc("streamDelete",
                        create("X", "'subjects':['x.>']"),
                        req(DELETE + "X", ""),
                        req(DELETE + "X", ""),
                        req(INFO + "X", ""),
                        quiet(DELETE + "a.b", ""),
                        req(NAMES, "")));
    }

    private static List<Scenario> publishing() {
        return List.of(
                sc("publishAckAndNoStream", create("PA", "'subjects':['pa.>']"),
                        pub("pa.1", "x"), pub("pa.2", ""), pub("nostream.here", "x")),
                sc("publishDuplicateMsgId",
                        create("PD", "'subjects':['pd.>']"),
                        pub("pd.1", "a", "Nats-Msg-Id", "m1"),
                        pub("pd.1", "a", "Nats-Msg-Id", "m1"),
                        pub("pd.2", "b", "Nats-Msg-Id", "m1"),
                        pub("pd.1", "c", "Nats-Msg-Id", "m2"),
                        req(INFO + "PD", "")),
                sc("publishExpectedStream", create("ES", "'subjects':['es']"),
                        pub("es", "x", "Nats-Expected-Stream", "OTHER"),
                        pub("es", "x", "Nats-Expected-Stream", "ES")),
                sc("publishExpectedLastSequence", create("EL", "'subjects':['el.>']"),
                        pub("el.a", "x", "Nats-Expected-Last-Sequence", "5"),
                        pub("el.a", "x", "Nats-Expected-Last-Sequence", "0"),
                        pub("el.b", "x", "Nats-Expected-Last-Sequence", "0"),
                        pub("el.b", "x", "Nats-Expected-Last-Sequence", "1"),
                        pub("el.b", "x", "Nats-Expected-Last-Sequence", "abc")),
                sc("publishExpectedLastSubjectSequence", create("ESS", "'subjects':['ess.>']"),
                        pub("ess.a", "1", "Nats-Expected-Last-Subject-Sequence", "0"),
                        pub("ess.b", "2", "Nats-Expected-Last-Subject-Sequence", "0"),
                        pub("ess.a", "3", "Nats-Expected-Last-Subject-Sequence", "0"),
                        pub("ess.a", "4", "Nats-Expected-Last-Subject-Sequence", "2"),
                        pub("ess.a", "5", "Nats-Expected-Last-Subject-Sequence", "1"),
                        req(PURGE + "ESS", "{'filter':'ess.a'}"),
                        pub("ess.a", "6", "Nats-Expected-Last-Subject-Sequence", "3"),
                        pub("ess.a", "7", "Nats-Expected-Last-Subject-Sequence", "0")),
                sc("publishExpectedLastMsgId", create("EM", "'subjects':['em']"),
                        pub("em", "1", "Nats-Msg-Id", "a"),
                        pub("em", "2", "Nats-Expected-Last-Msg-Id", "zzz"),
                        pub("em", "3", "Nats-Expected-Last-Msg-Id", "a"),
                        pub("em", "4", "Nats-Expected-Last-Msg-Id", "a")),
                sc("publishHeadersStoredVerbatim", create("HV", "'subjects':['hv']"),
                        pub("hv", "1", "Nats-Msg-Id", "h1", "Nats-Expected-Last-Sequence", "0", "Custom", "v"),
                        req(MSG_GET + "HV", "{'seq':1}")),
                sc("publishRollupSub", create("R", "'subjects':['r.>'],'allow_rollup_hdrs':true"),
                        pub("r.a", "1"), pub("r.a", "2"), pub("r.b", "3"), pub("r.a", "4"),
                        pub("r.a", "roll", "Nats-Rollup", "sub"),
                        req(INFO + "R", "{'subjects_filter':'>'}"),
                        pub("r.c", "all", "Nats-Rollup", "all"),
                        req(INFO + "R", "{'subjects_filter':'>'}")),
                sc("publishRollupNotPermitted", create("RN", "'subjects':['rn']"),
                        pub("rn", "x", "Nats-Rollup", "sub")),
                sc("publishRollupInvalidValue", create("RI", "'subjects':['ri'],'allow_rollup_hdrs':true"),
                        quiet("ri", "x", "Nats-Rollup", "bogus"),
                        req(INFO + "RI", "")),
                sc("maxMsgsPerSubjectDiscardNew",
                        create("MS", "'subjects':['ms.>'],'discard':'new','max_msgs_per_subject':2"),
                        pub("ms.a", "1"), pub("ms.a", "2"), pub("ms.a", "3"), pub("ms.b", "4"),
                        req(INFO + "MS", "{'subjects_filter':'>'}")),
                sc("discardNewPerSubject",
                        create("DN", "'subjects':['dn.>'],'discard':'new','max_msgs_per_subject':1,"
                                + "'discard_new_per_subject':true"),
                        pub("dn.a", "1"), pub("dn.a", "2"), pub("dn.b", "3")),
                sc("maxMsgSize", create("MM", "'subjects':['mm'],'max_msg_size':10"),
                        pub("mm", "0123456789"),
                        pub("mm", "0123456789a"),
                        pub("mm", "x", "H", "v")),
                sc("maxMsgsDiscardNew", create("MN", "'subjects':['mn'],'max_msgs':2,'discard':'new'"),
                        pub("mn", "1"), pub("mn", "2"), pub("mn", "3"), req(INFO + "MN", "")),
                sc("maxMsgsDiscardOld", create("MO", "'subjects':['mo'],'max_msgs':2"),
                        pub("mo", "1"), pub("mo", "2"), pub("mo", "3"), req(INFO + "MO", "")),
                // 2.9.10 checks discard new against stored bytes + raw payload length (88 + 10 < 100 passes and
                // then drops the oldest); a 20-byte payload is refused
                sc("maxBytesDiscardNew", create("BN", "'subjects':['bn.1'],'max_bytes':100,'discard':'new'"),
                        pub("bn.1", "0123456789"), pub("bn.1", "0123456789"), pub("bn.1", "0123456789"),
                        pub("bn.1", "01234567890123456789"),
                        req(INFO + "BN", "")),
                sc("maxBytesDiscardOld", create("BO", "'subjects':['bo.1'],'max_bytes':100"),
                        pub("bo.1", "0123456789"), pub("bo.1", "0123456789"), pub("bo.1", "0123456789"),
                        req(INFO + "BO", "")),
                sc("maxBytesMemory", create("BM", "'subjects':['bm.1'],'max_bytes':70,'storage':'memory',"
                                + "'discard':'new'"),
                        pub("bm.1", "0123456789"), pub("bm.1", "0123456789"), pub("bm.1", "0123456789"),
                        req(INFO + "BM", "")));
    }

    private static List<Scenario> consumers() {
        return List.of(
                sc("consumerCreateLegacyEphemeral", CS,
                        req(CC + "CS", "{'stream_name':'CS','config':{'ack_policy':'explicit'}}")
                                .ignoring("name", "config.name"),
                        req(CC + "CS", "{'stream_name':'CS','config':{'name':'eph1','ack_policy':'none'}}"),
                        req(C_INFO + "CS.eph1", "")),
                sc("consumerCreateNamed", CS,
                        consumer("CS.c1", "{'ack_policy':'explicit'}"),
                        consumer("CS.c2", "{'name':'zzz','ack_policy':'explicit'}"),
                        consumer("CS.c3", "{'durable_name':'c3','ack_policy':'explicit'}"),
                        consumer("CS.c4", "{'name':'c4','durable_name':'c4','ack_policy':'all','max_deliver':3,"
                                + "'ack_wait':10000000000,'max_ack_pending':20,'max_waiting':16,'max_batch':10,"
                                + "'max_expires':5000000000,'max_bytes':1024,'description':'d','headers_only':true,"
                                + "'inactive_threshold':60000000000,'num_replicas':1,'mem_storage':true}"),
                        req(C_INFO + "CS.c2", ""),
                        req(C_INFO + "CS.zzz", "")),
                sc("consumerCreateBackoffSetsAckWait", CS,
                        consumer("CS.c4", "{'durable_name':'c4','ack_policy':'explicit','max_deliver':3,"
                                + "'ack_wait':10000000000,'backoff':[1000000000,2000000000]}")),
                sc("consumerCreatePush", CS,
                        consumer("CS.p1", "{'deliver_subject':'dlv.p1','ack_policy':'none','deliver_policy':'all',"
                                + "'idle_heartbeat':5000000000,'flow_control':true,'max_deliver':1,"
                                + "'ack_wait':79200000000000,'mem_storage':true,'num_replicas':1}"),
                        consumer("CS.p2", "{'deliver_subject':'dlv.p2','deliver_group':'q','ack_policy':'explicit',"
                                + "'rate_limit_bps':1000000,'sample_freq':'100%'}")),
                sc("consumerCreateReplayOriginal", CS,
                        consumer("CS.p3", "{'ack_policy':'explicit','replay_policy':'original'}")),
                sc("consumerCreateFiltered", CS,
                        consumer("CS.f1.cs.a", "{'filter_subject':'cs.a','ack_policy':'none'}"),
                        consumer("CS.f2.cs.>", "{'filter_subject':'cs.>','ack_policy':'none'}"),
                        consumer("CS.f5.cs.*", "{'filter_subject':'cs.*','ack_policy':'explicit'}"),
                        req(C_INFO + "CS.f1", "")),
                sc("consumerAckFloorAtStartPosition", CS,
                        consumer("CS.l1", "{'ack_policy':'none','deliver_policy':'last'}"),
                        consumer("CS.n1", "{'deliver_subject':'dlv.n1','ack_policy':'none','deliver_policy':'new',"
                                + "'idle_heartbeat':5000000000,'flow_control':true,'max_deliver':1,"
                                + "'ack_wait':79200000000000,'mem_storage':true,'num_replicas':1}"),
                        consumer("CS.s1.cs.*", "{'filter_subject':'cs.*','ack_policy':'explicit',"
                                + "'deliver_policy':'by_start_sequence','opt_start_seq':2}"),
                        consumer("CS.lps.cs.a", "{'filter_subject':'cs.a','ack_policy':'none',"
                                + "'deliver_policy':'last_per_subject'}")),
                sc("consumerCreateActionCreateOnExisting", CS,
                        req(CC + "CS.a1", "{'stream_name':'CS','config':{'ack_policy':'explicit'},'action':'create'}"),
                        req(CC + "CS.a1", "{'stream_name':'CS','config':{'ack_policy':'explicit'},'action':'create'}"),
                        req(CC + "CS.a1", "{'stream_name':'CS','config':{'ack_policy':'explicit','description':'x'},"
                                + "'action':'create'}")),
                sc("consumerCreateActionUpdateOnMissing", CS,
                        req(CC + "CS.a2", "{'stream_name':'CS','config':{'ack_policy':'explicit'},'action':'update'}")),
                sc("consumerCreateFilterMismatch", CS, consumer("CS.f3.cs.a", "{'filter_subject':'cs.b'}")),
                sc("consumerCreateFilterMissingInBody", CS, consumer("CS.f4.cs.a", "{'ack_policy':'none'}")),
                sc("consumerCreateDurableLegacySubject", CS,
                        req(DCC + "CS.d1", "{'stream_name':'CS','config':{'durable_name':'d1','ack_policy':'explicit',"
                                + "'deliver_subject':'dlv.d1'}}"),
                        req(C_INFO + "CS.d1", "")),
                sc("consumerCreateDurableLegacySubjectMismatch", CS,
                        req(DCC + "CS.d2", "{'stream_name':'CS','config':{'durable_name':'zz'}}")),
                sc("consumerCreateDurableLegacySubjectNoDurable", CS,
                        req(DCC + "CS.d3", "{'stream_name':'CS','config':{'ack_policy':'none'}}")),
                sc("consumerCreateEphemeralWithDurable", CS,
                        req(CC + "CS", "{'stream_name':'CS','config':{'durable_name':'x'}}")),
                sc("consumerCreateDurableNameMismatch", CS, consumer("CS.c1", "{'durable_name':'other'}")),
                sc("consumerCreateDurableAndNameDiffer", CS, consumer("CS.c1", "{'durable_name':'c1','name':'c2'}")),
                sc("consumerCreateDurableAndNameDifferLegacySubject", CS,
                        req(DCC + "CS.c1", "{'stream_name':'CS','config':{'durable_name':'c1','name':'c2'}}")),
                sc("consumerCreateStreamNameMismatch", CS,
                        req(CC + "CS.c1", "{'stream_name':'OTHER','config':{'ack_policy':'none'}}")),
                sc("consumerCreateMissingStream",
                        req(CC + "NOPE.c1", "{'stream_name':'NOPE','config':{'ack_policy':'none'}}")),
                sc("consumerCreateFilterNotSubset", CS, consumer("CS.c1", "{'filter_subject':'zz.>'}")),
                sc("consumerCreateLastPerSubjectWithoutFilter", CS,
                        consumer("CS.c1", "{'deliver_policy':'last_per_subject'}")),
                sc("consumerCreateStartSequenceMissing", CS,
                        consumer("CS.c1", "{'deliver_policy':'by_start_sequence'}")),
                sc("consumerCreateStartTimeMissing", CS, consumer("CS.c1", "{'deliver_policy':'by_start_time'}")),
                sc("consumerCreateHeartbeatOnPull", CS, consumer("CS.c1", "{'idle_heartbeat':5000000000}")),
                sc("consumerCreateHeartbeatTooSmall", CS,
                        consumer("CS.c1", "{'deliver_subject':'dlv.x','idle_heartbeat':50000000}")),
                sc("consumerCreateFlowControlWithoutHeartbeat", CS,
                        consumer("CS.c1", "{'deliver_subject':'dlv.x','flow_control':true}")),
                sc("consumerCreateFlowControlOnPull", CS,
                        consumer("CS.c1", "{'flow_control':true,'idle_heartbeat':5000000000}")),
                sc("consumerCreateDeliverSubjectWildcard", CS, consumer("CS.c1", "{'deliver_subject':'dlv.*'}")),
                sc("consumerCreateMaxWaitingOnPush", CS,
                        consumer("CS.c1", "{'deliver_subject':'dlv.x','max_waiting':10}")),
                sc("consumerCreateMaxAckPendingWithAckNone", CS,
                        consumer("CS.c1", "{'deliver_subject':'dlv.x','ack_policy':'none','max_ack_pending':10}")),
                sc("consumerCreateBackoffVersusMaxDeliver", CS,
                        consumer("CS.c1", "{'ack_policy':'explicit','max_deliver':2,"
                                + "'backoff':[1000000000,2000000000]}")),
                sc("consumerCreateBadEnum", CS, consumer("CS.c1", "{'ack_policy':'bogus'}")),
                sc("consumerCreateEmptyBody", CS, req(CC + "CS.c1", "")),
                sc("consumerCreateNameWithDotInBody", CS,
                        req(CC + "CS", "{'stream_name':'CS','config':{'name':'a.b'}}")),
                sc("consumerCreateDurableWithDotInBody", CS,
                        req(DCC + "CS.x", "{'stream_name':'CS','config':{'durable_name':'a.b'}}")),
                sc("consumerRecreateDurable", CS,
                        consumer("CS.d1", "{'durable_name':'d1','ack_policy':'explicit'}"),
                        consumer("CS.d1", "{'durable_name':'d1','ack_policy':'explicit'}"),
                        consumer("CS.d1", "{'durable_name':'d1','ack_policy':'explicit','description':'x',"
                                + "'max_deliver':5,'ack_wait':20000000000}"),
                        req(C_INFO + "CS.d1", "")),
                sc("consumerRecreateAckPolicy", CS, consumer("CS.d1", "{'durable_name':'d1','ack_policy':'explicit'}"),
                        consumer("CS.d1", "{'durable_name':'d1','ack_policy':'all'}")),
                sc("consumerRecreateDeliverPolicy", CS,
                        consumer("CS.d1", "{'durable_name':'d1','ack_policy':'explicit'}"),
                        consumer("CS.d1", "{'durable_name':'d1','ack_policy':'explicit','deliver_policy':'last'}")),
                sc("consumerRecreatePullToPush", CS,
                        consumer("CS.d1", "{'durable_name':'d1','ack_policy':'explicit'}"),
                        consumer("CS.d1", "{'durable_name':'d1','ack_policy':'explicit','deliver_subject':'dlv.d1'}")),
                sc("consumerRecreateFilter", CS,
                        consumer("CS.d1", "{'durable_name':'d1','ack_policy':'explicit','filter_subject':'cs.a'}"),
                        consumer("CS.d1", "{'durable_name':'d1','ack_policy':'explicit','filter_subject':'cs.b'}")),
                sc("consumerInfoNamesListDelete", CS,
                        consumer("CS.c2", "{'ack_policy':'explicit'}"),
                        consumer("CS.c1", "{'ack_policy':'explicit'}"),
                        consumer("CS.c3", "{'deliver_subject':'dlv.c3','ack_policy':'none'}"),
                        req(C_INFO + "CS.c1", ""),
                        req(C_INFO + "CS.c3", ""),
                        req(C_INFO + "CS.nope", ""),
                        req(C_INFO + "NOPE.c1", ""),
                        req(C_NAMES + "CS", ""),
                        req(C_NAMES + "CS", "{'offset':1}"),
                        req(C_LIST + "CS", ""),
                        req(C_LIST + "CS", "{'offset':2}"),
                        req(C_NAMES + "NOPE", ""),
                        req(C_DELETE + "CS.c2", ""),
                        req(C_DELETE + "CS.c2", ""),
                        req(C_DELETE + "NOPE.c2", ""),
                        req(C_NAMES + "CS", ""),
                        req(INFO + "CS", "")),
                sc("consumerNamesEmpty", CS, req(C_NAMES + "CS", ""), req(C_LIST + "CS", "")));
    }

    private static List<Scenario> pulls() {
        List<Step> pl = List.of(
                create("PL", "'subjects':['pl.>']"),
                pub("pl.a", "1"), pub("pl.b", "2", "K", "v"), pub("pl.a", "3"),
                req(CC + "PL.p", "{'stream_name':'PL','config':{'durable_name':'p','ack_policy':'explicit',"
                        + "'max_batch':5}}"));
        return List.of(
                sc("pullNoWait", pl,
                        raw(NEXT + "PL.p", "{'batch':2,'no_wait':true}", 2),
                        raw(NEXT + "PL.p", "{'batch':5,'no_wait':true}", 6, 1000),
                        raw(NEXT + "PL.p", "{'batch':1,'no_wait':true}", 1),
                        req(C_INFO + "PL.p", "")),
                sc("pullPlainIntegerAndEmptyBody", pl,
                        raw(NEXT + "PL.p", "2", 2),
                        raw(NEXT + "PL.p", "", 1),
                        req(C_INFO + "PL.p", "")),
                sc("pullExpires", pl,
                        raw(NEXT + "PL.p", "{'batch':3}", 3),
                        raw(NEXT + "PL.p", "{'batch':5,'expires':300000000}", 1),
                        req(C_INFO + "PL.p", "")),
                sc("pullExpiresPartial", pl,
                        raw(NEXT + "PL.p", "{'batch':5,'expires':300000000}", 4)),
                sc("pullBatchOverMax", pl, raw(NEXT + "PL.p", "{'batch':10}", 1)),
                sc("pullHeartbeatTooLarge", pl,
                        raw(NEXT + "PL.p", "{'batch':1,'expires':1000000000,'idle_heartbeat':900000000}", 1)),
                sc("pullNotJson", pl, raw(NEXT + "PL.p", "junk", 1, 500)),
                sc("pullMalformedJson", pl, raw(NEXT + "PL.p", "{junk", 1, 500)),
                sc("pullOnPushConsumer", pl,
                        req(CC + "PL.push", "{'stream_name':'PL','config':{'deliver_subject':'dlv.push'}}"),
                        raw(NEXT + "PL.push", "{'batch':1,'no_wait':true}", 1)),
                sc("pullMissingConsumer", pl, quiet(NEXT + "PL.nope", "{'batch':1,'no_wait':true}")),
                sc("filteredConsumersDeliveredPastSkippedMessages", pl,
                        req(CC + "PL.fq", "{'stream_name':'PL','config':{'durable_name':'fq','filter_subject':'pl.b',"
                                + "'ack_policy':'explicit'}}"),
                        raw(NEXT + "PL.fq", "{'batch':1,'no_wait':true}", 1),
                        raw(NEXT + "PL.fq", "{'batch':1,'no_wait':true}", 1),
                        req(C_INFO + "PL.fq", ""),
                        raw(NEXT + "PL.fq", "{'batch':1,'expires':200000000}", 1),
                        req(C_INFO + "PL.fq", "")));
    }

    /**
     * Request bodies as clients send them when they have no options or get them wrong: the Go clients (the
     * {@code nats} CLI) marshal a nil request as {@code null}; empty, blank, malformed, non-object, trailing bytes,
     * wrong-typed and unknown fields. Every {@code $JS.API} subject gets each of them, on a stream with a message
     * and a durable consumer, and must answer as the reference's Go decoder does.
     */
    static final List<String> BODIES = List.of("", "null", "{}", " ", "{bad", "[]", "{} x", "{'unknown_field':1}",
            "{'name':5,'stream_name':5,'config':5,'offset':'x','seq':'x','subject':5,'filter':5,"
                    + "'deleted_details':'x','subjects_filter':5,'last_by_subj':5,'keep':'x'}",
            "{'SEQ':1,'OFFSET':0}");

    private static List<Scenario> bodies() {
        List<Step> setup = List.of(
                create("BS", "'subjects':['bs.>'],'allow_direct':true"),
                pub("bs.a", "one"), pub("bs.b", "two"),
                req(CC + "BS.D", "{'stream_name':'BS','config':{'durable_name':'D','ack_policy':'explicit'}}"));
        List<Scenario> s = new ArrayList<>();
        for (String subject : List.of(API + "INFO", CREATE + "BS2", UPDATE + "BS", INFO + "BS", NAMES, LIST,
                PURGE + "BS", MSG_GET + "BS", MSG_DELETE + "BS", DELETE + "BS", CC + "BS", CC + "BS.C2",
                CC + "BS.C3.bs.a", DCC + "BS.C4", C_INFO + "BS.D", C_DELETE + "BS.D", C_NAMES + "BS", C_LIST + "BS",
                API + "STREAM.LEADER.STEPDOWN.BS", API + "STREAM.PEER.REMOVE.BS",
                API + "CONSUMER.LEADER.STEPDOWN.BS.D", API + "STREAM.TEMPLATE.NAMES",
                API + "STREAM.TEMPLATE.INFO.t", API + "STREAM.TEMPLATE.DELETE.t", API + "STREAM.TEMPLATE.CREATE.t",
                API + "STREAM.SNAPSHOT.BS", API + "STREAM.RESTORE.BS")) {
            List<Step> steps = new ArrayList<>(setup);
            for (String body : BODIES) {
                // account storage in 2.9.10 counts its file store's overhead; JetKV counts the stored messages
                steps.add(subject.equals(API + "INFO") ? req(subject, body).ignoring("storage") : req(subject, body));
            }
            s.add(new Scenario("bodies " + subject.substring(API.length()), steps));
        }
        List<Step> direct = new ArrayList<>(setup);
        for (String body : BODIES) {
            direct.add(raw(DIRECT + "BS", body, 1));
        }
        s.add(new Scenario("bodies DIRECT.GET", direct));
        s.add(sc("bodies missing stream", req(DELETE + "NOPE", "null"), req(C_INFO + "NOPE.D", "{bad"),
                req(C_DELETE + "NOPE.D", "{'a':1}"), req(C_NAMES + "NOPE", "{bad"), req(C_LIST + "NOPE", "null"),
                req(INFO + "NOPE", "{bad"), req(PURGE + "NOPE", "null"), req(PURGE + "NOPE", "{bad"),
                req(MSG_GET + "NOPE", "null"), req(MSG_DELETE + "NOPE", "null"), req(MSG_DELETE + "NOPE", "{bad")));
        s.add(sc("bodies large and negative sequences", setup,
                req(MSG_GET + "BS", "{'seq':18446744073709551615}"), req(MSG_GET + "BS", "{'seq':9223372036854775808}"),
                req(MSG_GET + "BS", "{'seq':18446744073709551616}"), req(MSG_GET + "BS", "{'seq':-1}"),
                req(MSG_GET + "BS", "{'seq':1.0}"), req(MSG_DELETE + "BS", "{'seq':0}"),
                req(MSG_DELETE + "BS", "{'seq':-3}"), req(MSG_DELETE + "BS", "{'no_erase':true}"),
                req(PURGE + "BS", "{'seq':-1}"), req(PURGE + "BS", "{'keep':18446744073709551615}")));
        s.add(sc("empty subject tokens get no-responders", quiet(API + "STREAM.INFO.", ""),
                quiet(CREATE + ".x", "{}"), quiet(API, "")));
        s.add(sc("stream config validation", setup,
                create("R", "'num_replicas':-1"), create("R6", "'num_replicas':6"), create("R3", "'num_replicas':3"),
                req(UPDATE + "BS", "{'name':'Y','num_replicas':-1}"), req(UPDATE + "BS", "{'name':'Y','max_age':-1}"),
                req(UPDATE + "BS", "{'name':'Y'}")));
        s.add(sc("streamLimitsBelowMinusOne", setup,
                create("NEG", "'max_msgs':-5,'max_bytes':-7,'max_msg_size':-9,'max_msgs_per_subject':-4"),
                pub("NEG", "fits"), req(INFO + "NEG", "")));
        s.add(sc("first_ts of an emptied file stream: epoch after a delete, zero time after a purge", setup,
                req(MSG_DELETE + "BS", "{'seq':1}"), req(MSG_DELETE + "BS", "{'seq':2}"), req(INFO + "BS", ""),
                pub("bs.c", "three"), req(PURGE + "BS", ""), req(INFO + "BS", ""),
                create("MEM", "'storage':'memory'"), pub("MEM", "x"), req(MSG_DELETE + "MEM", "{'seq':1}"),
                req(INFO + "MEM", "")));
        s.add(sc("consumerNameTooLong", setup, consumerOn("BS", "{'name':'" + "n".repeat(256) + "'}")));
        s.add(sc("consumer config validation", setup,
                consumerOn("BS", "{'num_replicas':-1}"),
                consumerOn("BS", "{'max_waiting':-2}")));
        return s;
    }

    private static Step consumerOn(String stream, String config) {
        return req(CC + stream, "{'stream_name':'" + stream + "','config':" + config + "}");
    }

    // --- running ---------------------------------------------------------------------------------------

    @BeforeAll
    static void startServers() throws Exception {
        assumeTrue(ReferenceServer.available(), "nats-server is not installed");
        Path jkDir = Files.createDirectories(dirs.resolve("jetkv"));
        Path refDir = Files.createDirectories(dirs.resolve("reference"));
        // strict: false, as 2.9.10 decodes: unknown request fields are ignored (StrictJsonIT covers strict mode)
        jetkv = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(jkDir).withStrict(false)));
        reference = ReferenceServer.start("-js", "-sd", refDir.toString());
        jk = new Side("jetkv", jetkv.port());
        ref = new Side("nats-server", reference.port());
    }

    @AfterAll
    static void stopServers() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {jk, ref, jetkv, reference}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void jetkvRepliesLikeTheReference(Scenario scenario) throws IOException {
        String divergence = DIVERGENCES.get(scenario.name());
        assumeTrue(divergence == null || RUN_DIVERGENCES, () -> "divergence: " + divergence);
        String newer = VERSION_DIFFERENCES.get(scenario.name());
        assumeTrue(newer == null || RUN_DIVERGENCES, () -> "2.10 behaviour: " + newer);
        ref.deleteAllStreams();
        jk.deleteAllStreams();
        List<String> report = new ArrayList<>();
        int i = 0;
        for (Step step : scenario.steps()) {
            i++;
            JsonNode expected = ref.run(step);
            JsonNode actual = jk.run(step);
            List<String> diffs = new ArrayList<>();
            if (!(isSilence(expected) && isNoResponders(actual) && step.subject().startsWith(API))) {
                compare(expected, actual, "", step.ignored(), diffs);
            }
            if (DUMP) {
                System.out.println(scenario.name() + " #" + i + " " + step.describe() + "\n  nats-server: " + expected
                        + "\n  jetkv:       " + actual);
            }
            if (!diffs.isEmpty()) {
                report.add("step " + i + ": " + step.describe() + "\n    " + String.join("\n    ", diffs)
                        + "\n    nats-server: " + expected + "\n    jetkv:       " + actual);
            }
        }
        if (!report.isEmpty()) {
            fail(scenario.name() + " differs from nats-server:\n" + String.join("\n", report));
        }
    }

    /**
     * Pub acks byte for byte: nats-server writes them with a format string ({@code {"stream":"S", "seq":1}}, and
     * {@code ,"duplicate": true}), which {@code nats req} prints; error acks are JSON-encoded.
     */
    @org.junit.jupiter.api.Test
    void pubAckBytesMatchTheReference() throws IOException {
        List<Step> steps = List.of(pub("ab.x", "one"), pub("ab.x", "two", "Nats-Msg-Id", "m"),
                pub("ab.x", "two", "Nats-Msg-Id", "m"), pub("ab.x", "three", "Nats-Expected-Stream", "other"));
        for (Side side : new Side[] {ref, jk}) {
            side.deleteAllStreams();
            side.run(create("AB", "'subjects':['ab.>']"));
        }
        for (Step step : steps) {
            assertEquals(ref.rawReply(step), jk.rawReply(step), step.describe());
        }
    }

    /**
     * Where the reference stays silent, JetKV answers: unknown operations and wrong token counts get no-responders
     * at once, the cluster operations a single server cannot serve get 10010, as the stream-level ones do there.
     */
    @org.junit.jupiter.api.Test
    void everyApiRequestIsAnswered() throws IOException {
        for (String subject : List.of(API + "FOO", API + "STREAM.INFO", INFO + "A.B", API + "CONSUMER.INFO.S",
                API + "STREAM.INFO.", API)) {
            JsonNode r = jk.run(quiet(subject, ""));
            assertTrue(isNoResponders(r), subject + ": " + r);
        }
        for (String subject : List.of(API + "META.LEADER.STEPDOWN", API + "SERVER.REMOVE")) {
            JsonNode r = jk.run(req(subject, ""));
            assertEquals(10010, r.path("error").path("err_code").asInt(), subject + ": " + r);
        }
    }

    /** Every divergence names a scenario that exists, so the list cannot rot silently. */
    @org.junit.jupiter.api.Test
    void divergencesNameRealScenarios() {
        Set<String> names = new java.util.HashSet<>();
        scenarios().forEach(s -> assertTrue(names.add(s.name()), "duplicate scenario " + s.name()));
        for (String d : DIVERGENCES.keySet()) {
            assertTrue(names.contains(d), "unknown scenario in DIVERGENCES: " + d);
        }
        for (String d : VERSION_DIFFERENCES.keySet()) {
            assertTrue(names.contains(d), "unknown scenario in VERSION_DIFFERENCES: " + d);
        }
    }

    // --- comparison ------------------------------------------------------------------------------------

    private static void compare(JsonNode ref, JsonNode ours, String path, List<String> ignored, List<String> diffs) {
        if (isIgnored(path, ignored)) {
            return;
        }
        if (isEmptyList(ref) && isEmptyList(ours)) {
            return; // 2.9.10 sends null for an empty list; [] is equally accepted by every client
        }
        if (ref.isObject() && ours.isObject()) {
            boolean errorReply = path.isEmpty() && ref.has("error");
            for (Iterator<Map.Entry<String, JsonNode>> it = ref.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String p = join(path, e.getKey());
                if (IGNORED_KEYS.contains(e.getKey()) || isIgnored(p, ignored)) {
                    continue;
                }
                if (errorReply && !ours.has(e.getKey()) && isZero(e.getValue())) {
                    // 2.9.10 leaves zeroed success fields (total/offset/limit, purged, streams, deliver_subject) in error replies
                    // through struct embedding; the spec says they are omitted, and no client reads them
                    continue;
                }
                JsonNode o = ours.get(e.getKey());
                if (o == null) {
                    diffs.add(p + ": missing in jetkv (nats-server: " + e.getValue() + ")");
                } else {
                    compare(e.getValue(), o, p, ignored, diffs);
                }
            }
            for (Iterator<String> it = ours.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                String p = join(path, k);
                if (!ref.has(k) && !IGNORED_KEYS.contains(k) && !NEWER_FIELDS.contains(k) && !NEWER_FIELDS.contains(p)
                        && !isIgnored(p, ignored)) {
                    diffs.add(p + ": only in jetkv (" + ours.get(k) + ")");
                }
            }
        } else if (ref.isArray() && ours.isArray()) {
            if (ref.size() != ours.size()) {
                diffs.add(path + ": nats-server has " + ref.size() + " elements, jetkv " + ours.size());
            }
            for (int i = 0; i < Math.min(ref.size(), ours.size()); i++) {
                compare(ref.get(i), ours.get(i), join(path, String.valueOf(i)), ignored, diffs);
            }
        } else if (ref.isNumber() && ours.isNumber()) {
            if (ref.decimalValue().compareTo(ours.decimalValue()) != 0) {
                diffs.add(path + ": nats-server " + ref + ", jetkv " + ours);
            }
        } else if (!ref.equals(ours)) {
            diffs.add((path.isEmpty() ? "reply" : path) + ": nats-server " + ref + ", jetkv " + ours);
        }
    }

    /** Nothing came back. */
    private static boolean isSilence(JsonNode n) {
        return n.isArray() && n.isEmpty();
    }

    /** Exactly one no-responders status. */
    private static boolean isNoResponders(JsonNode n) {
        return n.isArray() && n.size() == 1 && "503".equals(n.get(0).path("status").asText());
    }

    private static boolean isZero(JsonNode n) {
        return isEmptyList(n) || (n.isNumber() && n.asLong() == 0) || (n.isTextual() && n.asText().isEmpty());
    }

    private static boolean isEmptyList(JsonNode n) {
        return n.isNull() || (n.isArray() && n.isEmpty());
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** Ignore patterns are dotted paths; {@code *} stands for one segment. */
    private static boolean isIgnored(String path, List<String> ignored) {
        if (IGNORED_PATHS.contains(path)) {
            return true;
        }
        String[] p = path.split("\\.", -1);
        for (String pattern : ignored) {
            String[] q = pattern.split("\\.", -1);
            if (q.length != p.length) {
                continue;
            }
            boolean match = true;
            for (int i = 0; i < q.length && match; i++) {
                match = q[i].equals("*") || q[i].equals(p[i]);
            }
            if (match) {
                return true;
            }
        }
        return false;
    }

    /** Timestamps become {@code <time>} when well-formed and not the zero time, so only their shape counts. */
    private static JsonNode normalise(JsonNode n) {
        if (n.isObject()) {
            ObjectNode o = (ObjectNode) n;
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (TIME_KEYS.contains(e.getKey()) && e.getValue().isTextual()) {
                    e.setValue(TextNode.valueOf(time(e.getValue().asText())));
                } else {
                    normalise(e.getValue());
                }
            }
        } else if (n.isArray()) {
            n.forEach(JetStreamApiDifferentialIT::normalise);
        }
        return n;
    }

    private static String time(String s) {
        return !s.equals(ZERO_TIME) && RFC3339.matcher(s).matches() ? "<time>" : s;
    }

    // --- one server ------------------------------------------------------------------------------------

    /** A raw connection to one server; each step subscribes its own inbox with a fresh sid. */
    private static final class Side implements AutoCloseable {
        private final String who;
        private final RawClient client;
        private int nextSid = 1;

        Side(String who, int port) throws IOException {
            this.who = who;
            this.client = new RawClient(port);
            client.send(CONNECT + "PING\r\n");
            client.readUntil("PONG\r\n");
        }

        /** Runs a step that expects one plain reply and returns its payload as sent. */
        String rawReply(Step step) throws IOException {
            int sid = nextSid++;
            String inbox = "_R." + sid;
            client.send("SUB " + inbox + " " + sid + "\r\n" + publish(step, inbox));
            List<Frame> frames = collect(step, sid);
            client.send("UNSUB " + sid + "\r\n");
            return frames.size() == 1 ? new String(frames.get(0).payload(), StandardCharsets.UTF_8) : frames.toString();
        }

        /** Runs one step and returns what came back, normalised, as JSON. */
        JsonNode run(Step step) throws IOException {
            int sid = nextSid++;
            String inbox = "_R." + sid;
            client.send("SUB " + inbox + " " + sid + "\r\n" + publish(step, inbox));
            List<Frame> frames = collect(step, sid);
            client.send("UNSUB " + sid + "\r\n");
            if (step.kind() == Kind.JSON && frames.size() == 1 && frames.get(0).headers() == null) {
                try {
                    return normalise(JSON.readTree(frames.get(0).payload()));
                } catch (IOException notJson) {
                    // falls through to the raw form, which shows the text
                }
            }
            ArrayNode out = NODES.arrayNode();
            for (Frame f : frames) {
                out.add(f.toJson(inbox));
            }
            return out;
        }

        private static String publish(Step step, String reply) {
            byte[] body = step.body().getBytes(StandardCharsets.UTF_8);
            if (step.headers().isEmpty()) {
                return "PUB " + step.subject() + " " + reply + " " + body.length + "\r\n" + step.body() + "\r\n";
            }
            StringBuilder h = new StringBuilder("NATS/1.0\r\n");
            for (int i = 0; i < step.headers().size(); i += 2) {
                h.append(step.headers().get(i)).append(": ").append(step.headers().get(i + 1)).append("\r\n");
            }
            h.append("\r\n");
            int hlen = h.toString().getBytes(StandardCharsets.UTF_8).length;
            return "HPUB " + step.subject() + " " + reply + " " + hlen + " " + (hlen + body.length) + "\r\n" + h
                    + step.body() + "\r\n";
        }

        private List<Frame> collect(Step step, int sid) throws IOException {
            List<Frame> frames = new ArrayList<>();
            long deadline = System.nanoTime() + step.waitMs() * 1_000_000L;
            try {
                while (step.kind() == Kind.QUIET || frames.size() < step.max()) {
                    long left = (deadline - System.nanoTime()) / 1_000_000L;
                    if (left <= 0) {
                        break;
                    }
                    client.readTimeout((int) left);
                    Frame f = readFrame();
                    if (f == null || f.sid() != sid) {
                        continue; // PING/PONG/+OK, or a late answer to an earlier step
                    }
                    frames.add(f);
                    if (f.isTerminalStatus()) {
                        break;
                    }
                }
            } catch (SocketTimeoutException timeout) {
                // the step's listening time is over; what arrived is the answer
            } finally {
                client.readTimeout(GUARD_MS);
            }
            return frames;
        }

        /** Reads one server op; returns the delivered message, or null for anything else. */
        private Frame readFrame() throws IOException {
            String line = client.readLine();
            String trimmed = line.substring(0, line.length() - 2);
            String[] t = trimmed.split(" +");
            switch (t[0]) {
                case "PING":
                    client.send("PONG\r\n");
                    return null;
                case "MSG": {
                    // MSG <subject> <sid> [reply] <size>
                    int size = Integer.parseInt(t[t.length - 1]);
                    byte[] payload = payload(size);
                    return new Frame(t[1], Integer.parseInt(t[2]), t.length == 5 ? t[3] : null, null, payload);
                }
                case "HMSG": {
                    // HMSG <subject> <sid> [reply] <header size> <total size>
                    int hlen = Integer.parseInt(t[t.length - 2]);
                    int total = Integer.parseInt(t[t.length - 1]);
                    byte[] all = payload(total);
                    String headers = new String(all, 0, hlen, StandardCharsets.UTF_8);
                    byte[] payload = Arrays.copyOfRange(all, hlen, total);
                    return new Frame(t[1], Integer.parseInt(t[2]), t.length == 6 ? t[3] : null, headers, payload);
                }
                case "-ERR":
                    return new Frame("-ERR", -1, null, null, trimmed.getBytes(StandardCharsets.UTF_8));
                default:
                    return null;
            }
        }

        private byte[] payload(int size) throws IOException {
            byte[] b = client.readExactly(size + 2);
            return Arrays.copyOf(b, size);
        }

        /** Deletes every stream (and so every consumer): each scenario starts from an empty account. */
        void deleteAllStreams() throws IOException {
            JsonNode names = run(req(NAMES, ""));
            JsonNode streams = names.path("streams");
            if (!streams.isArray()) {
                return;
            }
            for (JsonNode name : streams) {
                JsonNode r = run(req(DELETE + name.asText(), ""));
                if (!r.path("success").asBoolean()) {
                    throw new IOException(who + ": could not delete stream " + name + ": " + r);
                }
            }
        }

        @Override
        public void close() throws IOException {
            client.close();
        }
    }

    /** One delivered message; {@code headers} is the raw header block or null. */
    private record Frame(String subject, int sid, String reply, String headers, byte[] payload) {

        String statusLine() {
            if (headers == null) {
                return null;
            }
            String first = headers.substring(0, headers.indexOf("\r\n"));
            return first.length() > "NATS/1.0".length() ? first.substring("NATS/1.0 ".length()) : null;
        }

        /** A status other than 100 (heartbeat/flow control) ends a pull or a direct get. */
        boolean isTerminalStatus() {
            String s = statusLine();
            return s != null && !s.startsWith("100");
        }

        JsonNode toJson(String inbox) {
            ObjectNode o = NODES.objectNode();
            o.put("subject", subject.equals(inbox) ? "<inbox>" : subject);
            if (reply != null) {
                o.put("reply", normaliseReply(reply));
            }
            if (headers != null) {
                String status = statusLine();
                if (status != null) {
                    o.put("status", status);
                }
                ArrayNode h = o.putArray("headers");
                String[] lines = headers.split("\r\n");
                for (int i = 1; i < lines.length; i++) {
                    String line = lines[i];
                    if (line.startsWith("Nats-Time-Stamp: ")) {
                        line = "Nats-Time-Stamp: " + time(line.substring("Nats-Time-Stamp: ".length()));
                    }
                    h.add(line);
                }
            }
            o.put("data", new String(payload, StandardCharsets.UTF_8));
            return o;
        }

        /** The 8th token of a v1 ack subject is the store time in nanoseconds. */
        private static String normaliseReply(String reply) {
            String[] t = reply.split("\\.");
            if (reply.startsWith("$JS.ACK.") && t.length == 9) {
                t[7] = "<ts>";
                return String.join(".", t);
            }
            return reply;
        }
    }
}
