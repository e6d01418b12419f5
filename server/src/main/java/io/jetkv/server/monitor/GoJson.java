package io.jetkv.server.monitor;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * Request bodies decoded the way nats-server's Go {@code encoding/json} decodes them into an options struct, with
 * the same error texts: a syntax error is Go's ({@code invalid character 'b' looking for beginning of object key
 * string}, {@code unexpected end of JSON input}), a value of the wrong kind is Go's {@code json: cannot unmarshal
 * string into Go struct field ConnzEventOptions.offset of type int} (the first one in document order), a body that is
 * not an object {@code json: cannot unmarshal array into Go value of type server.ConnzEventOptions}. Keys match
 * fields case-insensitively and a {@code null} leaves a field unset, as in Go; keys no field has are kept as sent.
 */
final class GoJson {

    /** A field's Go kind. */
    enum Kind { STRING, BOOL, INT, UINT64, STRINGS }

    /** One field of an options struct: its JSON name, kind and Go type name as Go's errors print it. */
    record Field(String name, Kind kind, String goType) {
        static Field string(String name) {
            return new Field(name, Kind.STRING, "string");
        }

        static Field bool(String name) {
            return new Field(name, Kind.BOOL, "bool");
        }

        static Field integer(String name) {
            return new Field(name, Kind.INT, "int");
        }
    }

    /** An options struct: its Go type name (without the package) and fields. */
    record Schema(String goName, List<Field> fields) {
        Field field(String key) {
            for (Field f : fields) {
                if (f.name().equals(key)) {
                    return f;
                }
            }
            for (Field f : fields) {
                if (f.name().equalsIgnoreCase(key)) {
                    return f;
                }
            }
            return null;
        }
    }

    /** The decoded options (never null when {@code error} is null) or Go's error text. */
    record Decoded(ObjectNode options, String error) {}

    private static final int MAX_DEPTH = 10_000;

    private GoJson() {
    }

