package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertError;
import static io.jetkv.jetstream.TestClient.assertNoError;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The server's max memory / file store limits. */
class ResourceLimitTest extends JetStreamTestBase {
    @Override
    protected JetStreamOptions options() {
        return new JetStreamOptions(Path.of("unused"), 1000, -1, false, null);
    }

    @Test
    void memoryLimitRefusesBigStreamsAndPublishesBeyondIt() {
        assertError(client.api("$JS.API.STREAM.CREATE.BIG", "{\"name\":\"BIG\",\"storage\":\"memory\",\"max_bytes\":5000}"),
                500, 10028);
        assertNoError(client.api("$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"storage\":\"memory\"}"));
        assertNoError(client.publish("M", null, "x".repeat(600)));
        assertError(client.publish("M", null, "x".repeat(600)), 503, 10023);
        assertEquals(1000, client.api("$JS.API.INFO", "").get("limits").get("max_memory").asLong());
        // deleting the stream gives the memory back
        assertNoError(client.api("$JS.API.STREAM.DELETE.M", ""));
        assertNoError(client.api("$JS.API.STREAM.CREATE.M2", "{\"name\":\"M2\",\"storage\":\"memory\"}"));
        assertNoError(client.publish("M2", null, "x".repeat(600)));
    }
}
