package io.jetkv.jetstream.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.MessageBus;
import java.util.List;

/**
 * One {@code $JS.API} request being served: the name tokens taken from its subject, its body, and the way
 * back to the requester. Replies are sent at most once, from whichever thread finishes the request (an
 * API worker or a stream's writer).
 */
public final class ApiRequest {
    private final JsApi api;
    private final MessageBus bus;
    private final String subject;
    private final List<String> args;
    private final String reply;
    private final byte[] headers;
    private final byte[] payload;
    private final String responseType;
    /** The operation ({@code STREAM.CREATE}), whose request type strict decoding checks the body against. */
    private final String op;
    private final boolean strict;

    ApiRequest(JsApi api, MessageBus bus, String subject, List<String> args, String reply, byte[] headers,
            byte[] payload, String responseType, String op, boolean strict) {
        this.op = op;
        this.strict = strict;
        this.api = api;
        this.bus = bus;
        this.subject = subject;
        this.args = args;
        this.reply = reply;
        this.headers = headers;
        this.payload = payload;
        this.responseType = responseType;
    }

    /** The request subject with the API prefix (domain or not) normalised to {@code $JS.API.}. */
    public String subject() {
        return subject;
    }

    /** The name tokens after the operation: stream, consumer, filter tokens. */
    public List<String> args() {
        return args;
    }

    public String arg(int i) {
        return args.get(i);
    }

    /** Reply subject, or null: the request is processed but nothing is sent back. */
    public String reply() {
        return reply;
    }

    public byte[] headers() {
        return headers;
    }

    public byte[] payload() {
        return payload;
    }

    public String responseType() {
        return responseType;
    }

    /** The options of a request whose body is optional: {@code {}} when empty; 10025 when not a JSON object. */
    public ObjectNode body() {
        return checked(JsJson.parseObject(payload));
    }

    /** The body of a request that needs one (a config): 10025 when empty or not a JSON object; {@code null} is {@code {}}. */
    public ObjectNode decode() {
        return checked(JsJson.decode(payload));
    }

    /** Strict decoding (nats-server 2.12's default): an unknown field is 10025. */
    private ObjectNode checked(ObjectNode body) {
        if (strict) {
            StrictJson.check(op, body);
        }
        return body;
    }

    /** True when the body carries no options (nats-server's {@code isEmptyRequest}). */
    public boolean isEmptyRequest() {
        return JsJson.isEmptyRequest(payload);
    }

    /** For requests that take no body (stream delete, consumer info and delete): anything else is 10038. */
    public void requireEmpty() {
        if (!isEmptyRequest()) {
            throw new JsApiException(JsError.NOT_EMPTY_REQUEST);
        }
    }

    /** Sends {@code {"type":<response type>, ...body}}. */
    public void respond(ObjectNode body) {
        if (reply == null) {
            return;
        }
        bus.publish(reply, null, null, JsJson.bytes(envelope(body)));
    }

    /** The bytes {@link #respond} would send; for replies batched behind a store flush. */
    public byte[] responseBytes(ObjectNode body) {
        return JsJson.bytes(envelope(body));
    }

    public void fail(JsApiException e) {
        api.countError();
        respond(errorBody(e));
    }

    public void fail(JsError error) {
        fail(new JsApiException(error));
    }

    /** The error response bytes, counting the error. */
    public byte[] errorBytes(JsApiException e) {
        api.countError();
        return responseBytes(errorBody(e));
    }

    /** The error response bytes without counting (a fallback that may never be sent). */
    public byte[] uncountedErrorBytes(JsApiException e) {
        return responseBytes(errorBody(e));
    }

    private static ObjectNode errorBody(JsApiException e) {
        ObjectNode body = JsJson.object();
        body.set("error", JsJson.error(e));
        return body;
    }

    private ObjectNode envelope(ObjectNode body) {
        ObjectNode out = JsJson.object();
        out.put("type", responseType);
        out.setAll(body);
        return out;
    }
}
