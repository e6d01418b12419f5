package io.jetkv.jetstream.schedule;

import io.jetkv.jetstream.store.MessageTtl;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The value of a {@code Nats-Schedule} header (ADR-51): {@code @at <RFC 3339 time>} (2.12), {@code @every <Go
 * duration of at least 1 s>}, the predefined {@code @yearly}/{@code @annually}/{@code @monthly}/{@code @weekly}/
 * {@code @daily}/{@code @midnight}/{@code @hourly}, or a six-field {@link Cron} expression (2.14), the last two
 * read in the {@code Nats-Schedule-Time-Zone} (UTC by default). It answers when a schedule stored at a given time
 * fires first, and when a repeating one fires again. Times are epoch nanoseconds.
 *
 * <p>Immutable; any thread.
 */
public final class MessageSchedule {
    public static final String PATTERN = "Nats-Schedule";
    public static final String TARGET = "Nats-Schedule-Target";
    public static final String SOURCE = "Nats-Schedule-Source";
    public static final String TTL = "Nats-Schedule-TTL";
    public static final String ROLLUP = "Nats-Schedule-Rollup";
    public static final String TIME_ZONE = "Nats-Schedule-Time-Zone";
    /** On a produced message: the schedule's subject. From a client, with {@link #NEXT} {@code purge}: a cancel. */
    public static final String SCHEDULER = "Nats-Scheduler";
    /** On a produced message: when the schedule fires next, or {@link #PURGE} when it fired for the last time. */
    public static final String NEXT = "Nats-Schedule-Next";
    public static final String PURGE = "purge";

