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
        // level 1 is nats-server 2.11, level 2 is 2.12.0 to 2.12.4, level 3 is 2.12.5 to 2.12.15, level 4 is 2.14
        // (spec jetstream-2.11-2.14.md section 0)
        String[] v = Version.NATS_VERSION.split("\\.");
        int minor = Integer.parseInt(v[1]);
        int patch = Integer.parseInt(v[2]);
        int levelOfVersion = switch (minor) {
            case 10 -> 0;
            case 11 -> 1;
            case 12 -> patch <= 4 ? 2 : 3;
            case 14 -> 4;
            default -> -1;
        };
        assertEquals(ApiLevel.SERVER, levelOfVersion, Version.NATS_VERSION);
        assertTrue(minor != 12 || patch <= 15, Version.NATS_VERSION);
    }
}
