package io.jetkv.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Maps a parsed config tree onto a {@link ServerConfig.Builder}, with nats-server's key names and
 * aliases (case-insensitive, as nats-server compares them). Every error names the file, line and key.
 */
final class ConfigMapping {

    /**
     * nats-server fields about log formatting and process housekeeping: accepted so that existing
     * config files load, reported as warnings because they change nothing here.
     */
    private static final Set<String> IGNORED = Set.of(
            "logtime", "logtime_utc", "syslog", "remote_syslog",
            "log_size_limit", "logfile_size_limit", "max_traced_msg_len", "connect_error_reports",
            "reconnect_error_reports");

    private ConfigMapping() {}

    static List<String> apply(Map<String, ConfValue> root, ServerConfig.Builder b) throws ConfigException {
        List<String> warnings = new ArrayList<>();
        LogConfig log = b.log();
        Boolean allowNonTls = null;
        List<AccountConfig> accounts = List.of();
        String noAuthUser = null;
        OpsConfig ops = b.ops();
        for (Map.Entry<String, ConfValue> e : root.entrySet()) {
            String key = e.getKey();
            ConfValue v = e.getValue();
            switch (key.toLowerCase(Locale.ROOT)) {
                case "port" -> b.port(port(key, v));
                case "host", "net" -> b.host(string(key, v));
                case "listen" -> {
                    HostPort hp = hostPort(key, v);
                    if (hp.host != null) {
                        b.host(hp.host);
                    }
                    b.port(hp.port);
                }
                case "server_name" -> b.serverName(string(key, v));
                case "server_tags" -> b.serverTags(serverTags(key, v));
                case "max_payload" -> b.maxPayload(intSize(key, v));
                case "max_connections", "max_conn" -> b.maxConnections(intRange(key, v, 0, Integer.MAX_VALUE));
                case "max_control_line" -> b.maxControlLine(intSize(key, v));
                case "max_pending" -> b.maxPending(positiveSize(key, v));
                case "ping_interval" -> b.pingInterval(positiveDuration(key, v));
                case "ping_max" -> b.pingMax(intRange(key, v, 0, Integer.MAX_VALUE));
                case "write_deadline" -> b.writeDeadline(positiveDuration(key, v));
                case "debug" -> log = new LogConfig(bool(key, v), log.trace(), log.file());
                case "trace" -> log = new LogConfig(log.debug(), bool(key, v), log.file());
                case "log_file", "logfile" -> log = new LogConfig(log.debug(), log.trace(), path(key, v));
                // the monitoring port keeps -1 (random): 0 means "no monitoring port"
                case "http_port", "monitor_port" -> b.httpPort(intRange(key, v, -1, 65535));
                case "http" -> {
                    HostPort hp = hostPort(key, v);
                    b.httpHost(hp.host);
                    boolean random = v.type() == ConfValue.Type.INTEGER ? v.raw().strip().equals("-1")
                            : v.raw().strip().endsWith(":-1");
                    b.httpPort(random ? -1 : hp.port);
                }
                case "http_base_path" -> b.httpBasePath(basePath(string(key, v)));
                case "max_closed_clients" ->
                        b.monitor(b.monitor().withMaxClosedClients(intRange(key, v, 0, Integer.MAX_VALUE)));
                case "console" -> b.monitor(console(key, v, b.monitor()));
                case "https_port" -> {
                    b.httpPort(intRange(key, v, -1, 65535));
                    b.httpsMonitor(true);
                }
                case "authorization" -> b.auth(authorization(key, v));
                case "pid_file" -> ops = ops.withPidFile(path(key, v));
                case "system_account", "system" -> ops = ops.withSystemAccount(string(key, v));
                case "no_system_account" -> {
                    if (bool(key, v)) {
                        ops = ops.withSystemAccount(null);
                    }
                }
                case "ports_file_dir" -> ops = ops.withPortsFileDir(path(key, v));
                case "lame_duck_duration" -> {
                    Duration d = positiveDuration(key, v);
                    if (d.compareTo(OpsConfig.MIN_LAME_DUCK_DURATION) < 0) {
                        throw new ConfigException(v.where() + ": invalid lame_duck_duration of " + Units.formatDuration(d)
                                + ", minimum is 30 seconds");
                    }
                    ops = ops.withLameDuck(d, ops.lameDuckGracePeriod());
                }
                case "lame_duck_grace_period" -> {
                    Duration d = duration(key, v);
                    if (d.isNegative()) {
                        throw new ConfigException(v.where() + ": invalid lame_duck_grace_period, needs to be positive");
                    }
                    ops = ops.withLameDuck(ops.lameDuckDuration(), d);
                }
                case "jetstream" -> b.jetstream(jetstream(key, v, b.jetstream(), warnings));
                case "cluster" -> b.cluster(cluster(key, v, warnings));
                case "websocket", "ws" -> b.websocket(websocket(key, v));
                case "tls" -> b.tls(tls(key, v));
                case "allow_non_tls" -> allowNonTls = bool(key, v);
                case "accounts" -> accounts = accounts(key, v);
                case "no_auth_user" -> noAuthUser = string(key, v);
                default -> {
                    if (IGNORED.contains(key.toLowerCase(Locale.ROOT))) {
                        warnings.add(v.where() + ": ignoring unsupported field \"" + key + "\"");
                    } else {
                        rejectUnknown(key, v);
                    }
                }
            }
        }
        b.log(log);
        if (allowNonTls != null) {
            b.tls(b.tls().withAllowNonTls(allowNonTls));
        }
        if (!accounts.isEmpty() || noAuthUser != null) {
            AuthConfig auth = b.auth().withAccounts(accounts, noAuthUser);
            checkAccountUsers(auth, noAuthUser, root.get("no_auth_user"));
            b.auth(auth);
        }
        if (b.websocket().enabled()) {
            checkWebSocketAuth(root, b.websocket().auth(), b.auth());
        }
        b.ops(ops);
        return warnings;
    }

    // ---- blocks ----

