package io.jetkv.config;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One value of a parsed config file: a scalar, a list or a map, with the file and line it came from so
 * that errors can point at it. Produced by {@link ConfigFileParser}; read on the main thread at startup.
 *
 * <p>Scalars keep their source text ({@link #raw()}) because nats-server's syntax is ambiguous: bare
 * {@code 2m} lexes as the size 2,000,000 but means two minutes where a duration is expected.
 */
public final class ConfValue {

    /** What kind of value was written. */
    public enum Type {
        STRING,
        INTEGER,
        FLOAT,
        BOOLEAN,
        LIST,
        MAP
    }

    private final Type type;
    private final Object value;
    private final String raw;
    private final String file;
    private final int line;
    // Set when a later "$name" refers to this entry: such keys are variables, not settings.
    private boolean usedAsVariable;

    ConfValue(Type type, Object value, String raw, String file, int line) {
        this.type = type;
        this.value = value;
        this.raw = raw;
        this.file = file;
        this.line = line;
    }

    /** The same value, as seen at a variable reference elsewhere (errors then point at the reference). */
    ConfValue at(String refFile, int refLine) {
        return new ConfValue(type, value, raw, refFile, refLine);
    }

    void markUsedAsVariable() {
        usedAsVariable = true;
    }

    public Type type() {
        return type;
    }

    /** The Java value: String, Long, Double, Boolean, {@code List<ConfValue>} or {@code Map<String, ConfValue>}. */
    public Object value() {
        return value;
    }

    /** The text as written for scalars (without quotes), null for lists and maps. */
    public String raw() {
        return raw;
    }

    public String file() {
        return file;
    }

    public int line() {
        return line;
    }

    /** {@code file:line}, the prefix of every error about this value. */
    public String where() {
        return file + ":" + line;
    }

    /** True when some {@code $name} in the file referred to this value. */
    public boolean usedAsVariable() {
        return usedAsVariable;
    }

    public boolean isScalar() {
        return type != Type.LIST && type != Type.MAP;
    }

    @SuppressWarnings("unchecked")
    public Map<String, ConfValue> asMap() {
        return type == Type.MAP ? Collections.unmodifiableMap((Map<String, ConfValue>) value) : null;
    }

    @SuppressWarnings("unchecked")
    public List<ConfValue> asList() {
        return type == Type.LIST ? Collections.unmodifiableList((List<ConfValue>) value) : null;
    }

    @Override
    public String toString() {
        return isScalar() ? type + " " + raw : type + " " + value;
    }
}
