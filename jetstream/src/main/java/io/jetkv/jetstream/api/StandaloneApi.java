package io.jetkv.jetstream.api;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The {@code $JS.API} operations a server without a JetStream cluster answers only with a refusal, so that
 * clients get the reference's error instead of waiting for a timeout: leader step-downs and peer or server
 * removal (503/10010), and stream templates, which JetKV never creates (deprecated in nats-server).
 *
 * <p>Threading: handlers run on API workers and only build replies.
 */
public final class StandaloneApi {
    private StandaloneApi() {}

    public static void registerWith(JsApi api) {
        refuse(api, JsApiSubjects.STREAM_LEADER_STEPDOWN, 1, JsApiSubjects.STREAM_LEADER_STEPDOWN_RESPONSE);
        refuse(api, JsApiSubjects.STREAM_PEER_REMOVE, 1, JsApiSubjects.STREAM_REMOVE_PEER_RESPONSE);
        refuse(api, JsApiSubjects.CONSUMER_LEADER_STEPDOWN, 2, JsApiSubjects.CONSUMER_LEADER_STEPDOWN_RESPONSE);
        refuse(api, JsApiSubjects.META_LEADER_STEPDOWN, 0, JsApiSubjects.META_LEADER_STEPDOWN_RESPONSE);
        refuse(api, JsApiSubjects.SERVER_REMOVE, 0, JsApiSubjects.META_SERVER_REMOVE_RESPONSE);
        api.register(JsApiSubjects.TEMPLATE_NAMES, 0, 0, JsApiSubjects.TEMPLATE_NAMES_RESPONSE, req -> {
            JsJson.getInt(req.body(), "offset", 0); // the options are decoded: malformed ones are 10025
            ObjectNode out = JsJson.object();
            out.put("total", 0);
            out.put("offset", 0);
            out.put("limit", JsApiSubjects.NAMES_LIMIT);
            out.putArray("streams");
            req.respond(out);
        });
        api.register(JsApiSubjects.TEMPLATE_CREATE, 1, 1, JsApiSubjects.TEMPLATE_CREATE_RESPONSE, req -> {
            if (!req.arg(0).equals(JsJson.getString(req.decode(), "name"))) {
                throw new JsApiException(JsError.TEMPLATE_NAME_NOT_MATCH_SUBJECT);
            }
            throw new JsApiException(JsError.TEMPLATE_CREATE_FAILED, "stream templates are not supported");
        });
        api.register(JsApiSubjects.TEMPLATE_INFO, 1, 1, JsApiSubjects.TEMPLATE_INFO_RESPONSE, StandaloneApi::noTemplate);
        api.register(JsApiSubjects.TEMPLATE_DELETE, 1, 1, JsApiSubjects.TEMPLATE_DELETE_RESPONSE,
                StandaloneApi::noTemplate);
    }

    private static void refuse(JsApi api, String op, int args, String responseType) {
        api.register(op, args, args, responseType, req -> {
            throw new JsApiException(JsError.CLUSTER_REQUIRED);
        });
    }

    private static void noTemplate(ApiRequest req) {
        req.requireEmpty();
        throw new JsApiException(JsError.TEMPLATE_NOT_FOUND);
    }
}