    private static AuthConfig authorization(String blockKey, ConfValue block) throws ConfigException {
        Map<String, ConfValue> map = map(blockKey, block);
        String token = null;
        String user = null;
        String password = null;
        List<User> users = null;
        List<NkeyUser> nkeys = List.of();
        Permissions defaults = Permissions.ALL;
        Duration timeout = AuthConfig.DEFAULT_TIMEOUT;
        for (Map.Entry<String, ConfValue> e : map.entrySet()) {
            String key = e.getKey();
            ConfValue v = e.getValue();
            switch (key.toLowerCase(Locale.ROOT)) {
                case "token", "auth_token" -> token = string(key, v);
                case "user", "username" -> user = string(key, v);
                case "password", "pass" -> password = string(key, v);
                case "users" -> {
                    UserLists lists = users(key, v);
                    users = lists.users();
                    nkeys = lists.nkeys();
                }
                // nats-server takes a block-level "permissions" as the default for every user.
                case "default_permissions", "default_permission", "permissions" -> defaults = permissions(key, v);
                case "timeout" -> timeout = authTimeout(key, v, AuthConfig.DEFAULT_TIMEOUT);
                default -> rejectUnknown(key, v);
            }
        }
        if ((user == null) != (password == null)) {
            throw new ConfigException(block.where() + ": " + blockKey + ": user and password must be set together");
        }
        if (user != null && users != null) {
            throw new ConfigException(block.where() + ": " + blockKey
                    + ": can not have a single user/pass and a users array");
        }
        if (token != null && (user != null || users != null || !nkeys.isEmpty())) {
            throw new ConfigException(block.where() + ": " + blockKey + ": can not have a token and users");
        }
        List<User> all = user != null ? List.of(new User(user, password, null)) : users != null ? users : List.of();
        return new AuthConfig(token, all, defaults, timeout, nkeys);
    }

    /** An authorization block's {@code timeout}: not negative; 0 stands for {@code unset}. */
    private static Duration authTimeout(String key, ConfValue v, Duration unset) throws ConfigException {
        Duration d = duration(key, v);
        if (d.isNegative()) {
            throw invalid(key, v, "a positive duration");
        }
        return d.isZero() ? unset : d;
    }

    /** A users list holds password users and nkey users alike. */
    private record UserLists(List<User> users, List<NkeyUser> nkeys) {}

