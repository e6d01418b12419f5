package io.jetkv.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * nats-server's command-line flags, parsed once by {@code Main} on the main thread into a {@link Launch}.
 *
 * <p>Like Go's {@code flag} package, every flag takes one or two dashes ({@code -js}, {@code --js},
 * {@code -port}, {@code --port}), values come as {@code -p 4222} or {@code --port=4222}, and boolean flags
 * accept {@code =true}/{@code =false}. Short flags do not cluster: {@code -DV} is a flag of its own.
 *
 * <p>Precedence: defaults, then the {@code -c} file, then flags. The spec is built in code rather than
 * from annotations so that startup reflects over nothing.
 */
public final class Flags {

    private static final String HOST = "-a";
    private static final String PORT = "-p";
    private static final String NAME = "-n";
    private static final String HTTP_PORT = "-m";
    private static final String CONFIG = "-c";
    private static final String MAX_PAYLOAD = "--max_payload";
    private static final String LOG = "-l";
    private static final String DEBUG = "-D";
    private static final String TRACE = "-V";
    private static final String DEBUG_TRACE = "-DV";
    private static final String JETSTREAM = "-js";
    private static final String STORE_DIR = "-sd";
    private static final String USER = "--user";
    private static final String PASS = "--pass";
    private static final String AUTH = "--auth";
    private static final String HELP = "-h";
    private static final String VERSION = "-v";

    /** Printed for {@code -h}; laid out like nats-server's usage. */
    public static final String USAGE = """
            Usage: jetkv [options]

            Server Options:
                -a, --addr, --net <host>         Bind to host address (default: %s)
                -p, --port <port>                Use port for clients (default: %d, -1 for any free port)
                -n, --name
                    --server_name <server_name>  Server name (default: auto)
                -m, --http_port <port>           Use port for http monitoring
                -c, --config <file>              Configuration file
                    --max_payload <size>         Maximum message payload, e.g. 1MB (default: %s)

            Logging Options:
                -l, --log <file>                 File to redirect log output
                -D, --debug                      Enable debugging output
                -V, --trace                      Trace the raw protocol
                -DV                              Debug and trace

            JetStream Options:
                -js, --jetstream                 Enable JetStream functionality
                -sd, --store_dir <dir>           Set the storage directory

            Authorization Options:
                    --user <user>                User required for connections
                    --pass <password>            Password required for connections
                    --auth <token>               Authorization token required for connections

            Common Options:
                -h, --help                       Show this message
                -v, --version                    Show version
            """.formatted(ServerConfig.DEFAULT_HOST, ServerConfig.DEFAULT_PORT, "1MB");

    private Flags() {}

    /** Parses {@code args}; config file variables resolve against the process environment. */
    public static Launch parse(String... args) throws ConfigException {
        return parse(System::getenv, args);
    }

