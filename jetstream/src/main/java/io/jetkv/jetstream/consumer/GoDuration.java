package io.jetkv.jetstream.consumer;

/**
 * Go's {@code time.Duration} text ({@code 1h2m3.5s}, {@code 250ms}), as clients put it in {@code -NAK}
 * delays and the server prints it in pull-request errors. Pure functions.
 */
final class GoDuration {
    private GoDuration() {}

    /** Nanoseconds for a Go duration; 0 when the text is not one. */
    static long parse(String text) {
        double total = 0;
        int i = 0;
        int n = text.length();
        if (n == 0) {
            return 0;
        }
        while (i < n) {
            int start = i;
            while (i < n && (Character.isDigit(text.charAt(i)) || text.charAt(i) == '.')) {
                i++;
            }
            if (start == i) {
                return 0;
            }
            double value;
            try {
                value = Double.parseDouble(text.substring(start, i));
            } catch (NumberFormatException e) {
                return 0;
            }
            int u = i;
            while (i < n && !Character.isDigit(text.charAt(i)) && text.charAt(i) != '.') {
                i++;
            }
            double unit = switch (text.substring(u, i)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                case "h" -> 3600e9;
                default -> -1;
            };
            if (unit < 0) {
                return 0;
            }
            total += value * unit;
        }
        return (long) total;
    }

    /** Go's {@code Duration.String()} for whole-unit values: {@code 1m0s}, {@code 5s}, {@code 250ms}. */
    static String format(long nanos) {
        if (nanos < 1_000_000_000L) {
            if (nanos % 1_000_000 == 0) {
                return nanos / 1_000_000 + "ms";
            }
            if (nanos % 1000 == 0) {
                return nanos / 1000 + "µs";
            }
            return nanos + "ns";
        }
        long h = nanos / 3_600_000_000_000L;
        long rest = nanos % 3_600_000_000_000L;
        long m = rest / 60_000_000_000L;
        rest %= 60_000_000_000L;
        StringBuilder sb = new StringBuilder();
        if (h > 0) {
            sb.append(h).append('h');
        }
        if (h > 0 || m > 0) {
            sb.append(m).append('m');
        }
        long secs = rest / 1_000_000_000L;
        long frac = rest % 1_000_000_000L;
        sb.append(secs);
        if (frac != 0) {
            String f = String.format("%09d", frac).replaceAll("0+$", "");
            sb.append('.').append(f);
        }
        return sb.append('s').toString();
    }
}