    /** Go's names of the TLS 1.2 cipher suites nats-server accepts in {@code cipher_suites}. */
    private static final Set<String> CIPHER_SUITES = Set.of(
            "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",
            "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
            "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    private static final Set<String> TLS13_SUITES =
            Set.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
    /** Go's names of the key exchange groups in {@code curve_preferences}. */
    private static final Set<String> CURVES = Set.of("CurveP256", "CurveP384", "CurveP521", "X25519");

    /**
     * A {@code tls { }} block. As nats-server, a block without {@code cert_file} and {@code key_file} is an
     * error rather than "TLS off".
     */
    static TlsConfig tls(String blockKey, ConfValue block) throws ConfigException {
        TlsConfig d = TlsConfig.NONE;
        Path cert = null;
        Path key = null;
        Path ca = null;
        boolean verify = false;
        boolean verifyAndMap = false;
        Duration timeout = d.timeout();
        boolean handshakeFirst = false;
        String minVersion = d.minVersion();
        List<String> ciphers = List.of();
        List<String> curves = List.of();
        List<String> pinned = List.of();
        for (Map.Entry<String, ConfValue> e : map(blockKey, block).entrySet()) {
            String key0 = e.getKey();
            ConfValue v = e.getValue();
            switch (key0.toLowerCase(Locale.ROOT)) {
                case "cert_file" -> cert = path(key0, v);
                case "key_file" -> key = path(key0, v);
                case "ca_file" -> ca = path(key0, v);
                case "verify" -> verify = bool(key0, v);
                case "verify_and_map" -> verifyAndMap = bool(key0, v);
                case "timeout" -> {
                    Duration t = duration(key0, v);
                    if (t.isNegative()) {
                        throw invalid(key0, v, "a positive duration");
                    }
                    timeout = t.isZero() ? TlsConfig.DEFAULT_TIMEOUT : t;
                }
                case "handshake_first", "first", "immediate" -> {
                    if (v.type() != ConfValue.Type.BOOLEAN) {
                        // 2.10.4's "auto" and fallback delays (plaintext INFO when no ClientHello comes in time)
                        throw invalid(key0, v, "true or false (a fallback delay is not supported)");
                    }
                    handshakeFirst = bool(key0, v);
                }
                case "min_version" -> {
                    String mv = string(key0, v);
                    if (!mv.equals("1.2") && !mv.equals("1.3")) {
                        throw invalid(key0, v, "\"1.2\" or \"1.3\"");
                    }
                    minVersion = mv;
                }
                case "cipher_suites" -> {
                    ciphers = nonEmptyStrings(key0, v);
                    for (String c : ciphers) {
                        if (TLS13_SUITES.contains(c)) {
                            throw new ConfigException(v.where() + ": cipher suite \"" + c
                                    + "\" is a TLS 1.3 suite, which is not configurable");
                        }
                        if (!CIPHER_SUITES.contains(c)) {
                            throw new ConfigException(v.where() + ": unrecognized cipher suite \"" + c + "\"");
                        }
                    }
                }
                case "curve_preferences" -> {
                    curves = nonEmptyStrings(key0, v);
                    for (String c : curves) {
                        if (!CURVES.contains(c)) {
                            throw new ConfigException(v.where() + ": unrecognized curve preference \"" + c + "\"");
                        }
                    }
                }
                case "pinned_certs" -> {
                    pinned = new ArrayList<>();
                    for (String p : nonEmptyStrings(key0, v)) {
                        String hex = p.toLowerCase(Locale.ROOT);
                        if (!hex.matches("[0-9a-f]{64}")) {
                            throw new ConfigException(v.where() + ": pinned_certs: \"" + p
                                    + "\" is not a hex SHA-256 of a public key");
                        }
                        pinned.add(hex);
                    }
                }
                default -> rejectUnknown(key0, v);
            }
        }
        if (cert == null) {
            throw new ConfigException(block.where() + ": missing 'cert_file' in TLS configuration");
        }
        if (key == null) {
            throw new ConfigException(block.where() + ": missing 'key_file' in TLS configuration");
        }
        return new TlsConfig(cert, key, ca, verify || verifyAndMap, verifyAndMap, timeout, handshakeFirst,
                minVersion, ciphers, curves, pinned, false);
    }

    /** {@code server_tags}: a list of strings, or one string as one tag; lower-cased and trimmed, as nats-server's. */
    private static List<String> serverTags(String key, ConfValue v) throws ConfigException {
        List<ConfValue> list = v.asList();
        List<String> out = new ArrayList<>();
        for (ConfValue item : list == null ? List.of(v) : list) {
            String t = string(key, item).strip().toLowerCase(Locale.ROOT);
            if (!t.isEmpty() && !out.contains(t)) {
                out.add(t);
            }
        }
        return out;
    }

    private static List<String> nonEmptyStrings(String key, ConfValue v) throws ConfigException {
        List<ConfValue> list = v.asList();
        if (list == null || list.isEmpty()) {
            throw invalid(key, v, "a non-empty list");
        }
        List<String> out = new ArrayList<>();
        for (ConfValue item : list) {
            out.add(string(key, item));
        }
        return out;
    }

    /**
     * {@code accounts { NAME: { users, jetstream, exports, imports } }}. An account's {@code mappings}, {@code limits}
     * and {@code default_permissions} are refused rather than ignored.
     */
    private static List<AccountConfig> accounts(String blockKey, ConfValue block) throws ConfigException {
        List<AccountConfig> out = new ArrayList<>();
        for (Map.Entry<String, ConfValue> e : map(blockKey, block).entrySet()) {
            String name = e.getKey();
            ConfValue v = e.getValue();
            if (name.equals(AccountConfig.GLOBAL)) {
                throw new ConfigException(v.where() + ": account name \"$G\" is reserved");
            }
            List<User> users = List.of();
            List<NkeyUser> nkeys = List.of();
            AccountConfig.JetStreamLimits js = null;
            List<AccountConfig.Export> exports = List.of();
            List<AccountConfig.Import> imports = List.of();
            for (Map.Entry<String, ConfValue> f : map(name, v).entrySet()) {
                String key = f.getKey();
                switch (key.toLowerCase(Locale.ROOT)) {
                    case "users" -> {
                        UserLists lists = users(key, f.getValue());
                        users = lists.users();
                        nkeys = lists.nkeys();
                    }
                    case "jetstream" -> js = accountJetStream(key, f.getValue());
                    case "exports" -> exports = exports(key, f.getValue());
                    case "imports" -> imports = imports(key, f.getValue());
                    case "mappings", "limits", "default_permissions" ->
                        throw new ConfigException(f.getValue().where() + ": account \"" + name + "\": \"" + key
                                + "\" is not supported yet");
                    default -> rejectUnknown(key, f.getValue());
                }
            }
            out.add(new AccountConfig(name, users, nkeys, js, exports, imports));
        }
        checkImports(out);
        return out;
    }

    /**
     * An account's {@code jetstream}: {@code enabled}/{@code disabled} (or a boolean), or a block of limits with
     * nats-server's keys and aliases; a missing limit is -1 (none).
     */
    private static AccountConfig.JetStreamLimits accountJetStream(String key, ConfValue v) throws ConfigException {
        switch (v.type()) {
            case BOOLEAN:
                return (Boolean) v.value() ? AccountConfig.JetStreamLimits.UNLIMITED : null;
            case STRING:
                return switch (v.raw().toLowerCase(Locale.ROOT)) {
                    case "enabled", "enable" -> AccountConfig.JetStreamLimits.UNLIMITED;
                    case "disabled", "disable" -> null;
                    default -> throw invalid(key, v, "enabled, disabled or a block of limits");
                };
            case MAP:
                break;
            default:
                throw invalid(key, v, "enabled, disabled or a block of limits");
        }
        long maxMemory = -1;
        long maxStore = -1;
        long maxStreams = -1;
        long maxConsumers = -1;
        long maxAckPending = -1;
        long memoryMaxStreamBytes = -1;
        long storeMaxStreamBytes = -1;
        boolean maxBytesRequired = false;
        for (Map.Entry<String, ConfValue> e : v.asMap().entrySet()) {
            String k = e.getKey();
            ConfValue item = e.getValue();
            switch (k.toLowerCase(Locale.ROOT)) {
                case "max_mem", "max_memory", "mem", "memory" -> maxMemory = storeLimit(k, item);
                case "max_file", "max_store", "max_disk", "store", "disk" -> maxStore = storeLimit(k, item);
                case "max_streams", "streams" -> maxStreams = count(k, item);
                case "max_consumers", "consumers" -> maxConsumers = count(k, item);
                case "max_ack_pending" -> maxAckPending = count(k, item);
                case "memory_max_stream_bytes", "mem_max_stream_bytes", "memory_max_bytes", "mem_max_bytes" ->
                    memoryMaxStreamBytes = storeLimit(k, item);
                case "store_max_stream_bytes", "disk_max_stream_bytes", "store_max_bytes", "disk_max_bytes" ->
                    storeMaxStreamBytes = storeLimit(k, item);
                case "max_bytes_required", "max_stream_bytes", "max_bytes" -> maxBytesRequired = bool(k, item);
                default -> rejectUnknown(k, item);
            }
        }
        return new AccountConfig.JetStreamLimits(maxMemory, maxStore, (int) maxStreams, (int) maxConsumers,
                (int) maxAckPending, memoryMaxStreamBytes, storeMaxStreamBytes, maxBytesRequired);
    }

    /** A count limit: an integer, -1 for none. */
    private static long count(String key, ConfValue v) throws ConfigException {
        return intRange(key, v, -1, Integer.MAX_VALUE);
    }

    /** {@code exports: [ {stream: "a.>"}, {service: "svc.>", accounts: [B], response_type: stream} ]}. */
    private static List<AccountConfig.Export> exports(String listKey, ConfValue v) throws ConfigException {
        List<ConfValue> list = v.asList();
        if (list == null) {
            throw invalid(listKey, v, "a list of exports");
        }
        List<AccountConfig.Export> out = new ArrayList<>();
        for (ConfValue item : list) {
            String stream = null;
            String service = null;
            List<String> accounts = List.of();
            String responseType = null;
            for (Map.Entry<String, ConfValue> e : map(listKey, item).entrySet()) {
                String k = e.getKey();
                ConfValue x = e.getValue();
                switch (k.toLowerCase(Locale.ROOT)) {
                    case "stream" -> stream = subjectValue(k, x, true);
                    case "service" -> service = subjectValue(k, x, true);
                    case "accounts" -> {
                        List<String> names = new ArrayList<>();
                        List<ConfValue> items = x.asList();
                        if (items == null) {
                            throw invalid(k, x, "a list of account names");
                        }
                        for (ConfValue n : items) {
                            names.add(string(k, n));
                        }
                        accounts = names;
                    }
                    case "response", "response_type" -> {
                        String t = string(k, x).toLowerCase(Locale.ROOT);
                        if (!t.equals("singleton") && !t.equals("stream") && !t.equals("chunked")) {
                            // nats-server's words
                            throw new ConfigException(x.where() + ": unknown response type: \"" + x.raw() + "\"");
                        }
                        responseType = t;
                    }
                    default -> rejectUnknown(k, x);
                }
            }
            if ((stream == null) == (service == null)) {
                throw new ConfigException(item.where() + ": an export needs either \"stream\" or \"service\"");
            }
            if (stream != null && responseType != null) {
                throw new ConfigException(item.where() + ": Detected response directive on non-service");
            }
            out.add(new AccountConfig.Export(service != null, service != null ? service : stream, accounts,
                    responseType == null ? "singleton" : responseType));
        }
        return out;
    }

    /**
     * {@code imports: [ {stream: {account: A, subject: "feed.>"}, prefix: p}, {service: {account: A, subject: s},
     * to: t} ]}.
     */
    private static List<AccountConfig.Import> imports(String listKey, ConfValue v) throws ConfigException {
        List<ConfValue> list = v.asList();
        if (list == null) {
            throw invalid(listKey, v, "a list of imports");
        }
        List<AccountConfig.Import> out = new ArrayList<>();
        for (ConfValue item : list) {
            Boolean service = null;
            String account = null;
            String subject = null;
            String prefix = null;
            String to = null;
            boolean share = false;
            for (Map.Entry<String, ConfValue> e : map(listKey, item).entrySet()) {
                String k = e.getKey();
                ConfValue x = e.getValue();
                switch (k.toLowerCase(Locale.ROOT)) {
                    case "stream", "service" -> {
                        if (service != null) {
                            throw new ConfigException(x.where() + ": an import is either a stream or a service");
                        }
                        service = k.equalsIgnoreCase("service");
                        for (Map.Entry<String, ConfValue> s : map(k, x).entrySet()) {
                            String sk = s.getKey();
                            switch (sk.toLowerCase(Locale.ROOT)) {
                                case "account" -> account = string(sk, s.getValue());
                                case "subject" -> subject = subjectValue(sk, s.getValue(), true);
                                default -> rejectUnknown(sk, s.getValue());
                            }
                        }
                    }
                    case "prefix" -> prefix = subjectValue(k, x, false);
                    case "to" -> to = subjectValue(k, x, true);
                    // share: a service's responders see the requester in detail (Nats-Request-Info)
                    case "share" -> share = bool(k, x);
                    case "allow_trace" -> bool(k, x);
                    default -> rejectUnknown(k, x);
                }
            }
            if (service == null) {
                throw new ConfigException(item.where() + ": an import needs either \"stream\" or \"service\"");
            }
            if (account == null || subject == null) {
                throw new ConfigException(item.where() + ": an import needs an \"account\" and a \"subject\"");
            }
            if (service && prefix != null) {
                throw new ConfigException(item.where() + ": a service import takes \"to\", not \"prefix\"");
            }
            if (prefix != null && to != null) {
                throw new ConfigException(item.where() + ": a stream import takes \"prefix\" or \"to\", not both");
            }
            String local = prefix != null ? prefix + "." + subject : to;
            if (local != null && !SubjectMap.compatible(subject, local)) {
                throw new ConfigException(item.where() + ": import subject \"" + subject + "\" and \"" + local
                        + "\" do not have the same wildcards");
            }
            out.add(new AccountConfig.Import(service, account, subject, local, item.where(), share));
        }
        return out;
    }

    /** A subject in an export or import: non-empty tokens, wildcards only where {@code wildcards}. */
    private static String subjectValue(String key, ConfValue v, boolean wildcards) throws ConfigException {
        String s = string(key, v);
        if (!SubjectMap.isValid(s, wildcards)) {
            throw invalid(key, v, wildcards ? "a subject" : "a subject without wildcards");
        }
        return s;
    }

    /**
     * Each import names a configured account and a subject that account exports to it, as nats-server checks
     * when it adds the imports (its words: {@code stream import not authorized}).
     */
    private static void checkImports(List<AccountConfig> accounts) throws ConfigException {
        Map<String, AccountConfig> byName = new java.util.HashMap<>();
        for (AccountConfig a : accounts) {
            byName.put(a.name(), a);
        }
        for (AccountConfig a : accounts) {
            for (AccountConfig.Import imp : a.imports()) {
                AccountConfig from = byName.get(imp.account());
                String kind = imp.service() ? "service" : "stream";
                if (from == null) {
                    throw new ConfigException(imp.where() + ": " + kind + " import from unknown account \""
                            + imp.account() + "\"");
                }
                if (from == a) {
                    throw new ConfigException(imp.where() + ": an account can not import from itself");
                }
                boolean authorized = false;
                for (AccountConfig.Export ex : from.exports()) {
                    if (ex.service() == imp.service() && ex.allows(a.name())
                            && SubjectMap.isSubset(imp.subject(), ex.subject())) {
                        authorized = true;
                        break;
                    }
                }
                if (!authorized) {
                    throw new ConfigException(imp.where() + ": Error adding " + kind + " import \"" + imp.subject()
                            + "\": " + kind + " import not authorized");
                }
            }
        }
    }

    /** A user name or nkey in two places is an error (as nats-server); no_auth_user must name a user. */
    private static void checkAccountUsers(AuthConfig auth, String noAuthUser, ConfValue where)
            throws ConfigException {
        Set<String> names = new HashSet<>();
        Set<String> keys = new HashSet<>();
        List<List<User>> userLists = new ArrayList<>(List.of(auth.users()));
        List<List<NkeyUser>> keyLists = new ArrayList<>(List.of(auth.nkeys()));
        for (AccountConfig a : auth.accounts()) {
            userLists.add(a.users());
            keyLists.add(a.nkeys());
        }
        for (List<User> list : userLists) {
            for (User u : list) {
                if (!names.add(u.name())) {
                    throw new ConfigException("Duplicate user \"" + u.name() + "\" detected");
                }
            }
        }
        for (List<NkeyUser> list : keyLists) {
            for (NkeyUser u : list) {
                if (!keys.add(u.publicKey())) {
                    throw new ConfigException("Duplicate nkey \"" + u.publicKey() + "\" detected");
                }
            }
        }
        if (noAuthUser != null && !names.contains(noAuthUser)) {
            throw new ConfigException((where == null ? "" : where.where() + ": ") + "no_auth_user: \"" + noAuthUser
                    + "\" not present as user or nkey in authorization block or account configuration");
        }
    }

    /** Cluster keys from 2.10 on that change nothing for a 2.9-style single route per peer. */
    private static final Set<String> CLUSTER_IGNORED = Set.of("pool_size", "compression", "connect_backoff",
            "ping_interval", "ping_max", "write_deadline", "accounts");

    private static ClusterConfig cluster(String blockKey, ConfValue block, List<String> warnings)
            throws ConfigException {
        ClusterConfig c = ClusterConfig.DISABLED;
        String host = c.host();
        Integer port = null;
        for (Map.Entry<String, ConfValue> e : map(blockKey, block).entrySet()) {
            String key = e.getKey();
            ConfValue v = e.getValue();
            switch (key.toLowerCase(Locale.ROOT)) {
                case "name" -> c = c.withName(string(key, v));
                case "listen" -> {
                    HostPort hp = hostPort(key, v);
                    if (hp.host != null) {
                        host = hp.host;
                    }
                    port = hp.port;
                }
                case "host", "net" -> host = string(key, v);
                case "port" -> port = port(key, v);
                case "advertise", "cluster_advertise" -> {
                    hostPort(key, v);
                    c = c.withAdvertise(string(key, v));
                }
                case "routes" -> {
                    List<ConfValue> list = v.asList();
                    if (list == null) {
                        throw invalid(key, v, "a list of route URLs");
                    }
                    List<java.net.URI> routes = new ArrayList<>();
                    for (ConfValue item : list) {
                        try {
                            routes.add(ClusterConfig.parseRouteUrl(string(key, item)));
                        } catch (IllegalArgumentException ex) {
                            throw new ConfigException(item.where() + ": invalid route URL \"" + item.raw() + "\": "
                                    + ex.getMessage());
                        }
                    }
                    c = c.withRoutes(routes);
                }
                case "authorization" -> c = clusterAuthorization(key, v, c);
                case "no_advertise" -> c = c.withNoAdvertise(bool(key, v));
                case "connect_retries" -> c = c.withConnectRetries(intRange(key, v, 0, Integer.MAX_VALUE));
                case "tls" -> c = c.withTls(tls(key, v));
                default -> {
                    if (CLUSTER_IGNORED.contains(key.toLowerCase(Locale.ROOT))) {
                        warnings.add(v.where() + ": ignoring unsupported cluster field \"" + key + "\"");
                    } else {
                        rejectUnknown(key, v);
                    }
                }
            }
        }
        if (port == null) {
            throw new ConfigException(block.where() + ": " + blockKey + ": a cluster needs a listen address or port");
        }
        return c.withListen(host, port);
    }

    /** JetKV's {@code console { writes: true }}: the KV console may put and delete (authenticated users only). */
    private static MonitorConfig console(String blockKey, ConfValue block, MonitorConfig m) throws ConfigException {
        for (Map.Entry<String, ConfValue> e : map(blockKey, block).entrySet()) {
            String key = e.getKey();
            ConfValue v = e.getValue();
            switch (key.toLowerCase(Locale.ROOT)) {
                case "writes" -> m = m.withConsoleWrites(bool(key, v));
                default -> rejectUnknown(key, v);
            }
        }
        return m;
    }

    private static WebSocketConfig websocket(String blockKey, ConfValue block) throws ConfigException {
        String host = null;
        Integer port = null;
        boolean noTls = false;
        TlsConfig tls = TlsConfig.NONE;
        boolean compression = false;
        boolean sameOrigin = false;
        List<String> origins = List.of();
        java.time.Duration timeout = WebSocketConfig.DEFAULT_HANDSHAKE_TIMEOUT;
        String advertise = null;
        WebSocketAuth auth = WebSocketAuth.NONE;
        for (Map.Entry<String, ConfValue> e : map(blockKey, block).entrySet()) {
            String key = e.getKey();
            ConfValue v = e.getValue();
            switch (key.toLowerCase(Locale.ROOT)) {
                case "listen" -> {
                    HostPort hp = hostPort(key, v);
                    if (hp.host != null) {
                        host = hp.host;
                    }
                    port = hp.port;
                }
                case "host", "net" -> host = string(key, v);
                case "port" -> port = port(key, v);
                case "no_tls" -> noTls = bool(key, v);
                case "compression" -> compression = bool(key, v);
                case "same_origin" -> sameOrigin = bool(key, v);
                case "allowed_origins" -> {
                    List<ConfValue> list = v.asList();
                    if (list == null) {
                        list = List.of(v);
                    }
                    List<String> out = new ArrayList<>();
                    for (ConfValue item : list) {
                        String origin = string(key, item);
                        try {
                            java.net.URI u = new java.net.URI(origin);
                            if (u.getScheme() == null || u.getHost() == null) {
                                throw invalid(key, item, "an origin such as http://host:port");
                            }
                        } catch (java.net.URISyntaxException ex) {
                            throw invalid(key, item, "an origin such as http://host:port");
                        }
                        out.add(origin);
                    }
                    origins = out;
                }
                case "handshake_timeout" -> timeout = positiveDuration(key, v);
                case "advertise" -> {
                    hostPort(key, v);
                    advertise = string(key, v);
                }
                // the listener's own certificate; allow_non_tls and handshake_first are the client port's
                case "tls" -> tls = tls(key, v);
                case "no_auth_user" -> auth = new WebSocketAuth(auth.user(), auth.password(), auth.token(),
                        auth.timeout(), string(key, v));
                case "authorization", "authentication" -> auth = websocketAuthorization(key, v, auth.noAuthUser());
                default -> rejectUnknown(key, v);
            }
        }
        if (port == null) {
            throw new ConfigException(block.where() + ": " + blockKey + ": websocket needs a listen address or port");
        }
        if (!noTls && !tls.enabled()) {
            // nats-server's words for a block with neither tls {} nor no_tls
            throw new ConfigException(block.where() + ": websocket requires TLS configuration");
        }
        return new WebSocketConfig(true, host, port, noTls, compression, sameOrigin, origins, timeout, advertise,
                tls, auth);
    }

    /**
     * The websocket block's {@code authorization}: one user or a token, and a timeout, nothing else (nats-server
     * refuses {@code users}, {@code permissions} and the rest as unknown fields here).
     */
    private static WebSocketAuth websocketAuthorization(String blockKey, ConfValue block, String noAuthUser)
            throws ConfigException {
        String user = null;
        String password = null;
        String token = null;
        Duration timeout = null;
        for (Map.Entry<String, ConfValue> e : map(blockKey, block).entrySet()) {
            String key = e.getKey();
            ConfValue v = e.getValue();
            switch (key.toLowerCase(Locale.ROOT)) {
                case "user", "username" -> user = string(key, v);
                case "password", "pass" -> password = string(key, v);
                case "token" -> token = string(key, v);
                // as nats-server: 0 leaves the top-level authorization's timeout
                case "timeout" -> timeout = authTimeout(key, v, null);
                default -> rejectUnknown(key, v);
            }
        }
        // nats-server compares a missing password as "": the block may name a user alone
        return new WebSocketAuth(user, user != null && password == null ? "" : password, token, timeout, noAuthUser);
    }

    /**
     * nats-server's checks of the websocket block's authentication against the rest of the config, in its order and
     * words: its {@code no_auth_user} must be a user of a {@code users} list (the top-level one or an account's; a
     * single top-level {@code user} is not one), and its own user or token cannot stand beside users or nkeys.
     */
    private static void checkWebSocketAuth(Map<String, ConfValue> root, WebSocketAuth ws, AuthConfig auth)
            throws ConfigException {
        ConfValue block = null;
        for (Map.Entry<String, ConfValue> e : root.entrySet()) {
            String k = e.getKey().toLowerCase(Locale.ROOT);
            if (k.equals("websocket") || k.equals("ws")) {
                block = e.getValue();
            }
        }
        String where = block == null ? "" : block.where() + ": ";
        List<String> listed = new ArrayList<>();
        boolean singleUser = false;
        for (String k : authorizationKeys(root)) {
            singleUser |= k.equalsIgnoreCase("user") || k.equalsIgnoreCase("username");
        }
        boolean usersDefined = !singleUser && (!auth.users().isEmpty()
                || authorizationKeys(root).stream().anyMatch(k -> k.equalsIgnoreCase("users")));
        if (!singleUser) {
            auth.users().forEach(u -> listed.add(u.name()));
        }
        for (AccountConfig a : auth.accounts()) {
            a.users().forEach(u -> listed.add(u.name()));
            usersDefined |= !a.users().isEmpty();
        }
        boolean nkeys = !auth.nkeys().isEmpty() || auth.accounts().stream().anyMatch(a -> !a.nkeys().isEmpty());
        if (ws.noAuthUser() != null) {
            if (!usersDefined) {
                throw new ConfigException(where + "no_auth_user: \"" + ws.noAuthUser()
                        + "\" present, but users are not defined");
            }
            if (!listed.contains(ws.noAuthUser())) {
                throw new ConfigException(where + "no_auth_user: \"" + ws.noAuthUser()
                        + "\" not present as user in authorization block or account configuration");
            }
        }
        if (!listed.isEmpty() || nkeys) {
            if (ws.user() != null) {
                throw new ConfigException(where
                        + "websocket authentication username not compatible with presence of users/nkeys");
            }
            if (ws.token() != null) {
                throw new ConfigException(where
                        + "websocket authentication token not compatible with presence of users/nkeys");
            }
        }
    }

    /** The keys of the top-level authorization blocks (a users list even when empty, a single user). */
    private static List<String> authorizationKeys(Map<String, ConfValue> root) {
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, ConfValue> e : root.entrySet()) {
            if (e.getKey().equalsIgnoreCase("authorization") && e.getValue().asMap() != null) {
                keys.addAll(e.getValue().asMap().keySet());
            }
        }
        return keys;
    }

