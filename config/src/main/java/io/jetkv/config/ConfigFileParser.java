package io.jetkv.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads nats-server's config file syntax (its {@code conf} package) into a tree of {@link ConfValue}s, and
 * maps that tree onto a {@link ServerConfig}. Called by {@link Flags} for {@code -c}, on the main thread
 * before the server starts; one instance parses one file and is then dropped.
 *
 * <p>The syntax: {@code key: value}, {@code key = value} or {@code key value}; {@code {}} maps and
 * {@code []} arrays (entries split by commas or new lines); {@code #} and {@code //} comments; quoted or
 * bare strings, integers with size suffixes, floats, booleans ({@code true/false/yes/no/on/off});
 * {@code include 'file'} (relative to the including file); {@code $name} variables, looked up in the
 * enclosing blocks and then in the environment. Errors read {@code file:line: message}.
 */
public final class ConfigFileParser {

    private static final int MAX_INCLUDE_DEPTH = 10;
    private static final int MAX_ENV_DEPTH = 10;
    private static final int EOF = -1;

    private static final Pattern INTEGER = Pattern.compile("-?\\d+");
    private static final Pattern SIZED_INTEGER = Pattern.compile("-?\\d+[A-Za-z]+");
    private static final Pattern FLOAT = Pattern.compile("-?\\d+\\.\\d+([eE][-+]?\\d+)?");
    // nats-server lets bcrypt hashes ($2a$11$...) stand unquoted even though they start with '$'.
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]?\\$.*");
    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String text;
    private final String source;
    private final Path baseDir;
    private final Function<String, String> env;
    private final Set<Path> includeChain;
    private final int envDepth;
    // Maps being filled, innermost first: "$name" resolves against these (block scoping), then the env.
    private final Deque<Map<String, ConfValue>> scopes = new ArrayDeque<>();
    private int pos;
    private int line = 1;

    private ConfigFileParser(String text, String source, Path baseDir, Function<String, String> env,
            Set<Path> includeChain, int envDepth) {
        this.text = text;
        this.source = source;
        this.baseDir = baseDir;
        this.env = env;
        this.includeChain = includeChain;
        this.envDepth = envDepth;
    }

    /** Parses {@code file} and applies it over {@link ServerConfig#defaults()}, with the process environment. */
    public static ServerConfig load(Path file) throws ConfigException {
        return load(file, System::getenv);
    }

    /** Parses {@code file} and applies it over {@link ServerConfig#defaults()}; {@code env} resolves variables. */
    public static ServerConfig load(Path file, Function<String, String> env) throws ConfigException {
        ServerConfig.Builder builder = ServerConfig.builder();
        applyTo(builder, parseTree(file, env));
        return build(builder, file.toString());
    }

    /** Like {@link #load(Path, Function)} for text in memory; {@code sourceName} names it in errors. */
    public static ServerConfig loadString(String text, String sourceName, Function<String, String> env)
            throws ConfigException {
        ServerConfig.Builder builder = ServerConfig.builder();
        applyTo(builder, parseTree(text, sourceName, Path.of(""), env));
        return build(builder, sourceName);
    }

    /** The syntax tree of {@code file}: top-level keys in file order, includes merged in. */
    public static Map<String, ConfValue> parseTree(Path file, Function<String, String> env) throws ConfigException {
        String content = read(file, "error opening config file: ");
        Set<Path> chain = new HashSet<>();
        chain.add(file.toAbsolutePath().normalize());
        return new ConfigFileParser(content, file.toString(), parentOf(file), env, chain, 0).document();
    }

    /** The syntax tree of {@code text}; includes resolve against {@code baseDir}. */
    public static Map<String, ConfValue> parseTree(String text, String sourceName, Path baseDir,
            Function<String, String> env) throws ConfigException {
        return new ConfigFileParser(text, sourceName, baseDir, env, new HashSet<>(), 0).document();
    }

    /**
     * Sets on {@code builder} every setting found in {@code tree}, leaving the rest as they were.
     *
     * @return warnings about nats-server fields that are accepted but have no effect here
     */
    public static List<String> applyTo(ServerConfig.Builder builder, Map<String, ConfValue> tree)
            throws ConfigException {
        return ConfigMapping.apply(tree, builder);
    }

    static ServerConfig build(ServerConfig.Builder builder, String sourceName) throws ConfigException {
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(sourceName + ": " + e.getMessage());
        }
    }

    private static Path parentOf(Path file) {
        Path parent = file.getParent();
        return parent == null ? Path.of("") : parent;
    }

    private static String read(Path file, String prefix) throws ConfigException {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(prefix + file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(prefix + file + ": " + e.getMessage());
        }
    }

    // ---- grammar ----

    private Map<String, ConfValue> document() throws ConfigException {
        Map<String, ConfValue> root = new LinkedHashMap<>();
        skipBlank();
        if (peek() == '{') {
            // The whole file may be one map, JSON style.
            pos++;
            body(root, '}');
            pos++;
            skipBlank();
            if (peek() != EOF) {
                throw error("unexpected text after the closing '}'");
            }
        } else {
            body(root, EOF);
        }
        return root;
    }

    /** Entries up to {@code end} ('}' or EOF), which is left unconsumed. */
    private void body(Map<String, ConfValue> map, int end) throws ConfigException {
        scopes.push(map);
        try {
            while (true) {
                skipBlank();
                int c = peek();
                if (c == end) {
                    return;
                }
                if (c == EOF) {
                    throw error("unexpected end of file: missing '}'");
                }
                if (c == '}' || c == ']' || c == ',' || c == ';') {
                    throw error("unexpected '" + (char) c + "'");
                }
                String key = entry(map);
                // key = value   # comment
                //              ^ here: the entry must end before anything else starts
                skipSpaces();
                skipComment();
                c = peek();
                if (c == '\n' || c == ';' || c == ',') {
                    advance();
                } else if (c != end && c != EOF) {
                    throw error("expected a new line after the value of \"" + key + "\"");
                }
            }
        } finally {
            scopes.pop();
        }
    }

    /** One {@code key value} or {@code include file}; returns the key for messages. */
    private String entry(Map<String, ConfValue> map) throws ConfigException {
        boolean quoted = peek() == '"' || peek() == '\'';
        String key = quoted ? quotedString() : bareKey();
        boolean spaced = skipSpaces();
        int c = peek();
        if (!quoted && key.equals("include") && spaced && c != '=' && c != ':') {
            include(map);
            return key;
        }
        if (c == '=' || c == ':') {
            advance();
            skipSpaces();
        } else if (!spaced && c != '{' && c != '[') {
            throw error("expected '=', ':' or a space after key \"" + key + "\"");
        }
        c = peek();
        if (c == EOF || c == '\n' || c == ',' || c == ';' || c == '}' || atComment()) {
            throw error("missing value for \"" + key + "\"");
        }
        map.put(key, value());
        return key;
    }

    private ConfValue value() throws ConfigException {
        int startLine = line;
        int c = peek();
        if (c == '{') {
            advance();
            Map<String, ConfValue> map = new LinkedHashMap<>();
            body(map, '}');
            advance();
            return new ConfValue(ConfValue.Type.MAP, map, null, source, startLine);
        }
        if (c == '[') {
            advance();
            return new ConfValue(ConfValue.Type.LIST, array(), null, source, startLine);
        }
        if (c == '"' || c == '\'') {
            String s = quotedString();
            return new ConfValue(ConfValue.Type.STRING, s, s, source, startLine);
        }
        String token = bareValue();
        if (token.isEmpty()) {
            throw error("unexpected '" + (char) c + "'");
        }
        if (token.startsWith("$") && !BCRYPT.matcher(token).matches()) {
            return variable(token.substring(1), startLine);
        }
        return scalar(token, startLine);
    }

    private List<ConfValue> array() throws ConfigException {
        List<ConfValue> list = new ArrayList<>();
        while (true) {
            skipBlank();
            int c = peek();
            if (c == ']') {
                advance();
                return list;
            }
            if (c == EOF) {
                throw error("unexpected end of file: missing ']'");
            }
            list.add(value());
            skipSpaces();
            skipComment();
            c = peek();
            if (c == ',' || c == '\n') {
                advance();
            } else if (c != ']' && c != EOF) {
                throw error("expected ',' or ']' in array");
            }
        }
    }

    private ConfValue scalar(String token, int startLine) throws ConfigException {
        switch (token.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on":
                return new ConfValue(ConfValue.Type.BOOLEAN, Boolean.TRUE, token, source, startLine);
            case "false", "no", "off":
                return new ConfValue(ConfValue.Type.BOOLEAN, Boolean.FALSE, token, source, startLine);
            default:
                break;
        }
        if (INTEGER.matcher(token).matches() || SIZED_INTEGER.matcher(token).matches()) {
            int digitsEnd = token.startsWith("-") ? 1 : 0;
            while (digitsEnd < token.length() && Character.isDigit(token.charAt(digitsEnd))) {
                digitsEnd++;
            }
            // "10s" or "5min" are strings; only a size suffix keeps a token numeric.
            if (Units.sizeMultiplier(token.substring(digitsEnd)) != 0) {
                try {
                    return new ConfValue(ConfValue.Type.INTEGER, Units.parseSize(token), token, source, startLine);
                } catch (NumberFormatException e) {
                    throw new ConfigException(source + ":" + startLine + ": integer out of range: " + token);
                }
            }
        } else if (FLOAT.matcher(token).matches()) {
            return new ConfValue(ConfValue.Type.FLOAT, Double.parseDouble(token), token, source, startLine);
        }
        return new ConfValue(ConfValue.Type.STRING, token, token, source, startLine);
    }

    private ConfValue variable(String name, int startLine) throws ConfigException {
        if (!VARIABLE_NAME.matcher(name).matches()) {
            throw error("invalid variable name \"$" + name + "\"");
        }
        for (Map<String, ConfValue> scope : scopes) {
            ConfValue defined = scope.get(name);
            if (defined != null) {
                defined.markUsedAsVariable();
                return defined.at(source, startLine);
            }
        }
        String fromEnv = env.apply(name);
        if (fromEnv != null) {
            return environmentValue(name, fromEnv).at(source, startLine);
        }
        throw new ConfigException(source + ":" + startLine + ": variable reference for \"" + name
                + "\" can not be found");
    }

    /** An environment value read as a config value would be ("4222" is a number), else as a plain string. */
    private ConfValue environmentValue(String name, String raw) {
        String where = "environment variable " + name;
        if (envDepth < MAX_ENV_DEPTH) {
            ConfigFileParser sub = new ConfigFileParser(raw, where, baseDir, env, includeChain, envDepth + 1);
            try {
                sub.skipSpaces();
                if (sub.peek() != EOF) {
                    ConfValue v = sub.value();
                    sub.skipSpaces();
                    if (sub.peek() == EOF) {
                        return v;
                    }
                }
            } catch (ConfigException e) {
                // not config syntax: take the text as it is
            }
        }
        return new ConfValue(ConfValue.Type.STRING, raw, raw, where, 1);
    }

    private void include(Map<String, ConfValue> map) throws ConfigException {
        int startLine = line;
        int c = peek();
        String name = c == '"' || c == '\'' ? quotedString() : bareValue();
        if (name.isEmpty()) {
            throw error("missing file name after include");
        }
        Path target = baseDir.resolve(name);
        Path canonical = target.toAbsolutePath().normalize();
        if (includeChain.contains(canonical)) {
            throw new ConfigException(source + ":" + startLine + ": include cycle: \"" + name + "\"");
        }
        if (includeChain.size() >= MAX_INCLUDE_DEPTH) {
            throw new ConfigException(source + ":" + startLine + ": includes nested too deeply");
        }
        String content = read(target, source + ":" + startLine + ": error opening include file ");
        Set<Path> chain = new HashSet<>(includeChain);
        chain.add(canonical);
        // Like nats-server, the included file is parsed on its own and its keys land in the current block.
        map.putAll(new ConfigFileParser(content, target.toString(), parentOf(target), env, chain, envDepth)
                .document());
    }

    // ---- lexical pieces ----

    private String bareKey() throws ConfigException {
        int start = pos;
        while (pos < text.length()) {
            char ch = text.charAt(pos);
            if (isSpace(ch) || ch == '\n' || ch == '=' || ch == ':' || ch == '{' || ch == '[' || ch == '}'
                    || ch == ']' || ch == ',' || ch == ';' || ch == '#' || ch == '"' || ch == '\'') {
                break;
            }
            pos++;
        }
        if (pos == start) {
            throw error("expected a key");
        }
        return text.substring(start, pos);
    }

    private String bareValue() {
        int start = pos;
        while (pos < text.length()) {
            char ch = text.charAt(pos);
            if (isSpace(ch) || ch == '\n' || ch == ',' || ch == ';' || ch == '}' || ch == ']') {
                break;
            }
            pos++;
        }
        return text.substring(start, pos);
    }

    private String quotedString() throws ConfigException {
        char quote = text.charAt(pos++);
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length() || text.charAt(pos) == '\n') {
                throw error("unterminated string");
            }
            char ch = text.charAt(pos++);
            if (ch == quote) {
                return sb.toString();
            }
            // Single quotes are raw; double quotes take JSON-like escapes.
            if (ch != '\\' || quote == '\'') {
                sb.append(ch);
                continue;
            }
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char esc = text.charAt(pos++);
            switch (esc) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case '"', '\\', '/', '\'' -> sb.append(esc);
                case 'u' -> {
                    if (pos + 4 > text.length()) {
                        throw error("invalid \\u escape");
                    }
                    try {
                        sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException e) {
                        throw error("invalid \\u escape");
                    }
                    pos += 4;
                }
                default -> throw error("invalid escape \\" + esc + " in string");
            }
        }
    }

    /** Skips spaces and tabs; true when there were any. */
    private boolean skipSpaces() {
        int start = pos;
        while (pos < text.length() && isSpace(text.charAt(pos))) {
            pos++;
        }
        return pos > start;
    }

    /** Skips whitespace, new lines and comments. */
    private void skipBlank() {
        while (true) {
            skipSpaces();
            if (atComment()) {
                skipComment();
            } else if (peek() == '\n') {
                advance();
            } else {
                return;
            }
        }
    }

    private boolean atComment() {
        return peek() == '#' || (peek() == '/' && pos + 1 < text.length() && text.charAt(pos + 1) == '/');
    }

    private void skipComment() {
        if (atComment()) {
            while (pos < text.length() && text.charAt(pos) != '\n') {
                pos++;
            }
        }
    }

    private static boolean isSpace(char ch) {
        return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\uFEFF';
    }

    private int peek() {
        return pos < text.length() ? text.charAt(pos) : EOF;
    }

    private void advance() {
        if (pos < text.length() && text.charAt(pos++) == '\n') {
            line++;
        }
    }

    private ConfigException error(String message) {
        return new ConfigException(source + ":" + line + ": " + message);
    }
}
