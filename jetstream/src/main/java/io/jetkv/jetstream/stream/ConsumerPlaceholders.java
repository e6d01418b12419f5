package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.ApiRequest;
import io.jetkv.jetstream.api.JsApi;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsApiSubjects;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;

/**
 * What {@code $JS.API.CONSUMER.*} answers until the consumer side registers its own handlers (same
 * operations and token counts replace these in {@link JsApi}): 10059 for an unknown stream, otherwise
 * 10014 (info/delete), an empty page (names/list), a clear 10012 for create, and silence for pull
 * requests as the reference gives for a consumer that does not exist.
 */
final class ConsumerPlaceholders {
    private ConsumerPlaceholders() {}

    static void registerWith(JsApi api, StreamManager streams) {
        JsApi.Handler create = req -> {
            requireStream(streams, req);
            throw new JsApiException(JsError.CONSUMER_CREATE_FAILED, "consumers are not supported yet");
        };
        api.register(JsApiSubjects.CONSUMER_CREATE, 1, Integer.MAX_VALUE, JsApiSubjects.CONSUMER_CREATE_RESPONSE, create);
        api.register(JsApiSubjects.CONSUMER_DURABLE_CREATE, 2, 2, JsApiSubjects.CONSUMER_CREATE_RESPONSE, create);
        JsApi.Handler notFound = req -> {
            requireStream(streams, req);
            throw new JsApiException(JsError.CONSUMER_NOT_FOUND);
        };
        api.register(JsApiSubjects.CONSUMER_INFO, 2, 2, JsApiSubjects.CONSUMER_INFO_RESPONSE, notFound);
        api.register(JsApiSubjects.CONSUMER_DELETE, 2, 2, JsApiSubjects.CONSUMER_DELETE_RESPONSE, notFound);
        api.register(JsApiSubjects.CONSUMER_NAMES, 1, 1, JsApiSubjects.CONSUMER_NAMES_RESPONSE,
                req -> emptyPage(streams, req, "consumers", JsApiSubjects.NAMES_LIMIT));
        api.register(JsApiSubjects.CONSUMER_LIST, 1, 1, JsApiSubjects.CONSUMER_LIST_RESPONSE,
                req -> emptyPage(streams, req, "consumers", JsApiSubjects.LIST_LIMIT));
        api.register(JsApiSubjects.CONSUMER_MSG_NEXT, 2, 2, "", req -> {});
    }

    private static void requireStream(StreamManager streams, ApiRequest req) {
        if (streams.get(req.arg(0)) == null) {
            throw new JsApiException(JsError.STREAM_NOT_FOUND);
        }
    }

    private static void emptyPage(StreamManager streams, ApiRequest req, String field, int limit) {
        requireStream(streams, req);
        ObjectNode out = JsJson.object();
        out.put("total", 0);
        out.put("offset", 0);
        out.put("limit", limit);
        out.putArray(field);
        req.respond(out);
    }
}
