package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.Version;
import io.jetkv.jetstream.api.ApiLevel;
import org.junit.jupiter.api.Test;

/**
 * INFO's {@code version} and the JetStream API level rise together (clients pick features by one or the other), and
 * the {@code _nats.ver} the JetStream module writes is the version INFO advertises.
 */
class VersionTest {
    @Test
    void theAdvertisedVersionMatchesTheApiLevel() {
        assertEquals(Version.NATS_VERSION, ApiLevel.SERVER_VERSION);
        // level 1 is nats-server 2.11, level 2 is 2.12.0 to 2.12.4 (spec jetstream-2.11-2.14.md section 0)
        String expectedMinor = switch (ApiLevel.SERVER) {
            case 0 -> "2.10.";
            case 1 -> "2.11.";
            case 2 -> "2.12.";
            default -> "2.14.";
        };
        assertTrue(Version.NATS_VERSION.startsWith(expectedMinor), Version.NATS_VERSION);
    }
}