    private static ClusterConfig clusterAuthorization(String blockKey, ConfValue block, ClusterConfig c)
            throws ConfigException {
        String user = null;
        String password = null;
        Duration timeout = ClusterConfig.DEFAULT_AUTH_TIMEOUT;
        for (Map.Entry<String, ConfValue> e : map(blockKey, block).entrySet()) {
            String key = e.getKey();
            ConfValue v = e.getValue();
            switch (key.toLowerCase(Locale.ROOT)) {
                case "user", "username" -> user = string(key, v);
                case "password", "pass" -> password = string(key, v);
                case "timeout" -> timeout = authTimeout(key, v, ClusterConfig.DEFAULT_AUTH_TIMEOUT);
                default -> rejectUnknown(key, v);
            }
        }
        if ((user == null) != (password == null)) {
            throw new ConfigException(block.where() + ": " + blockKey + ": user and password must be set together");
        }
        ClusterConfig withAuth = c.withAuth(user, password);
        return new ClusterConfig(withAuth.enabled(), withAuth.name(), withAuth.host(), withAuth.port(),
                withAuth.advertise(), withAuth.routes(), user, password, timeout, withAuth.noAdvertise(),
                withAuth.connectRetries(), withAuth.tls());
    }

    private static UserLists users(String listKey, ConfValue v) throws ConfigException {
        List<ConfValue> list = v.asList();
        if (list == null) {
            throw invalid(listKey, v, "a list of users");
        }
        List<User> users = new ArrayList<>();
        List<NkeyUser> nkeys = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> keys = new HashSet<>();
        for (ConfValue item : list) {
            Map<String, ConfValue> map = map(listKey, item);
            String name = null;
            String password = null;
            String nkey = null;
            Permissions permissions = null;
            for (Map.Entry<String, ConfValue> e : map.entrySet()) {
                String key = e.getKey();
                switch (key.toLowerCase(Locale.ROOT)) {
                    case "user", "username" -> name = string(key, e.getValue());
                    case "password", "pass" -> password = string(key, e.getValue());
                    case "nkey" -> nkey = string(key, e.getValue());
                    case "permissions", "permission" -> permissions = permissions(key, e.getValue());
                    // JetKV's key from before accounts: the user now goes into an accounts { } block
                    case "account" -> throw new ConfigException(e.getValue().where() + ": a user's \"account\" is "
                            + "not supported: put the user in the account's users, accounts { "
                            + e.getValue().raw() + ": { users: [...] } }");
                    default -> rejectUnknown(key, e.getValue());
                }
            }
            if (nkey != null) {
                // nats-server's texts
                if (name != null || password != null) {
                    throw new ConfigException(item.where() + ": Nkey users do not take usernames or passwords");
                }
                if (!NKeys.isValidPublicKey(nkey, NKeys.PREFIX_USER)) {
                    throw new ConfigException(item.where() + ": Not a valid public nkey for a user");
                }
                if (!keys.add(nkey)) {
                    throw new ConfigException(item.where() + ": Duplicate nkey \"" + nkey + "\" detected");
                }
                nkeys.add(new NkeyUser(nkey, permissions));
                continue;
            }
            if (name == null) {
                throw new ConfigException(item.where() + ": " + listKey + ": each user needs a user name");
            }
            if (!names.add(name)) {
                throw new ConfigException(item.where() + ": " + listKey + ": duplicate user \"" + name + "\"");
            }
            users.add(new User(name, password, permissions));
        }
        return new UserLists(users, nkeys);
    }