    private static final long SECOND = 1_000_000_000L;
    /** Go's {@code time.RFC3339} layout: seconds required, fraction optional, {@code Z} or a numeric offset. */
    private static final Pattern RFC3339 =
            Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})");
    private static final Set<String> REGIONS = ZoneId.getAvailableZoneIds();

    private enum Kind { AT, EVERY, CRON }

    private final Kind kind;
    private final long at;
    private final long every;
    private final Cron cron;
    private final ZoneId zone;

    private MessageSchedule(Kind kind, long at, long every, Cron cron, ZoneId zone) {
        this.kind = kind;
        this.at = at;
        this.every = every;
        this.cron = cron;
        this.zone = zone;
    }

    /**
     * The schedule {@code pattern} describes, or null when it is invalid (10189). {@code timeZone} is the
     * {@code Nats-Schedule-Time-Zone} value or null; a non-empty one makes {@code @at} and {@code @every} invalid
     * (only cron reads a zone). The zone itself is checked by {@link #zone}, after the pattern.
     */
    public static MessageSchedule parse(String pattern, String timeZone) {
        boolean zoned = timeZone != null && !timeZone.isEmpty();
        if (pattern.startsWith("@at ")) {
            String t = pattern.substring(4);
            if (zoned || !RFC3339.matcher(t).matches()) {
                return null;
            }
            try {
                return new MessageSchedule(Kind.AT, nanos(OffsetDateTime.parse(t).toInstant()), 0, null, ZoneOffset.UTC);
            } catch (DateTimeException e) {
                return null;
            }
        }
        if (pattern.startsWith("@every ")) {
            long d = zoned ? -1 : MessageTtl.goDuration(pattern.substring(7));
            return d < SECOND ? null : new MessageSchedule(Kind.EVERY, 0, d, null, ZoneOffset.UTC);
        }
        String expr = switch (pattern) {
            case "@yearly", "@annually" -> "0 0 0 1 1 *";
            case "@monthly" -> "0 0 0 1 * *";
            case "@weekly" -> "0 0 0 * * 0";
            case "@daily", "@midnight" -> "0 0 0 * * *";
            case "@hourly" -> "0 0 * * * *";
            default -> pattern;
        };
        Cron c = Cron.parse(expr);
        if (c == null) {
            return null;
        }
        ZoneId z = zoned ? zone(timeZone) : ZoneOffset.UTC;
        // an expression that never matches (30 February) is invalid; an unknown zone is left for zone() to refuse
        if (z != null && c.next(ZonedDateTime.now(z)) == null) {
            return null;
        }
        return new MessageSchedule(Kind.CRON, 0, 0, c, z == null ? ZoneOffset.UTC : z);
    }

    /**
     * A {@code Nats-Schedule-Time-Zone} value as Go's {@code time.LoadLocation} reads it: {@code UTC}, {@code Local}
     * (the server's zone) or an IANA name; null for anything else, the empty value and fixed offsets included
     * (10223).
     */
    public static ZoneId zone(String name) {
        if (name == null || name.isEmpty()) {
            return null;
        }
        if (name.equals("UTC")) {
            return ZoneOffset.UTC;
        }
        if (name.equals("Local")) {
            return ZoneId.systemDefault();
        }
        return REGIONS.contains(name) ? ZoneId.of(name) : null;
    }

    /** False for {@code @at}: it fires once, and the schedule is purged. */
    public boolean repeats() {
        return kind != Kind.AT;
    }

    /** When a schedule stored at {@code stored} fires first (in the past for a past {@code @at}: at once). */
    public long first(long stored) {
        return switch (kind) {
            case AT -> at;
            case EVERY -> saturatedAdd(roundToSecond(stored), every);
            case CRON -> cronAfter(roundToSecond(stored));
        };
    }

    /**
     * When a repeating schedule that fired for {@code fired} (its deadline) fires next. Repeats missed while the
     * server was down or busy are not made up: when the next one is already past, the count starts again from
     * {@code now}, so they fire once.
     */
    public long next(long fired, long now) {
        long n = kind == Kind.EVERY ? saturatedAdd(roundToSecond(fired), every) : cronAfter(roundToSecond(fired));
        if (n < now) {
            n = kind == Kind.EVERY ? saturatedAdd(roundToSecond(now), every) : cronAfter(roundToSecond(now));
        }
        return n;
    }

    /** {@code t} as {@code Nats-Schedule-Next} carries it: RFC 3339, fraction only when not whole, in the zone. */
    public String format(long t) {
        Instant i = Instant.ofEpochSecond(Math.floorDiv(t, SECOND), Math.floorMod(t, SECOND));
        return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(i.atZone(zone).toOffsetDateTime());
    }

    /**
     * The first deadline of the schedule a stored header block holds (see {@link #first}), or -1 when it holds
     * none or an invalid one: what a restored message is indexed under. Cheap for blocks without a schedule.
     */
    public static long firstDeadline(byte[] headers, long stored) {
        String text = new String(headers, StandardCharsets.UTF_8);
        if (!text.contains(PATTERN + ":")) {
            return -1;
        }
        String pattern = null;
        String zone = null;
        for (String line : text.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (name.equals(PATTERN) && pattern == null) {
                pattern = value;
            } else if (name.equals(TIME_ZONE) && zone == null) {
                zone = value;
            }
        }
        MessageSchedule s = pattern == null || pattern.isEmpty() ? null : parse(pattern, zone);
        return s == null ? -1 : Math.max(0, s.first(stored));
    }

    /** A {@code Nats-Schedule-Next} time back in epoch nanos, or -1 when it is not one. */
    public static long parseNext(String value) {
        try {
            return nanos(OffsetDateTime.parse(value).toInstant());
        } catch (DateTimeException | ArithmeticException e) {
            return -1;
        }
    }

    private long cronAfter(long t) {
        ZonedDateTime from = Instant.ofEpochSecond(Math.floorDiv(t, SECOND)).atZone(zone);
        ZonedDateTime n = cron.next(from);
        return n == null ? Long.MAX_VALUE : nanos(n.toInstant());
    }

    private static long roundToSecond(long t) {
        return Math.floorDiv(t + SECOND / 2, SECOND) * SECOND;
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    /** Epoch nanos, clamped to what a long holds (an {@code @at} in the year 9999 never comes). */
    private static long nanos(Instant i) {
        try {
            return Math.addExact(Math.multiplyExact(i.getEpochSecond(), SECOND), i.getNano());
        } catch (ArithmeticException e) {
            return i.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }
}
