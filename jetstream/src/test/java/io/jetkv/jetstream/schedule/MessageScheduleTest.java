package io.jetkv.jetstream.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

class MessageScheduleTest {
    static final long SEC = 1_000_000_000L;

    static long t(String rfc3339) {
        Instant i = Instant.parse(rfc3339);
        return i.getEpochSecond() * SEC + i.getNano();
    }

    @Test
    void atIsOneShotAtItsTimeWithAnyOffset() {
        MessageSchedule s = MessageSchedule.parse("@at 2030-01-02T03:04:05+02:00", null);
        assertNotNull(s);
        assertFalse(s.repeats());
        assertEquals(t("2030-01-02T01:04:05Z"), s.first(t("2026-01-01T00:00:00Z")));
        assertNotNull(MessageSchedule.parse("@at 2009-11-10T23:00:00.5Z", null), "fractions are RFC 3339");
        for (String bad : new String[] {"@at 2030-01-02T03:04Z", "@at 2030-01-02 03:04:05Z", "@at tomorrow",
                "@at 2030-13-02T03:04:05Z", "2030-01-02T03:04:05Z"}) {
            assertNull(MessageSchedule.parse(bad, null), bad);
        }
        assertNull(MessageSchedule.parse("@at 2030-01-02T03:04:05Z", "Europe/Amsterdam"), "a zone is for cron only");
    }

    @Test
    void everyRepeatsFromTheWholeSecondAndSkipsMissedRuns() {
        MessageSchedule s = MessageSchedule.parse("@every 1m30s", null);
        assertTrue(s.repeats());
        long stored = t("2026-01-01T00:00:00.6Z"); // rounds to :01
        assertEquals(t("2026-01-01T00:01:31Z"), s.first(stored));
        assertEquals(t("2026-01-01T00:03:01Z"), s.next(t("2026-01-01T00:01:31Z"), t("2026-01-01T00:01:31.2Z")));
        // down for an hour: fires once, then counts from now
        assertEquals(t("2026-01-01T01:01:30Z"), s.next(t("2026-01-01T00:01:31Z"), t("2026-01-01T01:00:00Z")));
        assertEquals("2026-01-01T00:03:01Z", s.format(t("2026-01-01T00:03:01Z")));
        for (String bad : new String[] {"@every 500ms", "@every 0s", "@every -1m", "@every often", "@every 10"}) {
            assertNull(MessageSchedule.parse(bad, null), bad);
        }
        assertNotNull(MessageSchedule.parse("@every 1s", null));
        assertNull(MessageSchedule.parse("@every 1s", "UTC"), "a zone is for cron only");
        assertNotNull(MessageSchedule.parse("@every 1s", ""), "an empty zone is left to the zone check");
    }

    @Test
    void cronFindsTheNextMatchingSecond() {
        MessageSchedule s = MessageSchedule.parse("*/15 * * * * *", null);
        assertEquals(t("2026-01-01T00:00:15Z"), s.first(t("2026-01-01T00:00:00Z")));
        assertEquals(t("2026-01-01T00:00:30Z"), s.next(t("2026-01-01T00:00:15Z"), t("2026-01-01T00:00:16Z")));
        assertEquals(t("2026-01-01T01:00:00Z"), MessageSchedule.parse("@hourly", null).first(t("2026-01-01T00:10:00Z")));
        assertEquals(t("2026-01-04T00:00:00Z"), MessageSchedule.parse("@weekly", null).first(t("2026-01-01T00:00:00Z")),
                "Sunday");
        // day of month OR day of week when both are restricted: the 15th, or a Friday
        MessageSchedule either = MessageSchedule.parse("0 30 4 15 * fri", null);
        assertEquals(t("2026-01-02T04:30:00Z"), either.first(t("2026-01-01T00:00:00Z")));
        assertEquals(t("2026-01-09T04:30:00Z"), either.next(t("2026-01-02T04:30:00Z"), 0));
        assertEquals(t("2026-03-01T00:00:00Z"), MessageSchedule.parse("0 0 0 1 mar-may *", null)
                .first(t("2026-01-01T00:00:00Z")));
        for (String bad : new String[] {"*/5 * * * *", "60 * * * * *", "* * 24 * * *", "* * * 0 * *", "* * * * 13 *",
                "* * * * * 7", "5-1 * * * * *", "*/0 * * * * *", "0 0 0 30 2 *", "@often", ""}) {
            assertNull(MessageSchedule.parse(bad, null), bad);
        }
    }

    @Test
    void cronRunsInItsTimeZoneAcrossClockChanges() {
        MessageSchedule s = MessageSchedule.parse("0 30 2 * * *", "Europe/Amsterdam");
        // 29 March 2026: the clocks jump from 02:00 to 03:00 in Amsterdam, so 02:30 does not exist that day
        long before = t("2026-03-28T12:00:00Z");
        long first = s.first(before);
        assertEquals(t("2026-03-30T00:30:00Z"), first, "a local time the clock skips does not fire (as nats-server)");
        assertEquals(t("2026-03-31T00:30:00Z"), s.next(first, first), "02:30 CEST the day after");
        assertEquals("2026-03-30T02:30:00+02:00", s.format(t("2026-03-30T00:30:00Z")));
    }

    @Test
    void timeZonesAreUtcLocalOrIanaNames() {
        assertEquals(ZoneOffset.UTC, MessageSchedule.zone("UTC"));
        assertEquals(ZoneId.systemDefault(), MessageSchedule.zone("Local"));
        assertEquals(ZoneId.of("America/New_York"), MessageSchedule.zone("America/New_York"));
        for (String bad : new String[] {"", "+02:00", "Z", "GMT+2", "Mars/Olympus", "utc"}) {
            assertNull(MessageSchedule.zone(bad), bad);
        }
    }

    @Test
    void nextTimesReadBack() {
        assertEquals(t("2026-03-30T00:30:00Z"), MessageSchedule.parseNext("2026-03-30T02:30:00+02:00"));
        assertEquals(-1, MessageSchedule.parseNext("purge"));
        ZonedDateTime z = ZonedDateTime.parse("2026-01-01T00:00:00Z");
        assertNotNull(Cron.parse("0 0 0 1 1 *").next(z));
    }
}