    private static Permissions permissions(String blockKey, ConfValue v) throws ConfigException {
        SubjectPermission publish = SubjectPermission.ALL;
        SubjectPermission subscribe = SubjectPermission.ALL;
        for (Map.Entry<String, ConfValue> e : map(blockKey, v).entrySet()) {
            String key = e.getKey();
            switch (key.toLowerCase(Locale.ROOT)) {
                case "publish", "pub" -> publish = subjectPermission(key, e.getValue());
                case "subscribe", "sub" -> subscribe = subjectPermission(key, e.getValue());
                default -> rejectUnknown(key, e.getValue());
            }
        }
        return new Permissions(publish, subscribe);
    }

    /** {@code "foo.>"}, {@code ["a", "b"]} (both allow lists) or {@code {allow: ..., deny: ...}}. */
    private static SubjectPermission subjectPermission(String key, ConfValue v) throws ConfigException {
        if (v.type() != ConfValue.Type.MAP) {
            return new SubjectPermission(subjects(key, v), List.of());
        }
        List<String> allow = List.of();
        List<String> deny = List.of();
        for (Map.Entry<String, ConfValue> e : v.asMap().entrySet()) {
            String k = e.getKey();
            switch (k.toLowerCase(Locale.ROOT)) {
                case "allow" -> allow = subjects(k, e.getValue());
                case "deny" -> deny = subjects(k, e.getValue());
                default -> rejectUnknown(k, e.getValue());
            }
        }
        return new SubjectPermission(allow, deny);
    }

