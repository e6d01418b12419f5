package io.jetkv.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Locale;

/**
 * Sizes and durations as nats-server writes them, shared by {@link ConfigFileParser} and {@link Flags}.
 *
 * <p>Sizes follow nats-server's conf package: {@code K}, {@code M}, {@code G}, {@code T} are powers of
 * 1000 and {@code KB}/{@code KiB}/{@code Ki} (and so on) powers of 1024, in any case. Durations follow
 * Go's {@code time.ParseDuration} ({@code 500ms}, {@code 10s}, {@code 1h30m}, {@code 1.5s}).
 */
public final class Units {

    private Units() {}

    /**
     * The multiplier for a size suffix, or 0 when {@code suffix} is not one. The empty suffix is 1.
     */
    static long sizeMultiplier(String suffix) {
        return switch (suffix.toLowerCase(Locale.ROOT)) {
            case "" -> 1L;
            case "k" -> 1000L;
            case "m" -> 1000L * 1000;
            case "g" -> 1000L * 1000 * 1000;
            case "t" -> 1000L * 1000 * 1000 * 1000;
            case "kb", "ki", "kib" -> 1L << 10;
            case "mb", "mi", "mib" -> 1L << 20;
            case "gb", "gi", "gib" -> 1L << 30;
            case "tb", "ti", "tib" -> 1L << 40;
            default -> 0L;
        };
    }

    /**
     * Parses {@code 1024}, {@code -1}, {@code 1MB}, {@code 64k}.
     *
     * @throws NumberFormatException when the text is not an integer with an optional size suffix, or overflows
     */
    static long parseSize(String text) {
        String s = text.strip();
        int end = s.startsWith("-") ? 1 : 0;
        int digitsStart = end;
        while (end < s.length() && Character.isDigit(s.charAt(end))) {
            end++;
        }
        if (end == digitsStart) {
            throw new NumberFormatException("not a size: \"" + text + "\"");
        }
        long multiplier = sizeMultiplier(s.substring(end));
        if (multiplier == 0) {
            throw new NumberFormatException("unknown size suffix in \"" + text + "\"");
        }
        try {
            return Math.multiplyExact(Long.parseLong(s.substring(0, end)), multiplier);
        } catch (ArithmeticException e) {
            throw new NumberFormatException("size out of range: \"" + text + "\"");
        }
    }

    /**
     * Parses a Go duration ({@code 300ms}, {@code -1.5h}, {@code 2h45m}); {@code 0} needs no unit.
     *
     * @throws IllegalArgumentException when the text is not a Go duration
     */
    static Duration parseDuration(String text) {
        String s = text.strip();
        int i = 0;
        boolean negative = false;
        if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
            negative = s.charAt(i) == '-';
            i++;
        }
        if (s.substring(i).equals("0")) {
            return Duration.ZERO;
        }
        if (i == s.length()) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\"");
        }
        // BigDecimal keeps fractions such as "1.1s" exact, where a double would be off by a nanosecond.
        long nanos = 0;
        while (i < s.length()) {
            int numStart = i;
            while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                i++;
            }
            String number = s.substring(numStart, i);
            int unitStart = i;
            while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
                i++;
            }
            String unit = s.substring(unitStart, i);
            long unitNanos = switch (unit) {
                case "ns" -> 1L;
                case "us", "µs", "μs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60L * 1_000_000_000L;
                case "h" -> 3600L * 1_000_000_000L;
                default -> 0L;
            };
            if (number.isEmpty() || number.equals(".") || unitNanos == 0) {
                throw new IllegalArgumentException("invalid duration \"" + text + "\"");
            }
            try {
                long part = new BigDecimal(number)
                        .multiply(BigDecimal.valueOf(unitNanos))
                        .setScale(0, RoundingMode.DOWN)
                        .longValueExact();
                nanos = Math.addExact(nanos, part);
            } catch (ArithmeticException | NumberFormatException e) {
                throw new IllegalArgumentException("invalid duration \"" + text + "\"");
            }
        }
        return Duration.ofNanos(negative ? -nanos : nanos);
    }

    /**
     * {@code d} as Go's {@code time.Duration.String()} writes it: {@code 1s}, {@code 1m30s}, {@code 2h0m0s},
     * {@code 1.5s}, {@code 250ms}; used where nats-server's messages show a duration.
     */
    public static String formatDuration(Duration d) {
        long nanos = d.toNanos();
        if (nanos == 0) {
            return "0s";
        }
        String sign = nanos < 0 ? "-" : "";
        long n = Math.abs(nanos);
        if (n < 1_000_000_000L) {
            if (n < 1_000L) {
                return sign + n + "ns";
            }
            if (n < 1_000_000L) {
                return sign + fraction(n, 1_000L) + "µs";
            }
            return sign + fraction(n, 1_000_000L) + "ms";
        }
        long hours = n / 3_600_000_000_000L;
        long minutes = n / 60_000_000_000L % 60;
        String seconds = fraction(n % 60_000_000_000L, 1_000_000_000L) + "s";
        if (hours > 0) {
            return sign + hours + "h" + minutes + "m" + seconds;
        }
        if (minutes > 0) {
            return sign + minutes + "m" + seconds;
        }
        return sign + seconds;
    }

    /** {@code value / unit} with the fraction's trailing zeros dropped. */
    private static String fraction(long value, long unit) {
        String s = new BigDecimal(value).divide(BigDecimal.valueOf(unit)).stripTrailingZeros().toPlainString();
        return s;
    }
}
