package io.jetkv.jetstream.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsJson;
import org.junit.jupiter.api.Test;

/** 2.11's consumer fields: pause_until, priority_groups/priority_policy/priority_timeout, their JSON and rules. */
class ConsumerConfigPriorityTest {

    private static ConsumerConfig parse(String json) throws Exception {
        return ConsumerConfig.fromJson((ObjectNode) JsJson.MAPPER.readTree(json)).withDefaults("c");
    }

    private static int error(String json) {
        return assertThrows(JsApiException.class, () -> parse(json).validate()).error().errCode();
    }

    @Test
    void pinnedClientDefaultsAndEcho() throws Exception {
        ConsumerConfig c = parse("{\"ack_policy\":\"explicit\",\"priority_policy\":\"pinned_client\","
                + "\"priority_groups\":[\"jobs\",\"b\"],\"pause_until\":\"2030-01-02T03:04:05.5+01:00\"}");
        c.validate();
        assertEquals(ConsumerConfig.DEFAULT_PRIORITY_TIMEOUT, c.priorityTimeout());
        ObjectNode out = c.toJson();
        assertEquals("pinned_client", out.get("priority_policy").asText());
        assertEquals("[\"jobs\",\"b\"]", out.get("priority_groups").toString());
        assertEquals(120_000_000_000L, out.get("priority_timeout").asLong());
        assertEquals("2030-01-02T02:04:05.5Z", out.get("pause_until").asText()); // stored in UTC
        // the echo parses back to the same configuration
        assertEquals(out, ConsumerConfig.fromJson(out).withDefaults("c").toJson());
    }

    @Test
    void policyNoneIsOmittedAndTheEpochIsAPauseTime() throws Exception {
        ConsumerConfig c = parse("{\"priority_policy\":\"none\",\"pause_until\":\"1970-01-01T00:00:00Z\"}");
        ObjectNode out = c.toJson();
        assertFalse(out.has("priority_policy"));
        assertFalse(out.has("priority_timeout"));
        assertEquals("1970-01-01T00:00:00Z", out.get("pause_until").asText());
        assertNull(parse("{\"pause_until\":\"0001-01-01T00:00:00Z\"}").pauseUntil());
    }

    @Test
    void rulesInTheReferenceOrder() {
        assertEquals(10178, error("{\"deliver_subject\":\"d\",\"priority_policy\":\"overflow\"}"));
        assertEquals(10159, error("{\"priority_policy\":\"overflow\"}"));
        assertEquals(10161, error("{\"priority_policy\":\"overflow\",\"priority_groups\":[\"\"]}"));
        assertEquals(10162, error("{\"priority_policy\":\"overflow\",\"priority_groups\":[\"a.b\"]}"));
        assertEquals(10162, error("{\"priority_policy\":\"overflow\",\"priority_groups\":[\"abcdefghijklmnopq\"]}"));
        assertEquals(10196, error("{\"priority_groups\":[\"a\"]}"));
        assertEquals(10197, error("{\"priority_timeout\":5}"));
        assertEquals(10025, assertThrows(JsApiException.class, () -> parse("{\"priority_policy\":\"failover\"}"))
                .error().errCode());
    }
}
