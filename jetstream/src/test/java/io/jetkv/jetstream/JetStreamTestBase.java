package io.jetkv.jetstream;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** Starts a {@link JetStreamService} on a {@link FakeBus} with memory-backed storage for each test. */
abstract class JetStreamTestBase {
    protected FakeBus bus;
    protected TestClient client;
    protected JetStreamService js;

    @BeforeEach
    void startJetStream() {
        bus = new FakeBus();
        client = new TestClient(bus);
        js = JetStreamService.start(options(), bus, new MemoryBackend());
    }

    protected JetStreamOptions options() {
        return new JetStreamOptions(Path.of("unused"), -1, -1, false, null);
    }

    @AfterEach
    void stopJetStream() {
        js.close();
    }

    protected JsonNode createStream(String json) {
        String name;
        try {
            name = TestClient.JSON.readTree(json).get("name").asText();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        JsonNode r = client.api("$JS.API.STREAM.CREATE." + name, json);
        TestClient.assertNoError(r);
        return r;
    }

    protected JsonNode info(String stream) {
        return client.api("$JS.API.STREAM.INFO." + stream, "");
    }
}
