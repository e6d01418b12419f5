package io.jetkv.jetstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Publishers on several threads (several event loops) get gap-free, unique sequences. */
class ConcurrentPublishTest extends JetStreamTestBase {
    @Test
    void sequencesAreUniqueAndGapFree() throws Exception {
        createStream("{\"name\":\"C\",\"subjects\":[\"c.>\"]}");
        int threads = 4;
        int each = 250;
        Set<Long> seqs = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        JsonNode ack = client.publish("c." + id, null, "m" + i);
                        seqs.add(ack.get("seq").asLong());
                    }
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(threads * each, seqs.size());
        assertTrue(seqs.stream().allMatch(s -> s >= 1 && s <= threads * each));
        assertEquals(threads * each, info("C").get("state").get("messages").asLong());
    }
}
