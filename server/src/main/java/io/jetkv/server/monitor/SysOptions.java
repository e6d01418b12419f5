package io.jetkv.server.monitor;

import io.jetkv.server.monitor.GoJson.Field;
import io.jetkv.server.monitor.GoJson.Kind;
import io.jetkv.server.monitor.GoJson.Schema;
import java.util.ArrayList;
import java.util.List;

/**
 * The options structs nats-server decodes {@code $SYS.REQ} request bodies into, field by field as its errors name
 * them (captured from nats-server 2.9.10 by sending each field a value of the wrong kind): every one carries the
 * server filter ({@code server_name}, {@code cluster}, {@code host}, {@code tags}, {@code domain}) beside its own.
 */
final class SysOptions {

    private SysOptions() {
    }

    private static final List<Field> FILTER = List.of(Field.string("server_name"), Field.string("cluster"),
            Field.string("host"), new Field("tags", Kind.STRINGS, "[]string"), Field.string("domain"));

    static final Schema STATSZ = schema("StatszEventOptions");
    static final Schema VARZ = schema("VarzEventOptions");
    static final Schema CONNZ = schema("ConnzEventOptions", new Field("sort", Kind.STRING, "server.SortOpt"),
            Field.bool("auth"), Field.bool("subscriptions"), Field.bool("subscriptions_detail"),
            Field.integer("offset"), Field.integer("limit"), new Field("cid", Kind.UINT64, "uint64"),
            Field.string("mqtt_client"), new Field("state", Kind.INT, "server.ConnState"), Field.string("user"),
            Field.string("acc"), Field.string("filter_subject"));
    static final Schema ROUTEZ = schema("RoutezEventOptions", Field.bool("subscriptions"),
            Field.bool("subscriptions_detail"));
    static final Schema GATEWAYZ = schema("GatewayzEventOptions", Field.string("name"), Field.bool("accounts"),
            Field.string("account_name"));
    static final Schema LEAFZ = schema("LeafzEventOptions", Field.bool("subscriptions"), Field.string("account"));
    static final Schema SUBSZ = schema("SubszEventOptions", Field.integer("offset"), Field.integer("limit"),
            Field.bool("subscriptions"), Field.string("account"), Field.string("test"));
    static final Schema ACCOUNTZ = schema("AccountzEventOptions", Field.string("account"));
    static final Schema JSZ = schema("JszEventOptions", Field.string("account"), Field.bool("accounts"),
            Field.bool("streams"), Field.bool("consumer"), Field.bool("config"), Field.bool("leader_only"),
            Field.integer("offset"), Field.integer("limit"));
    static final Schema HEALTHZ = schema("HealthzEventOptions", Field.bool("js-enabled-only"),
            Field.bool("js-server-only"));
    static final Schema ACCOUNT_INFO = schema("AccInfoEventOptions");
    static final Schema ACCOUNT_STATZ = schema("AccountStatzEventOptions",
            new Field("accounts", Kind.STRINGS, "[]string"), Field.bool("include_unused"));

    private static Schema schema(String goName, Field... own) {
        List<Field> fields = new ArrayList<>(FILTER);
        fields.addAll(List.of(own));
        return new Schema(goName, List.copyOf(fields));
    }

    /** The struct a server endpoint's body decodes into ({@code STATSZ-PING} is the bare {@code PING}). */
    static Schema forServer(String endpoint) {
        return switch (endpoint) {
            case "STATSZ-PING", "STATSZ" -> STATSZ;
            case "VARZ" -> VARZ;
            case "CONNZ" -> CONNZ;
            case "ROUTEZ" -> ROUTEZ;
            case "GATEWAYZ" -> GATEWAYZ;
            case "LEAFZ" -> LEAFZ;
            case "SUBSZ" -> SUBSZ;
            case "ACCOUNTZ" -> ACCOUNTZ;
            case "JSZ" -> JSZ;
            case "HEALTHZ" -> HEALTHZ;
            default -> throw new IllegalArgumentException(endpoint);
        };
    }

    /** The struct an account endpoint's body decodes into. */
    static Schema forAccount(String endpoint) {
        return switch (endpoint) {
            case "CONNZ" -> CONNZ;
            case "SUBSZ" -> SUBSZ;
            case "JSZ" -> JSZ;
            case "LEAFZ" -> LEAFZ;
            case "INFO" -> ACCOUNT_INFO;
            case "STATZ" -> ACCOUNT_STATZ;
            default -> throw new IllegalArgumentException(endpoint);
        };
    }
}
