package io.jetkv.server.cli;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Value formatting and parsing as the {@code nats} CLI does it (go-humanize sizes and counts, Go duration text,
 * natscli's column formats). Pure functions, called from the CLI's thread.
 */
final class Formats {
    /** natscli's {@code f(time.Time)}: local time, seconds precision. */
    private static final DateTimeFormatter COLUMN_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    /** Go's {@code time.RFC822}; {@code kv get} prints the entry's timestamp in UTC, as nats.go parses it. */
    private static final DateTimeFormatter RFC822 = DateTimeFormatter.ofPattern("dd MMM yy HH:mm z", Locale.ENGLISH);
    /** Go's {@code time.RFC3339}: {@code Z} for UTC, otherwise a numeric offset. */
    private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssXXX");

    private static final Pattern BYTES = Pattern.compile("(\\d+)\\s*([kmgtpe]?)(i?b?)", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h|d|w|y)");

    private Formats() {}

    /** go-humanize {@code IBytes}: "0 B", "512 B", "1.0 KiB", "20 MiB". */
    static String bytes(long n) {
        if (n < 10) {
            return n + " B";
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        int e = (int) Math.floor(Math.log(n) / Math.log(1024));
        double val = Math.floor(n / Math.pow(1024, e) * 10 + 0.5) / 10;
        String fmt = val < 10 ? "%.1f %s" : "%.0f %s";
        return String.format(Locale.ROOT, fmt, val, units[e]);
    }

    /** go-humanize {@code Comma}: 1234567 → "1,234,567". */
    static String comma(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    static String columnTime(ZonedDateTime t) {
        return t.withZoneSameInstant(ZoneId.systemDefault()).format(COLUMN_TIME);
    }

    static String rfc822Utc(ZonedDateTime t) {
        return t.withZoneSameInstant(ZoneId.of("UTC")).format(RFC822);
    }

    static String rfc3339Local(ZonedDateTime t) {
        return t.withZoneSameInstant(ZoneId.systemDefault()).format(RFC3339);
    }

    /**
     * natscli's {@code HumanizeDuration}: Go text below a second, otherwise "1d2h3m4s", "5m0s" or "12.50s".
     * {@code null} is Go's saturated {@code time.Since} of a zero time, printed "never".
     */
    static String humanDuration(Duration d) {
        if (d == null) {
            return "never";
        }
        long nanos = d.toNanos();
        if (nanos < 1_000_000L) {
            return goDuration(Duration.ofNanos(roundTo(nanos, 1_000L)));
        }
        if (nanos < 1_000_000_000L) {
            return goDuration(Duration.ofNanos(roundTo(nanos, 1_000_000L)));
        }
        long secs = d.getSeconds();
        long mins = secs / 60;
        long hrs = mins / 60;
        long days = hrs / 24;
        long years = days / 365;
        if (years > 0) {
            return String.format("%dy%dd%dh%dm%ds", years, days % 365, hrs % 24, mins % 60, secs % 60);
        }
        if (days > 0) {
            return String.format("%dd%dh%dm%ds", days, hrs % 24, mins % 60, secs % 60);
        }
        if (hrs > 0) {
            return String.format("%dh%dm%ds", hrs, mins % 60, secs % 60);
        }
        if (mins > 0) {
            return String.format("%dm%ds", mins, secs % 60);
        }
        return String.format(Locale.ROOT, "%.2fs", nanos / 1e9);
    }

    private static long roundTo(long nanos, long unit) {
        return (nanos + unit / 2) / unit * unit;
    }

    /** Go's {@code time.Duration.String()}: "0s", "850ns", "64.996µs", "1.5ms", "1h2m3.5s". */
    static String goDuration(Duration d) {
        long nanos = d.toNanos();
        if (nanos == 0) {
            return "0s";
        }
        String sign = nanos < 0 ? "-" : "";
        nanos = Math.abs(nanos);
        if (nanos < 1_000L) {
            return sign + nanos + "ns";
        }
        if (nanos < 1_000_000L) {
            return sign + fraction(nanos, 1_000L) + "µs";
        }
        if (nanos < 1_000_000_000L) {
            return sign + fraction(nanos, 1_000_000L) + "ms";
        }
        StringBuilder sb = new StringBuilder(sign);
        long hours = nanos / 3_600_000_000_000L;
        long mins = nanos / 60_000_000_000L % 60;
        long secNanos = nanos % 60_000_000_000L;
        if (hours > 0) {
            sb.append(hours).append('h');
        }
        if (hours > 0 || mins > 0) {
            sb.append(mins).append('m');
        }
        return sb.append(fraction(secNanos, 1_000_000_000L)).append('s').toString();
    }

    /** {@code value/unit} with the fraction's trailing zeros dropped, as Go prints durations. */
    private static String fraction(long value, long unit) {
        long whole = value / unit;
        long rest = value % unit;
        if (rest == 0) {
            return Long.toString(whole);
        }
        int digits = Long.toString(unit).length() - 1;
        String frac = String.format("%0" + digits + "d", rest).replaceAll("0+$", "");
        return whole + "." + frac;
    }

    /**
     * Go's {@code time.ParseDuration} ("1h30m", "90s", "500ms") plus the day, week and year units natscli's
     * flag parser accepts.
     */
    static Duration parseDuration(String text) {
        String s = text.trim();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = DURATION_PART.matcher(s);
        int pos = 0;
        double nanos = 0;
        while (pos < s.length()) {
            if (!m.find(pos) || m.start() != pos) {
                throw new CliException("invalid duration " + quote(text));
            }
            double v = Double.parseDouble(m.group(1));
            nanos += v * switch (m.group(2)) {
                case "ns" -> 1d;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                case "h" -> 3600e9;
                case "d" -> 86400e9;
                case "w" -> 7 * 86400e9;
                default -> 365 * 86400e9;
            };
            pos = m.end();
        }
        if (s.isEmpty()) {
            throw new CliException("invalid duration " + quote(text));
        }
        return Duration.ofNanos((long) nanos);
    }

    /** natscli's byte sizes: "1024", "1K", "1KB", "1KiB", "5MB"... all powers of 1024; "-1" is unlimited. */
    static long parseBytes(String text) {
        String s = text.trim();
        if (s.equals("-1")) {
            return -1;
        }
        Matcher m = BYTES.matcher(s);
        if (!m.matches() || (m.group(2).isEmpty() && m.group(3).equalsIgnoreCase("i"))) {
            throw new CliException("invalid size " + quote(text));
        }
        String unit = m.group(2).toLowerCase(Locale.ROOT);
        int power = unit.isEmpty() ? 0 : "kmgtpe".indexOf(unit) + 1;
        long n = Long.parseLong(m.group(1));
        for (int i = 0; i < power; i++) {
            n = Math.multiplyExact(n, 1024L);
        }
        return n;
    }

    /**
     * natscli's {@code base64IfNotPrintable}: the value as text when it is UTF-8 made of printable characters
     * (spaces allowed, line breaks and other controls not), otherwise base64.
     */
    static String printable(byte[] value) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(value))
                    .toString();
            boolean ok = s.codePoints().allMatch(Formats::isPrint);
            return ok ? s : Base64.getEncoder().encodeToString(value);
        } catch (CharacterCodingException e) {
            return Base64.getEncoder().encodeToString(value);
        }
    }

    private static boolean isPrint(int cp) {
        if (cp == ' ') {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                    Character.UNASSIGNED, Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR,
                    Character.PARAGRAPH_SEPARATOR -> false;
            default -> true;
        };
    }

    /** History and revert show long values as their first and last 15 characters. */
    static String abbreviate(String value) {
        if (value.length() <= 40) {
            return value;
        }
        return value.substring(0, 15) + "..." + value.substring(value.length() - 15);
    }

    static String quote(String s) {
        return "\"" + s + "\"";
    }
}
