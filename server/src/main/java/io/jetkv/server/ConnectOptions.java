package io.jetkv.server;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * The fields of a client's {@code CONNECT} that the server acts on. Absent fields take nats-server's
 * defaults ({@code verbose} and {@code pedantic} default to true, {@code echo} to true).
 *
 * <p>Parsing follows Go's {@code encoding/json} into nats-server's client options, because clients see the
 * difference: a known field of the wrong type ({@code "verbose":"yes"}, {@code "protocol":1.5}) or text after
 * the JSON value is an error (the reference closes without an {@code -ERR}); names match in any case
 * ({@code "VERBOSE"}); {@code null}, for the whole value or a field, leaves the defaults; unknown fields are
 * ignored.
 */
record ConnectOptions(
        boolean verbose,
        boolean pedantic,
        boolean echo,
        boolean headers,
        boolean noResponders,
        int protocol,
        String authToken,
        String user,
        String pass,
        String name,
        String lang,
        String version,
        String nkey,
        String sig) {

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private enum Type {
        BOOL,
        STRING,
        STRINGS,
        INT,
        INT32,
        UINT8,
        UINT64,
        PERMISSION
    }

    /** nats-server 2.9's client option fields and their Go types. */
    private static final Map<String, Type> FIELDS = Map.ofEntries(
            Map.entry("echo", Type.BOOL),
            Map.entry("verbose", Type.BOOL),
            Map.entry("pedantic", Type.BOOL),
            Map.entry("tls_required", Type.BOOL),
            Map.entry("nkey", Type.STRING),
            Map.entry("jwt", Type.STRING),
            Map.entry("sig", Type.STRING),
            Map.entry("auth_token", Type.STRING),
            Map.entry("user", Type.STRING),
            Map.entry("pass", Type.STRING),
            Map.entry("name", Type.STRING),
            Map.entry("lang", Type.STRING),
            Map.entry("version", Type.STRING),
            Map.entry("protocol", Type.INT),
            Map.entry("account", Type.STRING),
            Map.entry("new_account", Type.BOOL),
            Map.entry("headers", Type.BOOL),
            Map.entry("no_responders", Type.BOOL),
            Map.entry("import", Type.PERMISSION),
            Map.entry("export", Type.PERMISSION));

    /** The fields of nats-server 2.9's INFO (as a client may send it back) whose types it checks. */
    private static final Map<String, Type> INFO_FIELDS = Map.ofEntries(
            Map.entry("server_id", Type.STRING),
            Map.entry("server_name", Type.STRING),
            Map.entry("version", Type.STRING),
            Map.entry("proto", Type.INT),
            Map.entry("git_commit", Type.STRING),
            Map.entry("go", Type.STRING),
            Map.entry("host", Type.STRING),
            Map.entry("port", Type.INT),
            Map.entry("headers", Type.BOOL),
            Map.entry("auth_required", Type.BOOL),
            Map.entry("tls_required", Type.BOOL),
            Map.entry("tls_verify", Type.BOOL),
            Map.entry("tls_available", Type.BOOL),
            Map.entry("max_payload", Type.INT32),
            Map.entry("jetstream", Type.BOOL),
            Map.entry("ip", Type.STRING),
            Map.entry("client_id", Type.UINT64),
            Map.entry("client_ip", Type.STRING),
            Map.entry("nonce", Type.STRING),
            Map.entry("cluster", Type.STRING),
            Map.entry("domain", Type.STRING),
            Map.entry("connect_urls", Type.STRINGS),
            Map.entry("ws_connect_urls", Type.STRINGS),
            Map.entry("cluster_dynamic", Type.BOOL),
            Map.entry("ldm", Type.BOOL),
            Map.entry("import", Type.PERMISSION),
            Map.entry("export", Type.PERMISSION),
            Map.entry("lnoc", Type.BOOL),
            Map.entry("info_on_connect", Type.BOOL),
            Map.entry("connect_info", Type.BOOL),
            Map.entry("gateway", Type.STRING),
            Map.entry("gateway_urls", Type.STRINGS),
            Map.entry("gateway_url", Type.STRING),
            Map.entry("gateway_cmd", Type.UINT8),
            Map.entry("gateway_nrp", Type.BOOL),
            Map.entry("gateway_iom", Type.BOOL),
            Map.entry("leafnode_urls", Type.STRINGS),
            Map.entry("remote_account", Type.STRING));

    /** The options before any CONNECT: nats-server's defaults. */
    static final ConnectOptions DEFAULTS =
            new ConnectOptions(true, true, true, false, false, 0, null, null, null, null, null, null, null, null);

    /**
     * Parses CONNECT's JSON over {@code base}, the options of the connection's previous CONNECT (or
     * {@link #DEFAULTS}): like Go's Unmarshal into the existing options, a field absent from a later CONNECT
     * keeps its earlier value, credentials included. Throws when the reference would refuse the JSON (it then
     * closes silently).
     */
    static ConnectOptions parse(String json, ConnectOptions base) throws IOException {
        JsonNode n = objectOrNull(json);
        boolean verbose = base.verbose;
        boolean pedantic = base.pedantic;
        boolean echo = base.echo;
        boolean headers = base.headers;
        boolean noResponders = base.noResponders;
        int protocol = base.protocol;
        String authToken = base.authToken;
        String user = base.user;
        String pass = base.pass;
        String name = base.name;
        String lang = base.lang;
        String version = base.version;
        String nkey = base.nkey;
        String sig = base.sig;
        // in text order, so that of two spellings of one field the later wins, as in Go
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey().toLowerCase(Locale.ROOT);
            Type type = FIELDS.get(key);
            JsonNode v = e.getValue();
            if (type == null || v.isNull()) {
                continue;
            }
            check(key, type, v);
            switch (key) {
                case "verbose" -> verbose = v.booleanValue();
                case "pedantic" -> pedantic = v.booleanValue();
                case "echo" -> echo = v.booleanValue();
                case "headers" -> headers = v.booleanValue();
                case "no_responders" -> noResponders = v.booleanValue();
                // a 64-bit value out of int range is still an invalid protocol, not a wrapped one
                case "protocol" -> protocol = (int) Math.max(-1, Math.min(Integer.MAX_VALUE, v.longValue()));
                case "auth_token" -> authToken = v.textValue();
                case "user" -> user = v.textValue();
                case "pass" -> pass = v.textValue();
                case "name" -> name = v.textValue();
                case "lang" -> lang = v.textValue();
                case "version" -> version = v.textValue();
                case "nkey" -> nkey = v.textValue();
                case "sig" -> sig = v.textValue();
                default -> {}
            }
        }
        return new ConnectOptions(
                verbose, pedantic, echo, headers, noResponders, protocol, authToken, user, pass, name, lang, version,
                nkey, sig);
    }

    /**
     * Checks a client's {@code INFO} JSON as the reference does before ignoring it: an object or null whose
     * known fields have their types.
     */
    static void checkInfo(String json) throws IOException {
        JsonNode n = objectOrNull(json);
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey().toLowerCase(Locale.ROOT);
            Type type = INFO_FIELDS.get(key);
            if (type != null && !e.getValue().isNull()) {
                check(key, type, e.getValue());
            }
        }
    }

    /** The parsed value when it is an object; an empty object for null; throws for anything else. */
    private static JsonNode objectOrNull(String json) throws IOException {
        JsonNode n = JSON.readTree(json);
        if (n == null || n.isMissingNode()) {
            throw new IOException("no JSON value");
        }
        if (n.isNull()) {
            return JSON.createObjectNode();
        }
        if (!n.isObject()) {
            throw new IOException("not a JSON object");
        }
        return n;
    }

    private static void check(String key, Type type, JsonNode v) throws IOException {
        boolean ok = switch (type) {
            case BOOL -> v.isBoolean();
            case STRING -> v.isTextual();
            case STRINGS -> isStringList(v);
            // a Go int takes only an integer literal (no fraction or exponent) within its bits
            case INT -> v.isIntegralNumber() && v.canConvertToLong();
            case INT32 -> v.isIntegralNumber() && v.canConvertToInt();
            case UINT8 -> v.isIntegralNumber() && v.canConvertToInt() && v.intValue() >= 0 && v.intValue() <= 255;
            case UINT64 -> v.isIntegralNumber() && v.bigIntegerValue().signum() >= 0
                    && v.bigIntegerValue().bitLength() <= 64;
            case PERMISSION -> v.isObject() && stringList(v, "allow") && stringList(v, "deny");
        };
        if (!ok) {
            throw new IOException("CONNECT field " + key + " has the wrong type");
        }
    }

    private static boolean stringList(JsonNode permission, String field) {
        for (Iterator<Map.Entry<String, JsonNode>> it = permission.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equalsIgnoreCase(field) || e.getValue().isNull()) {
                continue;
            }
            if (!isStringList(e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** A Go {@code []string}: an array of strings (a null element is an empty string). */
    private static boolean isStringList(JsonNode v) {
        if (!v.isArray()) {
            return false;
        }
        for (JsonNode s : v) {
            if (!s.isTextual() && !s.isNull()) {
                return false;
            }
        }
        return true;
    }
}
