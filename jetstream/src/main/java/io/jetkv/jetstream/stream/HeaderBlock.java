package io.jetkv.jetstream.stream;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Reading and extending NATS header blocks ({@code NATS/1.0[ status]␍␊Name: value␍␊…␍␊␍␊}). Names are
 * matched exactly as nats-server does for the {@code Nats-*} publish headers; values are trimmed (jnats
 * sends no space after the colon).
 *
 * <p>Stateless; safe from any thread.
 */
public final class HeaderBlock {
    private HeaderBlock() {}

    private static final byte[] CRLF = {'\r', '\n'};

    /** The first value of each header in {@code block} (null or empty block: empty map). */
    public static Map<String, String> parse(byte[] block) {
        if (block == null || block.length == 0) {
            return Map.of(); // most publishes: no header block, nothing to allocate
        }
        Map<String, String> out = new HashMap<>();
        String text = new String(block, StandardCharsets.UTF_8);
        int lineStart = text.indexOf("\r\n");
        // NATS/1.0 version line first, then one header per line until the blank line
        while (lineStart >= 0 && lineStart + 2 < text.length()) {
            int from = lineStart + 2;
            int end = text.indexOf("\r\n", from);
            if (end < 0) {
                end = text.length();
            }
            if (end == from) {
                break;
            }
            int colon = text.indexOf(':', from);
            if (colon > from && colon < end) {
                String name = text.substring(from, colon).trim();
                String value = text.substring(colon + 1, end).trim();
                out.putIfAbsent(name, value);
            }
            lineStart = end;
        }
        return out;
    }

    /**
     * {@code stored} (may be null) followed by {@code extra} headers, as direct get and republish send
     * them: the stored block keeps its version line and lines verbatim.
     *
     * @param extra name, value, name, value, ...
     */
    public static byte[] append(byte[] stored, String... extra) {
        StringBuilder sb = new StringBuilder(128);
        for (int i = 0; i < extra.length; i += 2) {
            sb.append(extra[i]).append(": ").append(extra[i + 1]).append("\r\n");
        }
        sb.append("\r\n");
        byte[] tail = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] head;
        int headLen;
        if (stored == null || stored.length < 4) {
            head = "NATS/1.0\r\n".getBytes(StandardCharsets.US_ASCII);
            headLen = head.length;
        } else {
            head = stored;
            // drop the closing blank line so the new headers go inside the block
            headLen = endsWithBlankLine(stored) ? stored.length - 2 : stored.length;
            if (!endsWith(stored, headLen, CRLF)) {
                head = concat(stored, headLen, CRLF);
                headLen = head.length;
            }
        }
        byte[] out = new byte[headLen + tail.length];
        System.arraycopy(head, 0, out, 0, headLen);
        System.arraycopy(tail, 0, out, headLen, tail.length);
        return out;
    }

    /**
     * {@code block} without the header lines whose name starts with one of {@code prefixes} (null stays
     * null). The version line and the other lines are kept verbatim.
     */
    public static byte[] without(byte[] block, String... prefixes) {
        if (block == null || block.length == 0 || !startsAnyLine(block, prefixes)) {
            return block; // the usual case on the publish path: no copy, no decoding
        }
        String text = new String(block, StandardCharsets.UTF_8);
        String[] lines = text.split("\r\n", -1);
        StringBuilder sb = new StringBuilder(text.length());
        boolean removed = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            boolean drop = false;
            if (i > 0 && !line.isEmpty()) {
                for (String p : prefixes) {
                    if (line.startsWith(p)) {
                        drop = true;
                        break;
                    }
                }
            }
            if (drop) {
                removed = true;
                continue;
            }
            sb.append(line);
            if (i < lines.length - 1) {
                sb.append("\r\n");
            }
        }
        return removed ? sb.toString().getBytes(StandardCharsets.UTF_8) : block;
    }

    /**
     * Whether a line after the version line may start with one of {@code prefixes}: a byte scan for CRLF followed by
     * the prefix, allocating nothing. A prefix that is empty or not ASCII answers true, leaving it to the full check.
     */
    private static boolean startsAnyLine(byte[] block, String[] prefixes) {
        for (String p : prefixes) {
            int n = p.length();
            if (n == 0) {
                return true;
            }
            for (int k = 0; k < n; k++) {
                if (p.charAt(k) >= 0x80) {
                    return true;
                }
            }
            int last = block.length - n;
            for (int i = 2; i <= last; i++) {
                if (block[i - 1] != '\n' || block[i - 2] != '\r' || block[i] != p.charAt(0)) {
                    continue;
                }
                int k = 1;
                while (k < n && block[i + k] == p.charAt(k)) {
                    k++;
                }
                if (k == n) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A status-only block: {@code NATS/1.0 404 Message Not Found␍␊␍␊}. */
    public static byte[] status(int code, String description) {
        return ("NATS/1.0 " + code + " " + description + "\r\n\r\n").getBytes(StandardCharsets.UTF_8);
    }

    private static boolean endsWithBlankLine(byte[] b) {
        int n = b.length;
        return n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n';
    }

    private static boolean endsWith(byte[] b, int len, byte[] suffix) {
        if (len < suffix.length) {
            return false;
        }
        for (int i = 0; i < suffix.length; i++) {
            if (b[len - suffix.length + i] != suffix[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] concat(byte[] a, int aLen, byte[] b) {
        byte[] out = new byte[aLen + b.length];
        System.arraycopy(a, 0, out, 0, aLen);
        System.arraycopy(b, 0, out, aLen, b.length);
        return out;
    }
}
