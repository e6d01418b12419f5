package io.jetkv.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The fields of a client's {@code CONNECT} that the server acts on. Absent fields take nats-server's
 * defaults ({@code verbose} and {@code pedantic} default to true, {@code echo} to true).
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
        String version) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses CONNECT's JSON; throws on malformed JSON (the reference then closes silently). */
    static ConnectOptions parse(String json) throws java.io.IOException {
        JsonNode n = JSON.readTree(json);
        if (n == null || !n.isObject()) {
            throw new java.io.IOException("CONNECT is not a JSON object");
        }
        return new ConnectOptions(
                bool(n, "verbose", true),
                bool(n, "pedantic", true),
                bool(n, "echo", true),
                bool(n, "headers", false),
                bool(n, "no_responders", false),
                n.path("protocol").asInt(0),
                text(n, "auth_token"),
                text(n, "user"),
                text(n, "pass"),
                text(n, "name"),
                text(n, "lang"),
                text(n, "version"));
    }

    private static boolean bool(JsonNode n, String field, boolean dflt) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? dflt : v.asBoolean(dflt);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