    /** Parses {@code args}; {@code env} resolves {@code $VAR}s in the config file. */
    public static Launch parse(Function<String, String> env, String... args) throws ConfigException {
        ParseResult flags = parseArgs(args);
        // nats-server answers -v and -h before reading any file, so they work with a broken config.
        if (flags.matchedOptionValue(VERSION, false)) {
            return Launch.print(Launch.Action.VERSION, Version.VERSION_LINE + "\n");
        }
        if (flags.matchedOptionValue(HELP, false)) {
            return Launch.print(Launch.Action.HELP, USAGE);
        }

        ServerConfig.Builder b = ServerConfig.builder();
        List<String> warnings = List.of();
        String configFile = flags.matchedOptionValue(CONFIG, null);
        if (configFile != null) {
            warnings = ConfigFileParser.applyTo(b, ConfigFileParser.parseTree(path(CONFIG, configFile), env));
        }
        overlay(flags, b);
        ServerConfig config;
        try {
            config = b.build();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        return Launch.run(config, warnings);
    }

    private static void overlay(ParseResult flags, ServerConfig.Builder b) throws ConfigException {
        if (flags.hasMatchedOption(HOST)) {
            b.host(flags.matchedOptionValue(HOST, ""));
        }
        if (flags.hasMatchedOption(PORT)) {
            b.port(port(PORT, flags.matchedOptionValue(PORT, "")));
        }
        if (flags.hasMatchedOption(NAME)) {
            b.serverName(flags.matchedOptionValue(NAME, ""));
        }
        if (flags.hasMatchedOption(HTTP_PORT)) {
            int http = port(HTTP_PORT, flags.matchedOptionValue(HTTP_PORT, ""));
            // -1 asks for a random monitoring port; 0 leaves monitoring off
            b.httpPort(http == 0 && flags.matchedOptionValue(HTTP_PORT, "").strip().equals("-1") ? -1 : http);
        }
        if (flags.hasMatchedOption(MAX_PAYLOAD)) {
            b.maxPayload(maxPayload(flags.matchedOptionValue(MAX_PAYLOAD, "")));
        }

        LogConfig log = b.log();
        boolean debug = flags.matchedOptionValue(DEBUG, log.debug());
        boolean trace = flags.matchedOptionValue(TRACE, log.trace());
        if (flags.matchedOptionValue(DEBUG_TRACE, false)) {
            debug = true;
            trace = true;
        }
        Path logFile = flags.hasMatchedOption(LOG) ? path(LOG, flags.matchedOptionValue(LOG, "")) : log.file();
        b.log(new LogConfig(debug, trace, logFile));

        JetStreamConfig js = b.jetstream();
        if (flags.hasMatchedOption(JETSTREAM)) {
            js = js.withEnabled(flags.matchedOptionValue(JETSTREAM, false));
        }
        if (flags.hasMatchedOption(STORE_DIR)) {
            js = js.withStoreDir(path(STORE_DIR, flags.matchedOptionValue(STORE_DIR, "")));
        }
        b.jetstream(js);

        b.auth(auth(flags, b.auth()));
    }

    /**
     * Flags replace the file's method of authentication: {@code --user/--pass} drop a file token,
     * {@code --auth} drops file users. Only one of {@code --user}/{@code --pass} fills in the file's single user.
     */
    private static AuthConfig auth(ParseResult flags, AuthConfig file) throws ConfigException {
        String user = flags.matchedOptionValue(USER, null);
        String pass = flags.matchedOptionValue(PASS, null);
        String token = flags.matchedOptionValue(AUTH, null);
        boolean userFlags = user != null || pass != null;
        if (!userFlags && token == null) {
            return file;
        }
        if (userFlags && token != null) {
            throw new ConfigException("can not use --auth together with --user/--pass");
        }
        if (token != null) {
            return new AuthConfig(token, List.of(), file.defaultPermissions(), file.timeout());
        }
        Permissions permissions = null;
        if (user == null || pass == null) {
            if (file.users().size() != 1) {
                throw new ConfigException("--user and --pass must be given together");
            }
            User fromFile = file.users().get(0);
            user = user != null ? user : fromFile.name();
            pass = pass != null ? pass : fromFile.password();
            permissions = fromFile.permissions();
        }
        return new AuthConfig(null, List.of(new User(user, pass, permissions)), file.defaultPermissions(),
                file.timeout());
    }

    // ---- picocli ----

    private static ParseResult parseArgs(String[] args) throws ConfigException {
        CommandSpec spec = CommandSpec.create().name("jetkv");
        value(spec, "<host>", HOST, "--addr", "--net");
        value(spec, "<port>", PORT, "--port");
        value(spec, "<server_name>", NAME, "--name", "--server_name");
        value(spec, "<port>", HTTP_PORT, "--http_port");
        value(spec, "<file>", CONFIG, "--config");
        value(spec, "<size>", MAX_PAYLOAD);
        value(spec, "<file>", LOG, "--log");
        flag(spec, DEBUG, "--debug");
        flag(spec, TRACE, "--trace");
        flag(spec, DEBUG_TRACE);
        flag(spec, JETSTREAM, "--jetstream");
        value(spec, "<dir>", STORE_DIR, "--store_dir");
        value(spec, "<user>", USER);
        value(spec, "<password>", PASS);
        value(spec, "<token>", AUTH);
        flag(spec, HELP, "--help");
        flag(spec, VERSION, "--version");

        CommandLine cl = new CommandLine(spec);
        cl.setPosixClusteredShortOptionsAllowed(false);
        cl.setOverwrittenOptionsAllowed(true); // last one wins, as with Go's flag package
        cl.setExpandAtFiles(false);
        try {
            return cl.parseArgs(args);
        } catch (CommandLine.UnmatchedArgumentException e) {
            String arg = e.getUnmatched().isEmpty() ? "?" : e.getUnmatched().get(0);
            throw new ConfigException(arg.startsWith("-")
                    ? "flag provided but not defined: " + arg + " (see jetkv --help)"
                    : "unexpected argument: " + arg + " (see jetkv --help)");
        } catch (CommandLine.MissingParameterException e) {
            List<ArgSpec> missing = e.getMissing();
            String name = missing.isEmpty() || !(missing.get(0) instanceof OptionSpec o) ? "?" : o.shortestName();
            throw new ConfigException("flag needs an argument: " + name);
        } catch (CommandLine.ParameterException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    private static void value(CommandSpec spec, String label, String... names) {
        spec.addOption(OptionSpec.builder(bothDashes(names)).type(String.class).arity("1").paramLabel(label).build());
    }

    private static void flag(CommandSpec spec, String... names) {
        spec.addOption(OptionSpec.builder(bothDashes(names)).type(boolean.class).arity("0..1").build());
    }

    /** Go's flag package treats {@code -name} and {@code --name} alike; register both spellings. */
    private static String[] bothDashes(String... names) {
        Set<String> all = new LinkedHashSet<>();
        for (String n : names) {
            String bare = n.replaceFirst("^--?", "");
            all.add(n);
            all.add("-" + bare);
            all.add("--" + bare);
        }
        return all.toArray(new String[0]);
    }

    // ---- values ----

    private static int port(String flag, String value) throws ConfigException {
        int port;
        try {
            port = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw badValue(flag, value, "not a port number");
        }
        if (port < -1 || port > 65535) {
            throw badValue(flag, value, "port out of range");
        }
        return port == -1 ? 0 : port;
    }

    private static int maxPayload(String value) throws ConfigException {
        long n;
        try {
            n = Units.parseSize(value);
        } catch (NumberFormatException e) {
            throw badValue(MAX_PAYLOAD, value, "expected a size such as 1048576, 64KB or 8MB");
        }
        if (n <= 0 || n > Integer.MAX_VALUE) {
            throw badValue(MAX_PAYLOAD, value, "out of range");
        }
        return (int) n;
    }

    private static Path path(String flag, String value) throws ConfigException {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw badValue(flag, value, e.getReason());
        }
    }

    private static ConfigException badValue(String flag, String value, String why) {
        return new ConfigException("invalid value \"" + value + "\" for flag " + flag + ": " + why);
    }
}