    private static List<String> subjects(String key, ConfValue v) throws ConfigException {
        List<ConfValue> items = v.type() == ConfValue.Type.LIST ? v.asList() : List.of(v);
        List<String> subjects = new ArrayList<>();
        for (ConfValue item : items) {
            if (!item.isScalar() || item.raw().isBlank()) {
                throw invalid(key, item, "a subject or a list of subjects");
            }
            subjects.add(item.raw());
        }
        return subjects;
    }

    /** {@code jetstream: enabled}, {@code jetstream: true} or {@code jetstream { ... }}. */
    private static JetStreamConfig jetstream(String blockKey, ConfValue v, JetStreamConfig current,
            List<String> warnings) throws ConfigException {
        switch (v.type()) {
            case BOOLEAN:
                return current.withEnabled((Boolean) v.value());
            case STRING:
                return switch (v.raw().toLowerCase(Locale.ROOT)) {
                    case "enabled", "enable" -> current.withEnabled(true);
                    case "disabled", "disable" -> current.withEnabled(false);
                    default -> throw invalid(blockKey, v, "enabled, disabled, a boolean or a block");
                };
            case MAP:
                break;
            default:
                throw invalid(blockKey, v, "enabled, disabled, a boolean or a block");
        }
        // A block turns JetStream on unless it says "enabled: false".
        boolean enabled = true;
        Path storeDir = current.storeDir();
        long maxMemory = current.maxMemoryStore();
        long maxFile = current.maxFileStore();
        boolean syncAlways = current.syncAlways();
        boolean strict = current.strict();
        for (Map.Entry<String, ConfValue> e : v.asMap().entrySet()) {
            String key = e.getKey();
            ConfValue item = e.getValue();
            switch (key.toLowerCase(Locale.ROOT)) {
                case "enabled", "enable" -> enabled = bool(key, item);
                case "store_dir", "storedir" -> storeDir = path(key, item);
                case "max_memory_store", "max_mem_store", "max_mem" -> maxMemory = storeLimit(key, item);
                case "max_file_store", "max_file" -> maxFile = storeLimit(key, item);
                case "sync_always" -> syncAlways = bool(key, item);
                case "strict" -> strict = bool(key, item);
                case "sync_interval", "sync" -> {
                    // nats-server spells "fsync every write" as sync_interval: always.
                    if (item.type() == ConfValue.Type.STRING && item.raw().equalsIgnoreCase("always")) {
                        syncAlways = true;
                    } else {
                        duration(key, item);
                        warnings.add(item.where() + ": ignoring \"" + key
                                + "\": only \"always\" (or sync_always: true) changes durability here");
                    }
                }
                default -> rejectUnknown(key, item);
            }
        }
        return new JetStreamConfig(enabled, storeDir, maxMemory, maxFile, syncAlways, strict);
    }

