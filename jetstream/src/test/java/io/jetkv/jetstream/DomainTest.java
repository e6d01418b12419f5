package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertNoError;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A server with a JetStream domain answers {@code $JS.<domain>.API} too and names the domain. */
class DomainTest extends JetStreamTestBase {
    @Override
    protected JetStreamOptions options() {
        return new JetStreamOptions(Path.of("unused"), -1, -1, false, "hub");
    }

    @Test
    void domainPrefixAndDomainInAcksAndAccountInfo() {
        JsonNode r = client.api("$JS.hub.API.STREAM.CREATE.S", "{\"name\":\"S\"}");
        assertNoError(r);
        assertEquals("hub", client.api("$JS.API.INFO", "").get("domain").asText());
        JsonNode ack = client.publish("S", null, "x");
        assertEquals("hub", ack.get("domain").asText());
        assertEquals(1, ack.get("seq").asLong());
        assertEquals(1, client.api("$JS.hub.API.STREAM.INFO.S", "").get("state").get("messages").asLong());
    }
}