    /** Decodes {@code body} into {@code schema}'s struct as nats-server does; an empty body is no options. */
    static Decoded decode(ObjectMapper mapper, byte[] body, Schema schema) {
        if (body.length == 0) {
            return new Decoded(mapper.createObjectNode(), null);
        }
        String syntax = syntaxError(body);
        if (syntax != null) {
            return new Decoded(null, syntax);
        }
        try (JsonParser p = mapper.getFactory().createParser(body)) {
            JsonToken t = p.nextToken();
            ObjectNode out = mapper.createObjectNode();
            if (t == JsonToken.VALUE_NULL) {
                return new Decoded(out, null);
            }
            if (t != JsonToken.START_OBJECT) {
                return new Decoded(null, "json: cannot unmarshal " + kindOf(t) + " into Go value of type server."
                        + schema.goName());
            }
            String error = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken v = p.nextToken();
                Field f = schema.field(key);
                if (f == null) {
                    out.set(key, mapper.readTree(p));
                    continue;
                }
                if (v == JsonToken.VALUE_NULL) {
                    continue; // Go leaves the field as it was
                }
                String wrong = check(p, v, f);
                String type = f.goType();
                JsonNode value = null;
                if (wrong == null) {
                    value = mapper.readTree(p);
                    if (f.kind() == Kind.STRINGS) {
                        // an element of another kind is reported against the element type
                        for (JsonNode e : value) {
                            if (!e.isTextual() && !e.isNull()) {
                                wrong = e.isNumber() ? "number" : e.isBoolean() ? "bool" : e.isArray() ? "array"
                                        : "object";
                                type = "string";
                                break;
                            }
                        }
                    }
                } else {
                    p.skipChildren();
                }
                if (wrong != null) {
                    if (error == null) {
                        error = "json: cannot unmarshal " + wrong + " into Go struct field " + schema.goName() + "."
                                + f.name() + " of type " + type;
                    }
                    continue;
                }
                out.set(f.name(), value);
            }
            return error != null ? new Decoded(null, error) : new Decoded(out, null);
        } catch (IOException e) {
            // the body passed the syntax check, so Jackson reads it too
            return new Decoded(null, String.valueOf(e.getMessage()));
        }
    }

    /** What Go calls the value that does not fit {@code f} ("string", "number 1.5", ...), or null when it fits. */
    private static String check(JsonParser p, JsonToken v, Field f) throws IOException {
        switch (f.kind()) {
            case STRING:
                return v == JsonToken.VALUE_STRING ? null : kindOf(v);
            case BOOL:
                return v == JsonToken.VALUE_TRUE || v == JsonToken.VALUE_FALSE ? null : kindOf(v);
            case INT:
            case UINT64:
                if (v != JsonToken.VALUE_NUMBER_INT && v != JsonToken.VALUE_NUMBER_FLOAT) {
                    return kindOf(v);
                }
                String literal = p.getText();
                return fitsInteger(literal, f.kind() == Kind.UINT64) ? null : "number " + literal;
            case STRINGS:
                return v == JsonToken.START_ARRAY ? null : kindOf(v);
            default:
                throw new IllegalStateException(f.kind().toString());
        }
    }

    private static boolean fitsInteger(String literal, boolean unsigned) {
        // Go parses the literal as written: a fraction or an exponent never fits an integer field
        for (int i = 0; i < literal.length(); i++) {
            char c = literal.charAt(i);
            if (c == '.' || c == 'e' || c == 'E') {
                return false;
            }
        }
        BigInteger n = new BigInteger(literal);
        if (unsigned) {
            return n.signum() >= 0 && n.bitLength() <= 64;
        }
        return n.bitLength() <= 63;
    }

    private static String kindOf(JsonToken t) {
        return switch (t) {
            case VALUE_STRING -> "string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
            case VALUE_TRUE, VALUE_FALSE -> "bool";
            case START_ARRAY -> "array";
            case START_OBJECT -> "object";
            default -> t.toString();
        };
    }

    // ---- Go's scanner: the same errors at the same characters ----

    private enum Ctx { VALUE, KEY_OR_END, KEY, AFTER_KEY, AFTER_PAIR, VALUE_OR_END, AFTER_ELEMENT }

    /** Go's syntax error for {@code body}, or null when it is one well-formed JSON value. */
    static String syntaxError(byte[] body) {
        Deque<Character> open = new ArrayDeque<>();
        Ctx ctx = Ctx.VALUE;
        int i = 0;
        int n = body.length;
        while (true) {
            // whitespace is skipped in every structural state
            while (i < n && isSpace(body[i])) {
                i++;
            }
            if (i == n) {
                return open.isEmpty() && ctx == null ? null : "unexpected end of JSON input";
            }
            int c = body[i] & 0xff;
            if (ctx == null) {
                return invalid(c, "after top-level value");
            }
            switch (ctx) {
                case VALUE, VALUE_OR_END, KEY_OR_END, KEY -> {
                    if (ctx == Ctx.VALUE_OR_END && c == ']' || ctx == Ctx.KEY_OR_END && c == '}') {
                        open.pop();
                        i++;
                        ctx = afterValue(open);
                        continue;
                    }
                    if (ctx == Ctx.KEY_OR_END || ctx == Ctx.KEY) {
                        if (c != '"') {
                            return invalid(c, "looking for beginning of object key string");
                        }
                        int end = string(body, i);
                        if (end < 0) {
                            return stringError(body, i);
                        }
                        i = end;
                        ctx = Ctx.AFTER_KEY;
                        continue;
                    }
                    if (c == '{' || c == '[') {
                        if (open.size() >= MAX_DEPTH) {
                            return "exceeded max depth";
                        }
                        open.push((char) c);
                        i++;
                        ctx = c == '{' ? Ctx.KEY_OR_END : Ctx.VALUE_OR_END;
                        continue;
                    }
                    int end;
                    if (c == '"') {
                        end = string(body, i);
                        if (end < 0) {
                            return stringError(body, i);
                        }
                    } else if (c == '-' || c >= '0' && c <= '9') {
                        end = number(body, i);
                        if (end < 0) {
                            return numberError(body, i);
                        }
                    } else if (c == 't' || c == 'f' || c == 'n') {
                        String word = c == 't' ? "true" : c == 'f' ? "false" : "null";
                        for (int k = 1; k < word.length(); k++) {
                            int at = i + k;
                            int got = at < n ? body[at] & 0xff : ' ';
                            if (got != word.charAt(k)) {
                                return invalid(got, "in literal " + word + " (expecting '" + word.charAt(k) + "')");
                            }
                        }
                        end = i + word.length();
                    } else {
                        return invalid(c, "looking for beginning of value");
                    }
                    i = end;
                    ctx = afterValue(open);
                }
                case AFTER_KEY -> {
                    if (c != ':') {
                        return invalid(c, "after object key");
                    }
                    i++;
                    ctx = Ctx.VALUE;
                }
                case AFTER_PAIR -> {
                    if (c == ',') {
                        i++;
                        ctx = Ctx.KEY;
                    } else if (c == '}') {
                        open.pop();
                        i++;
                        ctx = afterValue(open);
                    } else {
                        return invalid(c, "after object key:value pair");
                    }
                }
                case AFTER_ELEMENT -> {
                    if (c == ',') {
                        i++;
                        ctx = Ctx.VALUE;
                    } else if (c == ']') {
                        open.pop();
                        i++;
                        ctx = afterValue(open);
                    } else {
                        return invalid(c, "after array element");
                    }
                }
                default -> throw new IllegalStateException(ctx.toString());
            }
        }
    }

    /** Where the scanner goes after a complete value: null at the top level. */
    private static Ctx afterValue(Deque<Character> open) {
        if (open.isEmpty()) {
            return null;
        }
        return open.peek() == '{' ? Ctx.AFTER_PAIR : Ctx.AFTER_ELEMENT;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }

    /** The index after the string starting at {@code start} (a quote), or -1 when it is not well formed. */
    private static int string(byte[] b, int start) {
        return stringEnd(b, start, null);
    }

    /** Go's error for the malformed string starting at {@code start}. */
    private static String stringError(byte[] b, int start) {
        String[] error = new String[1];
        stringEnd(b, start, error);
        return error[0];
    }

    /**
     * Walks Go's string grammar; on a dead end sets {@code error[0]} (when asked) and answers -1. Past the end of the
     * body it reads a space, as Go's scanner does at its end (an escape cut short is an "invalid character ' '").
     */
    private static int stringEnd(byte[] b, int start, String[] error) {
        int i = start + 1;
        while (i < b.length) {
            int c = b[i] & 0xff;
            if (c == '"') {
                return i + 1;
            }
            if (c < 0x20) {
                return fail(error, c, "in string literal");
            }
            if (c == '\\') {
                int e = at(b, i + 1);
                if (e == 'u') {
                    for (int k = 2; k < 6; k++) {
                        int h = at(b, i + k);
                        if (!isHex(h)) {
                            return fail(error, h, "in \\u hexadecimal character escape");
                        }
                    }
                    i += 6;
                    continue;
                }
                if ("\"\\/bfnrt".indexOf(e) < 0) {
                    return fail(error, e, "in string escape code");
                }
                i += 2;
                continue;
            }
            i++;
        }
        if (error != null) {
            error[0] = "unexpected end of JSON input";
        }
        return -1;
    }

    private static boolean isHex(int c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    /** The index after the number starting at {@code start}, or -1 when Go's scanner stops inside it. */
    private static int number(byte[] b, int start) {
        return numberEnd(b, start, null);
    }

    private static String numberError(byte[] b, int start) {
        String[] error = new String[1];
        numberEnd(b, start, error);
        return error[0];
    }

    /** Walks Go's number grammar; on a dead end sets {@code error[0]} (when asked) and answers -1. */
    private static int numberEnd(byte[] b, int start, String[] error) {
        int i = start;
        if (at(b, i) == '-') {
            i++;
            if (!isDigit(at(b, i))) {
                return fail(error, at(b, i), "in numeric literal");
            }
        }
        if (at(b, i) == '0') {
            i++;
        } else {
            while (isDigit(at(b, i))) {
                i++;
            }
        }
        if (at(b, i) == '.') {
            i++;
            if (!isDigit(at(b, i))) {
                return fail(error, at(b, i), "after decimal point in numeric literal");
            }
            while (isDigit(at(b, i))) {
                i++;
            }
        }
        if (at(b, i) == 'e' || at(b, i) == 'E') {
            i++;
            if (at(b, i) == '+' || at(b, i) == '-') {
                i++;
            }
            if (!isDigit(at(b, i))) {
                return fail(error, at(b, i), "in exponent of numeric literal");
            }
            while (isDigit(at(b, i))) {
                i++;
            }
        }
        return i;
    }

    /** The byte at {@code i}, or a space past the end (Go's scanner feeds one at the end of input). */
    private static int at(byte[] b, int i) {
        return i < b.length ? b[i] & 0xff : ' ';
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static int fail(String[] error, int c, String context) {
        if (error != null) {
            error[0] = invalid(c, context);
        }
        return -1;
    }

    private static String invalid(int c, String context) {
        return "invalid character " + quote(c) + " " + context;
    }

    /** A byte as Go's scanner quotes it in errors: {@code 'b'}, {@code '\''}, {@code '"'}, {@code '\x01'}. */
    static String quote(int c) {
        if (c == '\'') {
            return "'\\''";
        }
        if (c == '"') {
            return "'\"'";
        }
        String s = switch (c) {
            case '\\' -> "\\\\";
            case 7 -> "\\a";
            case '\b' -> "\\b";
            case '\f' -> "\\f";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            case 11 -> "\\v";
            default -> c < 0x20 || c == 0x7f ? String.format("\\x%02x", c)
                    : c >= 0x80 && c < 0xa0 || c == 0xad ? String.format("\\u%04x", c) : String.valueOf((char) c);
        };
        return "'" + s + "'";
    }
}