    // ---- scalar readers ----

    private static Map<String, ConfValue> map(String key, ConfValue v) throws ConfigException {
        Map<String, ConfValue> map = v.asMap();
        if (map == null) {
            throw invalid(key, v, "a block { ... }");
        }
        return map;
    }

    private static String string(String key, ConfValue v) throws ConfigException {
        if (!v.isScalar()) {
            throw invalid(key, v, "a string");
        }
        return v.raw();
    }

    private static boolean bool(String key, ConfValue v) throws ConfigException {
        if (v.type() != ConfValue.Type.BOOLEAN) {
            throw invalid(key, v, "a boolean");
        }
        return (Boolean) v.value();
    }

    private static Path path(String key, ConfValue v) throws ConfigException {
        String s = string(key, v);
        try {
            return Path.of(s);
        } catch (InvalidPathException e) {
            throw invalid(key, v, "a path");
        }
    }

    private static int intRange(String key, ConfValue v, int min, int max) throws ConfigException {
        if (v.type() != ConfValue.Type.INTEGER) {
            throw invalid(key, v, "an integer");
        }
        long n = (Long) v.value();
        if (n < min || n > max) {
            throw new ConfigException(v.where() + ": invalid value for \"" + key + "\": " + n
                    + " is out of range " + min + ".." + max);
        }
        return (int) n;
    }

