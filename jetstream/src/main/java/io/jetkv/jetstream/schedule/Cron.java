package io.jetkv.jetstream.schedule;

import java.time.DayOfWeek;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;

/**
 * A six-field cron expression of ADR-51 ({@code second minute hour day-of-month month day-of-week}): each field
 * a comma-separated list of {@code *}, {@code ?}, {@code n} or {@code a-b}, each optionally stepped
 * ({@code /s}; {@code n/s} runs from n to the field's end); months and weekdays also by three-letter name. As in
 * crontab(5), a day matches when both day fields match, unless neither is a star, when either may.
 *
 * <p>Immutable; any thread.
 */
public final class Cron {
    private static final Map<String, Integer> MONTHS = Map.ofEntries(Map.entry("jan", 1), Map.entry("feb", 2),
            Map.entry("mar", 3), Map.entry("apr", 4), Map.entry("may", 5), Map.entry("jun", 6), Map.entry("jul", 7),
            Map.entry("aug", 8), Map.entry("sep", 9), Map.entry("oct", 10), Map.entry("nov", 11), Map.entry("dec", 12));
    private static final Map<String, Integer> WEEKDAYS = Map.of("sun", 0, "mon", 1, "tue", 2, "wed", 3, "thu", 4,
            "fri", 5, "sat", 6);
    /** A search that finds no matching time within this many years gives up: the expression never fires. */
    private static final int SEARCH_YEARS = 5;

    private final long seconds;
    private final long minutes;
    private final long hours;
    private final long days;
    private final long months;
    private final long weekdays;
    /** A day field written as an unstepped star: the day then has to match both fields, not either. */
    private final boolean daysStar;
    private final boolean weekdaysStar;

    private Cron(long[] f, boolean daysStar, boolean weekdaysStar) {
        this.seconds = f[0];
        this.minutes = f[1];
        this.hours = f[2];
        this.days = f[3];
        this.months = f[4];
        this.weekdays = f[5];
        this.daysStar = daysStar;
        this.weekdaysStar = weekdaysStar;
    }

    /** The expression, or null when it is not six valid fields. */
    public static Cron parse(String expression) {
        String[] fields = expression.trim().split("\\s+");
        if (fields.length != 6) {
            return null;
        }
        int[][] bounds = {{0, 59}, {0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}};
        long[] bits = new long[6];
        boolean[] star = new boolean[6];
        for (int i = 0; i < 6; i++) {
            Map<String, Integer> names = i == 4 ? MONTHS : i == 5 ? WEEKDAYS : null;
            for (String range : fields[i].split(",")) {
                if (range.isEmpty()) {
                    continue;
                }
                long b = range(range, bounds[i][0], bounds[i][1], names, star, i);
                if (b < 0) {
                    return null;
                }
                bits[i] |= b;
            }
            if (bits[i] == 0) {
                return null;
            }
        }
        return new Cron(bits, star[3], star[5]);
    }

    /** The bits of one range ({@code *}, {@code n}, {@code a-b}, each with an optional {@code /step}); -1 if bad. */
    private static long range(String expr, int min, int max, Map<String, Integer> names, boolean[] star, int field) {
        String[] rangeAndStep = expr.split("/", -1);
        if (rangeAndStep.length > 2) {
            return -1;
        }
        String[] lowHigh = rangeAndStep[0].split("-", -1);
        int start;
        int end;
        boolean isStar = false;
        if (lowHigh[0].equals("*") || lowHigh[0].equals("?")) {
            if (lowHigh.length != 1) {
                return -1;
            }
            start = min;
            end = max;
            isStar = true;
        } else {
            if (lowHigh.length > 2) {
                return -1;
            }
            start = number(lowHigh[0], names);
            end = lowHigh.length == 2 ? number(lowHigh[1], names) : start;
        }
        int step = 1;
        if (rangeAndStep.length == 2) {
            step = number(rangeAndStep[1], null);
            if (lowHigh.length == 1 && !isStar) {
                end = max; // "n/step" runs from n to the end of the field
            }
            if (step > 1) {
                isStar = false; // "*/2" restricts the day as any list would
            }
        }
        if (start < min || end > max || start > end || step <= 0) {
            return -1;
        }
        if (isStar) {
            star[field] = true;
        }
        long bits = 0;
        for (int v = start; v <= end; v += step) {
            bits |= 1L << v;
        }
        return bits;
    }

    /** A field's number or name; Integer.MIN_VALUE (out of every range) when it is neither. */
    private static int number(String s, Map<String, Integer> names) {
        if (names != null) {
            Integer n = names.get(s.toLowerCase(Locale.ROOT));
            if (n != null) {
                return n;
            }
        }
        try {
            int v = Integer.parseInt(s);
            return v < 0 ? Integer.MIN_VALUE : v;
        } catch (NumberFormatException e) {
            return Integer.MIN_VALUE;
        }
    }

    /**
     * The first time strictly after {@code after}'s whole second that matches, in {@code after}'s zone; null
     * when none does within five years (an impossible date such as 30 February). A local time that a clock
     * change skips moves forward as {@link ZonedDateTime} does.
     */
    public ZonedDateTime next(ZonedDateTime after) {
        ZonedDateTime t = after.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        int lastYear = t.getYear() + SEARCH_YEARS;
        while (t.getYear() <= lastYear) {
            if (!has(months, t.getMonthValue())) {
                t = t.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay(t.getZone());
            } else if (!dayMatches(t)) {
                t = t.toLocalDate().plusDays(1).atStartOfDay(t.getZone());
            } else if (!has(hours, t.getHour())) {
                t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
            } else if (!has(minutes, t.getMinute())) {
                t = t.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
            } else if (!has(seconds, t.getSecond())) {
                t = t.plusSeconds(1);
            } else {
                return t;
            }
        }
        return null;
    }

    private boolean dayMatches(ZonedDateTime t) {
        boolean dom = has(days, t.getDayOfMonth());
        boolean dow = has(weekdays, t.getDayOfWeek() == DayOfWeek.SUNDAY ? 0 : t.getDayOfWeek().getValue());
        return daysStar || weekdaysStar ? dom && dow : dom || dow;
    }

    private static boolean has(long bits, int v) {
        return (bits & (1L << v)) != 0;
    }
}
