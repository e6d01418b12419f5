package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertError;
import static io.jetkv.jetstream.TestClient.assertNoError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Interest and work-queue retention: a message leaves the stream once every consumer that takes it is done
 * with it (interest), or once its one consumer acknowledged it (work queue). Expectations checked against
 * nats-server 2.9.10.
 */
class RetentionTest extends JetStreamTestBase {

    /** Pulls up to {@code batch} messages with no_wait and returns their ack subjects. */
    private List<String> pull(String stream, String consumer, int batch) throws InterruptedException {
        LinkedBlockingQueue<String> acks = new LinkedBlockingQueue<>();
        String inbox = "_INBOX.pull." + System.nanoTime();
        var sub = bus.subscribe(inbox, (s, r, h, p) -> acks.add(r == null ? "" : r));
        try {
            bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT." + stream + "." + consumer, inbox, null,
                    ("{\"batch\":" + batch + ",\"no_wait\":true}").getBytes(StandardCharsets.UTF_8));
            List<String> out = new ArrayList<>();
            while (true) {
                String r = acks.poll(5, TimeUnit.SECONDS);
                assertNotNull(r, "pull answered");
                if (r.isEmpty()) {
                    return out; // the terminating status (no reply subject)
                }
                out.add(r);
                if (out.size() == batch) {
                    return out;
                }
            }
        } finally {
            sub.unsubscribe();
        }
    }

    private void ack(String ackSubject) {
        assertNotNull(client.request(ackSubject, "+ACK"), "ack confirmed");
    }

    private JsonNode state(String stream) {
        return info(stream).get("state");
    }

    private JsonNode consumer(String stream, String name, String config) {
        return client.api("$JS.API.CONSUMER.CREATE." + stream + "." + name,
                "{\"stream_name\":\"" + stream + "\",\"config\":" + config + "}");
    }

    @Test
    void interestKeepsMessagesUntilEveryConsumerIsDone() throws Exception {
        createStream("{\"name\":\"I\",\"subjects\":[\"i.>\"],\"retention\":\"interest\"}");
        // nobody is interested yet: the sequence is used, nothing is stored
        assertEquals(1, client.publish("i.a", null, "1").get("seq").asLong());
        JsonNode st = state("I");
        assertEquals(0, st.get("messages").asLong());
        assertEquals(2, st.get("first_seq").asLong());
        assertEquals(1, st.get("last_seq").asLong());

        assertNoError(consumer("I", "c1", "{\"durable_name\":\"c1\",\"ack_policy\":\"explicit\"}"));
        assertNoError(client.api("$JS.API.CONSUMER.CREATE.I.c2.i.b", "{\"stream_name\":\"I\",\"config\":"
                + "{\"durable_name\":\"c2\",\"ack_policy\":\"none\",\"filter_subject\":\"i.b\"}}"));
        client.publish("i.a", null, "2");
        client.publish("i.b", null, "3");
        client.publish("i.c", null, "4");
        assertEquals(3, state("I").get("messages").asLong());

        // c2 takes i.b without acks: delivered is done for c2, but c1 still needs it
        assertEquals(1, pull("I", "c2", 5).size());
        assertEquals(3, state("I").get("messages").asLong());

        List<String> acks = pull("I", "c1", 2);
        assertEquals(2, acks.size());
        ack(acks.get(0)); // seq 2: only c1 wanted it
        assertEquals(2, state("I").get("messages").asLong());
        ack(acks.get(1)); // seq 3: c2 is done with it too
        st = state("I");
        assertEquals(1, st.get("messages").asLong());
        assertEquals(4, st.get("first_seq").asLong());

        // deleting c1 drops what only it still needed
        assertNoError(client.api("$JS.API.CONSUMER.DELETE.I.c1", ""));
        st = state("I");
        assertEquals(0, st.get("messages").asLong());
        assertEquals(5, st.get("first_seq").asLong());
        // c2 does not take i.c: not stored
        client.publish("i.c", null, "5");
        assertEquals(0, state("I").get("messages").asLong());
        client.publish("i.b", null, "6");
        assertEquals(1, state("I").get("messages").asLong());
    }

    @Test
    void workQueueRemovesOnAckAndKeepsWhatNobodyTook() throws Exception {
        createStream("{\"name\":\"W\",\"subjects\":[\"w.>\"],\"retention\":\"workqueue\"}");
        client.publish("w.x", null, "1");
        client.publish("w.y", null, "2");
        assertEquals(2, state("W").get("messages").asLong());
        assertNoError(client.api("$JS.API.CONSUMER.CREATE.W.x.w.x", "{\"stream_name\":\"W\",\"config\":"
                + "{\"ack_policy\":\"explicit\",\"filter_subject\":\"w.x\"}}"));
        List<String> acks = pull("W", "x", 5);
        assertEquals(1, acks.size());
        assertEquals(2, state("W").get("messages").asLong());
        ack(acks.get(0));
        JsonNode st = state("W");
        assertEquals(1, st.get("messages").asLong());
        assertEquals(2, st.get("first_seq").asLong());
        // deleting the consumer leaves the rest for the next one
        assertNoError(client.api("$JS.API.CONSUMER.DELETE.W.x", ""));
        assertEquals(1, state("W").get("messages").asLong());
    }

    @Test
    void workQueueConsumerRules() {
        createStream("{\"name\":\"W\",\"subjects\":[\"w.>\"],\"retention\":\"workqueue\"}");
        assertError(consumer("W", "a", "{\"ack_policy\":\"none\",\"deliver_policy\":\"last\"}"), 400, 10084);
        assertError(consumer("W", "a", "{\"ack_policy\":\"all\"}"), 400, 10098);
        assertError(consumer("W", "a", "{\"deliver_subject\":\"d.a\",\"ack_policy\":\"none\"}"), 400, 10098);
        assertError(consumer("W", "a", "{\"ack_policy\":\"explicit\",\"deliver_policy\":\"last\"}"), 400, 10101);
        assertNoError(consumer("W", "a", "{\"ack_policy\":\"explicit\"}"));
        assertError(consumer("W", "b", "{\"ack_policy\":\"explicit\"}"), 400, 10099);
        assertError(client.api("$JS.API.CONSUMER.CREATE.W.b.w.x", "{\"stream_name\":\"W\",\"config\":"
                + "{\"ack_policy\":\"explicit\",\"filter_subject\":\"w.x\"}}"), 400, 10100);
        assertNoError(client.api("$JS.API.CONSUMER.DELETE.W.a", ""));
        assertNoError(client.api("$JS.API.CONSUMER.CREATE.W.b.w.x", "{\"stream_name\":\"W\",\"config\":"
                + "{\"ack_policy\":\"explicit\",\"filter_subject\":\"w.x\"}}"));
        assertError(client.api("$JS.API.CONSUMER.CREATE.W.c.w.*", "{\"stream_name\":\"W\",\"config\":"
                + "{\"ack_policy\":\"explicit\",\"filter_subject\":\"w.*\"}}"), 400, 10100);
        assertNoError(client.api("$JS.API.CONSUMER.CREATE.W.d.w.y", "{\"stream_name\":\"W\",\"config\":"
                + "{\"ack_policy\":\"explicit\",\"filter_subject\":\"w.y\"}}"));
        // updating a consumer is not a second consumer
        assertNoError(client.api("$JS.API.CONSUMER.CREATE.W.b.w.x", "{\"stream_name\":\"W\",\"config\":"
                + "{\"ack_policy\":\"explicit\",\"filter_subject\":\"w.x\",\"description\":\"upd\"}}"));
    }

    @Test
    void retentionCannotChange() {
        createStream("{\"name\":\"W\",\"subjects\":[\"w.>\"],\"retention\":\"workqueue\"}");
        JsonNode r = client.api("$JS.API.STREAM.UPDATE.W", "{\"name\":\"W\",\"subjects\":[\"w.>\"],"
                + "\"retention\":\"interest\"}");
        assertError(r, 500, 10052);
        assertEquals("stream configuration update can not change retention policy to/from workqueue",
                r.get("error").get("description").asText());
    }
}