    /** {@code http_base_path} as nats-server cleans it: leading slash, no trailing slash; "/" is none. */
    static String basePath(String raw) {
        String p = raw.strip();
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.isEmpty()) {
            return "";
        }
        return p.startsWith("/") ? p : "/" + p;
    }

    /** A port; nats-server's -1 ("any free port") becomes 0. */
    private static int port(String key, ConfValue v) throws ConfigException {
        int port = intRange(key, v, -1, 65535);
        return port == -1 ? 0 : port;
    }

    /** An integer, or a string with a size suffix ({@code "1MB"}). */
    private static long size(String key, ConfValue v) throws ConfigException {
        if (v.type() == ConfValue.Type.INTEGER) {
            return (Long) v.value();
        }
        if (v.type() == ConfValue.Type.STRING) {
            try {
                return Units.parseSize(v.raw());
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw invalid(key, v, "a size such as 1048576, 64KB or 1MB");
    }

    private static long positiveSize(String key, ConfValue v) throws ConfigException {
        long n = size(key, v);
        if (n <= 0) {
            throw invalid(key, v, "a positive size");
        }
        return n;
    }

    private static int intSize(String key, ConfValue v) throws ConfigException {
        long n = positiveSize(key, v);
        if (n > Integer.MAX_VALUE) {
            throw invalid(key, v, "a size below 2GB");
        }
        return (int) n;
    }

    /** A JetStream storage limit: a size, or -1 for none. */
    private static long storeLimit(String key, ConfValue v) throws ConfigException {
        long n = size(key, v);
        if (n < -1) {
            throw invalid(key, v, "a size, or -1 for no limit");
        }
        return n;
    }

    /**
     * A Go duration string ({@code "2m"}, {@code "1h30m"}, {@code 500ms}) or a number of seconds. Bare
     * {@code 2m} lexes as the size 2,000,000, so a suffixed integer is read again from its text.
     */
    private static Duration duration(String key, ConfValue v) throws ConfigException {
        String raw = v.raw();
        try {
            switch (v.type()) {
                case INTEGER:
                    return isPlainInteger(raw) ? Duration.ofSeconds((Long) v.value()) : Units.parseDuration(raw);
                case FLOAT:
                    return Duration.ofNanos(Math.round((Double) v.value() * 1_000_000_000d));
                case STRING:
                    return isPlainInteger(raw) ? Duration.ofSeconds(Long.parseLong(raw)) : Units.parseDuration(raw);
                default:
                    break;
            }
        } catch (IllegalArgumentException e) {
            // fall through to the error below
        }
        throw invalid(key, v, "a duration such as 10s, 2m or 1h30m, or a number of seconds");
    }

    private static Duration positiveDuration(String key, ConfValue v) throws ConfigException {
        Duration d = duration(key, v);
        if (d.isNegative() || d.isZero()) {
            throw invalid(key, v, "a positive duration");
        }
        return d;
    }

    private static boolean isPlainInteger(String s) {
        int i = s.startsWith("-") ? 1 : 0;
        if (i == s.length()) {
            return false;
        }
        for (; i < s.length(); i++) {
            if (!Character.isDigit(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private record HostPort(String host, int port) {}

    /** {@code host:port}, {@code [v6addr]:port} or a bare port number. */
    private static HostPort hostPort(String key, ConfValue v) throws ConfigException {
        if (v.type() == ConfValue.Type.INTEGER) {
            return new HostPort(null, port(key, v));
        }
        if (v.type() != ConfValue.Type.STRING) {
            throw invalid(key, v, "host:port");
        }
        String s = v.raw();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw invalid(key, v, "host:port");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.indexOf(':');
            // More than one colon without brackets is an IPv6 address with no telling where the port starts.
            if (colon < 0 || s.indexOf(':', colon + 1) >= 0) {
                throw invalid(key, v, "host:port");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        int n;
        try {
            n = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw invalid(key, v, "host:port");
        }
        if (n < -1 || n > 65535) {
            throw invalid(key, v, "host:port with a port in -1..65535");
        }
        return new HostPort(host.isEmpty() ? null : host, n == -1 ? 0 : n);
    }

    // ---- errors ----

    /** Unknown keys are errors, except variable definitions: a key some {@code $key} referred to. */
    private static void rejectUnknown(String key, ConfValue v) throws ConfigException {
        if (!v.usedAsVariable()) {
            throw new ConfigException(v.where() + ": unknown field \"" + key + "\"");
        }
    }

    private static ConfigException invalid(String key, ConfValue v, String expected) {
        return new ConfigException(v.where() + ": invalid value for \"" + key + "\": expected " + expected
                + ", got " + describe(v));
    }

    private static String describe(ConfValue v) {
        return switch (v.type()) {
            case STRING -> "\"" + v.raw() + "\"";
            case INTEGER, FLOAT, BOOLEAN -> v.raw();
            case LIST -> "a list";
            case MAP -> "a block";
        };
    }
}
