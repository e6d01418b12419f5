package io.jetkv.jetstream.api;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JetStream API level (ADR-44): the level this server implements, the {@code Nats-Required-Api-Level} request
 * header, and the {@code _nats.*} metadata keys of 2.11+ on stream and consumer configurations. Pure functions and
 * constants; any thread.
 */
public final class ApiLevel {
    private ApiLevel() {}

    /**
     * The level JetKV implements and advertises ({@code $JS.API.INFO} {@code api.level}). Raise it together with
     * the advertised nats-server version ({@code io.jetkv.config.Version.NATS_VERSION}), and only to a level whose
     * features all work: clients switch features on by it. 0 is nats-server 2.10, which has no level; 1 is 2.11;
     * 2 is 2.12.0 to 2.12.4; 3 is 2.12.5 to 2.12.15 (the snapshot request's {@code window_size}); 4 is 2.14 (fast
     * batches, acks by flow control, sourcing consumers; with 2.14's schedules, consumer reset and {@code eob}).
     */
    public static final int SERVER = 4;

    /**
     * The nats-server version advertised beside the level ({@code _nats.ver}); the same as
     * {@code io.jetkv.config.Version.NATS_VERSION} (a server test keeps the two equal). 2.14.5: the last 2.14 release
     * the spec lists, at level 4.
     */
    public static final String SERVER_VERSION = "2.14.5";

    public static final String REQUIRED_HEADER = "Nats-Required-Api-Level";
    /** The level a sourcing consumer request ({@code "sourcing": true}, nats-server 2.14) needs of the origin. */
    public static final int SOURCING_CONSUMER = 4;
    /** Stored: the level an asset needs. */
    public static final String META_REQUIRED = "_nats.req.level";
    /** Added to responses only: the server's version and level. */
    public static final String META_VERSION = "_nats.ver";
    public static final String META_LEVEL = "_nats.level";

    /**
     * Whether a request with {@code headers} may be served by a server at {@code serverLevel}: no
     * {@code Nats-Required-Api-Level}, or an integer at most the server's level. Anything else is refused (10185
     * on the JSON endpoints, status {@code 412 Required Api Level} on direct gets and pull requests).
     */
    public static boolean satisfied(byte[] headers, int serverLevel) {
        String v = header(headers, REQUIRED_HEADER);
        if (v == null) {
            return true;
        }
        try {
            return Integer.parseInt(v) <= serverLevel;
        } catch (NumberFormatException e) {
            return false; // not an integer
        }
    }

    /**
     * Metadata as stored for a create or update on a server at {@code serverLevel} (nats-server 2.11+): the dynamic
     * keys a client echoed back are dropped and {@code _nats.req.level} is set to {@code required}. At level 0
     * (nats-server 2.10) metadata is kept as sent.
     */
    public static Map<String, String> stored(Map<String, String> metadata, int required, int serverLevel) {
        if (serverLevel < 1) {
            return metadata;
        }
        Map<String, String> out = new LinkedHashMap<>(metadata);
        out.remove(META_VERSION);
        out.remove(META_LEVEL);
        out.put(META_REQUIRED, Integer.toString(required));
        return out;
    }

    /** Metadata as create, update and info responses show it: the stored keys plus the server's version and level. */
    public static Map<String, String> shown(Map<String, String> metadata, String version, int serverLevel) {
        if (serverLevel < 1) {
            return metadata;
        }
        Map<String, String> out = new LinkedHashMap<>(metadata);
        out.put(META_VERSION, version);
        out.put(META_LEVEL, Integer.toString(serverLevel));
        return out;
    }

    /**
     * The header block a sourcing stream sends with its sourcing consumer request, as nats-server 2.14 does
     * ({@code Nats-Required-Api-Level: 4}), when this server is at that level; null below it. JetKV sources only from
     * streams of its own server, which at a lower level would refuse its own request (10185) although it makes
     * sourcing consumers; the header goes out once {@link #SERVER} reaches {@link #SOURCING_CONSUMER}.
     */
    public static byte[] sourcingRequestHeaders(int serverLevel) {
        if (serverLevel < SOURCING_CONSUMER) {
            return null;
        }
        return ("NATS/1.0\r\n" + REQUIRED_HEADER + ": " + SOURCING_CONSUMER + "\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The first value of {@code name} in a header block (exact name, trimmed), or null. */
    static String header(byte[] headers, String name) {
        if (headers == null) {
            return null;
        }
        String text = new String(headers, StandardCharsets.UTF_8);
        for (String line : text.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }
}
