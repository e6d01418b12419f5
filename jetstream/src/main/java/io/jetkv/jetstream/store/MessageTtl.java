package io.jetkv.jetstream.store;

import java.nio.charset.StandardCharsets;

/**
 * The per-message TTL of 2.11 ({@code Nats-TTL} header): parsing its values as nats-server's
 * {@code parseMessageTTL} does, and finding it in a stored header block. The stores index messages by the
 * deadline it gives; the stream validates it on publish. Pure functions, any thread.
 */
public final class MessageTtl {
    private MessageTtl() {}

    /** The header name, matched exactly (case-sensitive) as nats-server's {@code getHeader} does. */
    public static final String HEADER = "Nats-TTL";
    /** {@link #parse}: the message never expires, not even by {@code max_age}. */
    public static final long NEVER = -1;
    /** {@link #parse}: not a valid TTL (10165). */
    public static final long INVALID = Long.MIN_VALUE;

    private static final byte[] KEY = ("\r\n" + HEADER + ":").getBytes(StandardCharsets.US_ASCII);
    private static final long SECOND = 1_000_000_000L;

    /**
     * Seconds of a {@code Nats-TTL} value: {@code never} (any case) is {@link #NEVER}; a Go duration of at least
     * one second is truncated to whole seconds; a bare positive integer is seconds; anything else (zero,
     * negative, sub-second, unparsable) is {@link #INVALID}.
     */
    public static long parse(String value) {
        if (value == null) {
            return INVALID;
        }
        if (value.equalsIgnoreCase("never")) {
            return NEVER;
        }
        long nanos = goDuration(value);
        if (nanos != INVALID) {
            return nanos < SECOND ? INVALID : nanos / SECOND;
        }
        try {
            long secs = Long.parseLong(value);
            return secs > 0 ? secs : INVALID;
        } catch (NumberFormatException e) {
            return INVALID;
        }
    }

    /** The value of the {@code Nats-TTL} header in {@code headers} (trimmed), or null when it has none. */
    public static String headerValue(byte[] headers) {
        if (headers == null) {
            return null;
        }
        int at = MessageCodec.indexOf(headers, KEY, false);
        if (at < 0) {
            return null;
        }
        int from = at + KEY.length;
        int end = from;
        while (end < headers.length && headers[end] != '\r') {
            end++;
        }
        return new String(headers, from, end - from, StandardCharsets.US_ASCII).trim();
    }

    /**
     * The deadline (epoch nanos) of a message stored at {@code timestamp} with {@code headers}, or 0 when it has
     * no valid finite TTL (none, {@code never}, invalid): what the stores index.
     */
    public static long deadline(byte[] headers, long timestamp) {
        String v = headerValue(headers);
        if (v == null) {
            return 0;
        }
        long secs = parse(v);
        if (secs <= 0) {
            return 0;
        }
        long ttl = secs > Long.MAX_VALUE / SECOND ? Long.MAX_VALUE : secs * SECOND;
        return timestamp > Long.MAX_VALUE - ttl ? Long.MAX_VALUE : timestamp + ttl;
    }

    /** True when the message's TTL is {@code never}: exempt from {@code max_age} too. */
    public static boolean isNever(byte[] headers) {
        String v = headerValue(headers);
        return v != null && v.equalsIgnoreCase("never");
    }

    /** Go's {@code time.Duration.String()} for whole seconds: {@code 1s}, {@code 1m0s}, {@code 1h0m0s}. */
    public static String formatSeconds(long seconds) {
        long h = seconds / 3600;
        long m = (seconds % 3600) / 60;
        long s = seconds % 60;
        StringBuilder sb = new StringBuilder();
        if (h > 0) {
            sb.append(h).append('h');
        }
        if (h > 0 || m > 0) {
            sb.append(m).append('m');
        }
        return sb.append(s).append('s').toString();
    }

    /**
     * Nanoseconds of a Go duration ({@code time.ParseDuration}: optional sign, then numbers with optional
     * fractions, each with a unit, {@code 0} alone), or {@link #INVALID}.
     */
    public static long goDuration(String s) {
        int i = 0;
        int n = s.length();
        boolean negative = false;
        if (i < n && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
            negative = s.charAt(i) == '-';
            i++;
        }
        if (s.substring(i).equals("0")) {
            return 0;
        }
        if (i == n) {
            return INVALID;
        }
        double total = 0;
        while (i < n) {
            int start = i;
            while (i < n && Character.isDigit(s.charAt(i))) {
                i++;
            }
            int intEnd = i;
            int fracEnd = i;
            if (i < n && s.charAt(i) == '.') {
                i++;
                while (i < n && Character.isDigit(s.charAt(i))) {
                    i++;
                }
                fracEnd = i;
            }
            if (intEnd == start && fracEnd <= intEnd + 1) {
                return INVALID; // no digits on either side of the point
            }
            double value = Double.parseDouble(s.substring(start, fracEnd).endsWith(".")
                    ? s.substring(start, fracEnd - 1) : s.substring(start, fracEnd));
            int u = i;
            while (i < n && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
                i++;
            }
            double unit = switch (s.substring(u, i)) {
                case "ns" -> 1;
                case "us", "\u00b5s", "\u03bcs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                case "h" -> 3600e9;
                default -> -1; // a missing or unknown unit
            };
            if (unit < 0) {
                return INVALID;
            }
            total += value * unit;
            if (total > Long.MAX_VALUE) {
                return INVALID; // Go: "invalid duration" on overflow
            }
        }
        long nanos = (long) total;
        return negative ? -nanos : nanos;
    }

}
