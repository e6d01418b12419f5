package io.jetkv.jetstream.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.JetStreamService;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.stream.StreamConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Where a stream lives, as the meta group recorded it: its configuration, the servers holding it (by
 * server name, with their Ratis addresses) and, for a replicated stream, the Ratis group replicating it. {@code reply}
 * is the create request's reply subject, answered once by the first leader (as nats-server's new stream leader
 * answers); {@code updateReply} the last update request's, answered by the leader that applies it. The two are kept
 * apart so that a create racing an update gets both answered, each with its own response type, and a leader change
 * after an update never answers an update's requester as if it had created the stream. {@code group} is new with
 * every create, so it tells a stream re-created under the same name from the one deleted. {@code revision} is the
 * meta log index of the last update (0: as created); a replica applies the configuration of a revision once
 * ({@code StreamOp.Config}). {@code account} is the account the stream belongs to ({@code $G} when an entry written
 * before accounts names none). Immutable.
 */
record Assignment(String account, StreamConfig config, List<String> peers, List<String> addresses, UUID group,
        long created, String reply, String responseType, long revision, String updateReply, String updateType) {

    Assignment(String account, StreamConfig config, List<String> peers, List<String> addresses, UUID group,
            long created, String reply, String responseType) {
        this(account, config, peers, addresses, group, created, reply, responseType, 0, null, null);
    }

    /**
     * This assignment with an updated configuration, at meta log index {@code revision}, answering {@code updateReply}
     * (the create's reply stays, in case the stream leader has not answered it yet).
     */
    Assignment updated(StreamConfig cfg, String newUpdateReply, String newUpdateType, long atRevision) {
        return new Assignment(account, cfg, peers, addresses, group, created, reply, responseType, atRevision,
                newUpdateReply, newUpdateType);
    }

    /** This assignment on other servers (a peer removed, maybe replaced), in the same Ratis group. */
    Assignment withPeers(List<String> newPeers, List<String> newAddresses) {
        return new Assignment(account, config, List.copyOf(newPeers), List.copyOf(newAddresses), group, created, null, null,
                revision, null, null);
    }

        String name() {
        return config.name();
    }

    /** Where the meta group keeps it: see {@link #key(String, String)}. */
    String key() {
        return key(account, name());
    }

    /**
     * A stream's key in the meta group: its name in the global account (as before accounts, so that existing Raft
     * logs and group files still read), {@code "<account> <name>"} in any other (neither holds a space).
     */
    static String key(String account, String stream) {
        return JetStreamService.GLOBAL_ACCOUNT.equals(account) ? stream : account + " " + stream;
    }

    /** The account part of a {@link #key}. */
    static String accountOf(String key) {
        int sp = key.indexOf(' ');
        return sp < 0 ? JetStreamService.GLOBAL_ACCOUNT : key.substring(0, sp);
    }

    /** The stream name part of a {@link #key}. */
    static String streamOf(String key) {
        return key.substring(key.indexOf(' ') + 1);
    }

    boolean replicated() {
        return peers.size() > 1;
    }

    ObjectNode toJson() {
        ObjectNode o = JsJson.object();
        if (!JetStreamService.GLOBAL_ACCOUNT.equals(account)) {
            o.put("account", account);
        }
        o.set("config", config.toJson());
        ArrayNode p = o.putArray("peers");
        peers.forEach(p::add);
        ArrayNode ad = o.putArray("addresses");
        addresses.forEach(ad::add);
        o.put("group", group.toString());
        o.put("created", created);
        if (reply != null) {
            o.put("reply", reply);
            o.put("type", responseType);
        }
        if (revision > 0) {
            o.put("revision", revision);
            // always written once updated: its presence says "reply" is the create's (see fromJson)
            o.put("update_reply", updateReply);
            o.put("update_type", updateType);
        }
        return o;
    }

    static Assignment fromJson(JsonNode o) {
        List<String> peers = new ArrayList<>();
        o.get("peers").forEach(n -> peers.add(n.asText()));
        List<String> addresses = new ArrayList<>();
        o.get("addresses").forEach(n -> addresses.add(n.asText()));
        String reply = o.hasNonNull("reply") ? o.get("reply").asText() : null;
        String type = o.hasNonNull("type") ? o.get("type").asText() : null;
        long revision = o.path("revision").asLong(0);
        String updateReply = o.hasNonNull("update_reply") ? o.get("update_reply").asText() : null;
        String updateType = o.hasNonNull("update_type") ? o.get("update_type").asText() : null;
        if (revision > 0 && !o.has("update_reply")) {
            // written before the two were apart: an updated assignment's reply was the update's
            updateReply = reply;
            updateType = type;
            reply = null;
            type = null;
        }
        return new Assignment(o.path("account").asText(JetStreamService.GLOBAL_ACCOUNT),
                StreamConfig.fromJson((ObjectNode) o.get("config")), List.copyOf(peers),
                List.copyOf(addresses),
                UUID.fromString(o.get("group").asText()), o.get("created").asLong(), reply, type, revision,
                updateReply, updateType);
    }
}
