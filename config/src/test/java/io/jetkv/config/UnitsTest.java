package io.jetkv.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UnitsTest {

    @Test
    void sizesUseThousandsForKAndPowersOfTwoForKb() {
        assertEquals(1000, Units.parseSize("1K"));
        assertEquals(1024, Units.parseSize("1KB"));
        assertEquals(1024, Units.parseSize("1kib"));
        assertEquals(5L << 20, Units.parseSize("5mb"));
        assertEquals(3L << 30, Units.parseSize("3GB"));
        assertEquals(2L << 40, Units.parseSize("2TB"));
        assertEquals(-1, Units.parseSize("-1"));
        assertEquals(42, Units.parseSize("42"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "MB", "1XB", "1.5MB", "99999999999999999999", "9999999999TB"})
    void badSizes(String text) {
        assertThrows(NumberFormatException.class, () -> Units.parseSize(text));
    }

    @Test
    void goDurations() {
        assertEquals(Duration.ofMillis(500), Units.parseDuration("500ms"));
        assertEquals(Duration.ofSeconds(10), Units.parseDuration("10s"));
        assertEquals(Duration.ofMinutes(2), Units.parseDuration("2m"));
        assertEquals(Duration.ofMinutes(90), Units.parseDuration("1h30m"));
        assertEquals(Duration.ofMillis(1100), Units.parseDuration("1.1s"));
        assertEquals(Duration.ofNanos(1500), Units.parseDuration("1us500ns"));
        assertEquals(Duration.ofMinutes(-90), Units.parseDuration("-1.5h"));
        assertEquals(Duration.ZERO, Units.parseDuration("0"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10", "s", "1x", "1.s.", "-", "1h 30m", "..5s"})
    void badDurations(String text) {
        assertThrows(IllegalArgumentException.class, () -> Units.parseDuration(text));
    }

    @Test
    void durationsPrintAsGoDoes() {
        assertEquals("0s", Units.formatDuration(java.time.Duration.ZERO));
        assertEquals("30s", Units.formatDuration(java.time.Duration.ofSeconds(30)));
        assertEquals("1m30s", Units.formatDuration(java.time.Duration.ofSeconds(90)));
        assertEquals("2h0m0s", Units.formatDuration(java.time.Duration.ofHours(2)));
        assertEquals("1.5s", Units.formatDuration(java.time.Duration.ofMillis(1500)));
        assertEquals("250ms", Units.formatDuration(java.time.Duration.ofMillis(250)));
    }
}
