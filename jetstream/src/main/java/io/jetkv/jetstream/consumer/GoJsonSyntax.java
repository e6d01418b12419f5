package io.jetkv.jetstream.consumer;

/**
 * A JSON syntax check that fails with the words of Go's {@code encoding/json} scanner ({@code invalid character
 * 'j' looking for beginning of object key string}, {@code unexpected end of JSON input}, ...): nats-server
 * passes those texts to clients in some status lines, so the first error and its wording must match.
 *
 * <p>Stateless; safe from any thread.
 */
final class GoJsonSyntax {
    private final byte[] b;
    private int i;

    /** Thrown to unwind at the first error; carries Go's message. */
    private static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message, null, false, false);
        }
    }

    private GoJsonSyntax(byte[] b) {
        this.b = b;
    }

    /** Go's error text for the first syntax error in {@code json}, or null when it is valid. */
    static String check(byte[] json) {
        GoJsonSyntax s = new GoJsonSyntax(json);
        try {
            s.value();
            s.skipSpace();
            if (s.i < json.length) {
                throw s.invalid("after top-level value");
            }
            return null;
        } catch (Failure f) {
            return f.getMessage();
        }
    }

    private void skipSpace() {
        while (i < b.length && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) {
            i++;
        }
    }

    /** The byte at the cursor; the end of input is always "unexpected" where a byte is needed. */
    private int peek() {
        if (i >= b.length) {
            throw new Failure("unexpected end of JSON input");
        }
        return b[i] & 0xff;
    }

    private Failure invalid(String context) {
        return new Failure("invalid character " + quoteChar(b[i] & 0xff) + " " + context);
    }

    private void value() {
        skipSpace();
        int c = peek();
        switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> literal("true");
            case 'f' -> literal("false");
            case 'n' -> literal("null");
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    number();
                } else {
                    throw invalid("looking for beginning of value");
                }
            }
        }
    }

    private void object() {
        i++; // '{'
        skipSpace();
        if (peek() == '}') {
            i++;
            return;
        }
        while (true) {
            skipSpace();
            if (peek() != '"') {
                throw invalid("looking for beginning of object key string");
            }
            string();
            skipSpace();
            if (peek() != ':') {
                throw invalid("after object key");
            }
            i++;
            value();
            skipSpace();
            int c = peek();
            if (c == ',') {
                i++;
            } else if (c == '}') {
                i++;
                return;
            } else {
                throw invalid("after object key:value pair");
            }
        }
    }

    private void array() {
        i++; // '['
        skipSpace();
        if (peek() == ']') {
            i++;
            return;
        }
        while (true) {
            value();
            skipSpace();
            int c = peek();
            if (c == ',') {
                i++;
            } else if (c == ']') {
                i++;
                return;
            } else {
                throw invalid("after array element");
            }
        }
    }

    private void string() {
        i++; // opening quote
        while (true) {
            int c = peek();
            if (c == '"') {
                i++;
                return;
            }
            if (c < 0x20) {
                throw invalid("in string literal");
            }
            i++;
            if (c == '\\') {
                int e = peek();
                if ("\"\\/bfnrt".indexOf(e) >= 0) {
                    i++;
                } else if (e == 'u') {
                    i++;
                    for (int k = 0; k < 4; k++) {
                        int h = peek();
                        if (Character.digit(h, 16) < 0) {
                            throw invalid("in \\u hexadecimal character escape");
                        }
                        i++;
                    }
                } else {
                    throw invalid("in string escape code");
                }
            }
        }
    }

    // number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?  -- what follows is the caller's to judge
    private void number() {
        if (b[i] == '-') {
            i++;
            if (!digitAt()) {
                throw atEndOrInvalid("in numeric literal");
            }
        }
        if (b[i] == '0') {
            i++;
        } else {
            while (digitAt()) {
                i++;
            }
        }
        if (i < b.length && b[i] == '.') {
            i++;
            if (!digitAt()) {
                throw atEndOrInvalid("after decimal point in numeric literal");
            }
            while (digitAt()) {
                i++;
            }
        }
        if (i < b.length && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            if (i < b.length && (b[i] == '+' || b[i] == '-')) {
                i++;
            }
            if (!digitAt()) {
                throw atEndOrInvalid("in exponent of numeric literal");
            }
            while (digitAt()) {
                i++;
            }
        }
    }

    private boolean digitAt() {
        return i < b.length && b[i] >= '0' && b[i] <= '9';
    }

    private Failure atEndOrInvalid(String context) {
        return i >= b.length ? new Failure("unexpected end of JSON input") : invalid(context);
    }

    private void literal(String word) {
        i++; // first letter, already matched
        for (int k = 1; k < word.length(); k++) {
            if (peek() != word.charAt(k)) {
                throw invalid("in literal " + word + " (expecting " + quoteChar(word.charAt(k)) + ")");
            }
            i++;
        }
    }

    /** Go's {@code quoteChar}: the byte as a rune in single quotes, escaped like {@code strconv.Quote}. */
    static String quoteChar(int c) {
        if (c == '\'') {
            return "'\\''";
        }
        if (c == '"') {
            return "'\"'";
        }
        String inner = switch (c) {
            case 0x07 -> "\\a";
            case '\b' -> "\\b";
            case '\f' -> "\\f";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            case 0x0b -> "\\v";
            case '\\' -> "\\\\";
            default -> {
                if (c < 0x20 || c == 0x7f) {
                    yield String.format("\\x%02x", c);
                }
                if (c >= 0x80 && c < 0xa0) {
                    yield String.format("\\u%04x", c);
                }
                yield String.valueOf((char) c); // a byte >= 0x80 is read as the rune U+00XX
            }
        };
        return "'" + inner + "'";
    }
}
