package io.jetkv.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * nats-server's command-line flags, parsed once by {@code Main} on the main thread into a {@link Launch}.
 *
 * <p>Like Go's {@code flag} package, every flag takes one or two dashes ({@code -js}, {@code --js},
 * {@code -port}, {@code --port}), values come as {@code -p 4222} or {@code --port=4222}, and boolean flags
 * accept {@code =true}/{@code =false}. Short flags do not cluster: {@code -DV} is a flag of its own.
 *
 * <p>Precedence: defaults, then the {@code -c} file, then flags.
 */
public final class Flags {

    private static final String HOST = "-a";
    private static final String PORT = "-p";
    private static final String NAME = "-n";
    private static final String HTTP_PORT = "-m";
    private static final String HTTPS_PORT = "-ms";
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
    private static final String CLUSTER = "--cluster";
    private static final String CLUSTER_NAME = "--cluster_name";
    private static final String ROUTES = "--routes";
    private static final String CLUSTER_ADVERTISE = "--cluster_advertise";
    private static final String NO_ADVERTISE = "--no_advertise";
    private static final String CONNECT_RETRIES = "--connect_retries";
    private static final String TLS = "--tls";
    private static final String TLS_CERT = "--tlscert";
    private static final String TLS_KEY = "--tlskey";
    private static final String TLS_CA_CERT = "--tlscacert";
    private static final String TLS_VERIFY = "--tlsverify";
    private static final String PID_FILE = "-P";
    private static final String PORTS_FILE_DIR = "--ports_file_dir";
    private static final String SIGNAL = "-sl";
    private static final String HELP = "-h";
    private static final String VERSION = "-v";

    /** Printed for {@code -h}; laid out like nats-server's usage. Filled in only then: see {@link #usage}. */
    private static final String USAGE = """
            Usage: jetkv [options]

            Server Options:
                -a, --addr, --net <host>         Bind to host address (default: %s)
                -p, --port <port>                Use port for clients (default: %d, -1 for any free port)
                -n, --name
                    --server_name <server_name>  Server name (default: auto)
                -m, --http_port <port>           Use port for http monitoring
                -ms,--https_port <port>          Use port for https monitoring (needs TLS)
                -c, --config <file>              Configuration file
                    --max_payload <size>         Maximum message payload, e.g. 1MB (default: %s)
                -P, --pid <file>                 File to store the process id
                    --ports_file_dir <dir>       Write a <exe>_<pid>.ports file with the listen URLs there
                -sl, --signal <cmd>[=<pid>]      Send a signal to a running server: ldm, stop, quit, term,
                                                 reopen, reload; <pid> may be a pid file (default: -P, else
                                                 the one jetkv server running)

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

            TLS Options:
                    --tls                        Enable TLS, do not verify clients (default: false)
                    --tlscert <file>             Server certificate file
                    --tlskey <file>              Private key for server certificate
                    --tlsverify                  Enable TLS, verify client certificates
                    --tlscacert <file>           Client certificate CA for verification

            Cluster Options:
                    --routes <rurl-1, rurl-2>    Routes to solicit and connect
                    --cluster <cluster-url>      Cluster URL for solicited routes
                    --cluster_name <string>      Cluster Name, if not set one will be dynamically generated
                    --no_advertise <bool>        Do not advertise known cluster information to clients
                    --cluster_advertise <string> Cluster URL to advertise to other servers
                    --connect_retries <number>   For implicit routes, number of connect retries

            Common Options:
                -h, --help                       Show this message
                -v, --version                    Show version
            """;

    private Flags() {}

    /**
     * The usage text. Formatting at class initialisation would load {@link java.util.Formatter} and the
     * locale data on every start, some 20 ms of the start-up that harnesses wait for.
     */
    public static String usage() {
        return USAGE.formatted(ServerConfig.DEFAULT_HOST, ServerConfig.DEFAULT_PORT, "1MB");
    }

    /** The {@code -c} file named in {@code args}, or null (a reload needs one). */
    public static String configFile(String... args) throws ConfigException {
        return parseArgs(args).matchedOptionValue(CONFIG, null);
    }

    /** Parses {@code args}; config file variables resolve against the process environment. */
    public static Launch parse(String... args) throws ConfigException {
        return parse(System::getenv, args);
    }

    /** Parses {@code args}; {@code env} resolves {@code $VAR}s in the config file. */
    public static Launch parse(Function<String, String> env, String... args) throws ConfigException {
        Parsed flags = parseArgs(args);
        // nats-server answers -v and -h before reading any file, so they work with a broken config.
        if (flags.matchedOptionValue(VERSION, false)) {
            return Launch.print(Launch.Action.VERSION, Version.VERSION_LINE + "\n");
        }
        if (flags.matchedOptionValue(HELP, false)) {
            return Launch.print(Launch.Action.HELP, usage());
        }
        if (flags.hasMatchedOption(SIGNAL)) {
            String command = flags.matchedOptionValue(SIGNAL, "");
            if (!command.contains("=") && flags.hasMatchedOption(PID_FILE)) {
                command = command + "=" + flags.matchedOptionValue(PID_FILE, "");
            }
            return Launch.signal(command);
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

    private static void overlay(Parsed flags, ServerConfig.Builder b) throws ConfigException {
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
        if (flags.hasMatchedOption(HTTPS_PORT)) {
            int https = port(HTTPS_PORT, flags.matchedOptionValue(HTTPS_PORT, ""));
            b.httpPort(https == 0 && flags.matchedOptionValue(HTTPS_PORT, "").strip().equals("-1") ? -1 : https);
            b.httpsMonitor(true);
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
        b.cluster(cluster(flags, b.cluster()));
        b.tls(tls(flags, b.tls()));
        OpsConfig ops = b.ops();
        if (flags.hasMatchedOption(PID_FILE)) {
            ops = ops.withPidFile(path(PID_FILE, flags.matchedOptionValue(PID_FILE, "")));
        }
        if (flags.hasMatchedOption(PORTS_FILE_DIR)) {
            ops = ops.withPortsFileDir(path(PORTS_FILE_DIR, flags.matchedOptionValue(PORTS_FILE_DIR, "")));
        }
        b.ops(ops);
    }

    /**
     * {@code --tls} or {@code --tlsverify} turn TLS on with the certificate and key of {@code --tlscert} and
     * {@code --tlskey} (both required then, as nats-server); the file's other TLS settings stay.
     */
    private static TlsConfig tls(Parsed flags, TlsConfig file) throws ConfigException {
        boolean verify = flags.matchedOptionValue(TLS_VERIFY, false);
        if (!flags.matchedOptionValue(TLS, false) && !verify) {
            return file;
        }
        String cert = flags.matchedOptionValue(TLS_CERT, null);
        String key = flags.matchedOptionValue(TLS_KEY, null);
        if (cert == null || cert.isEmpty()) {
            throw new ConfigException("TLS Server certificate must be present and valid");
        }
        if (key == null || key.isEmpty()) {
            throw new ConfigException("TLS Server private key must be present and valid");
        }
        String ca = flags.matchedOptionValue(TLS_CA_CERT, null);
        return file.withFiles(path(TLS_CERT, cert), path(TLS_KEY, key), ca == null ? null : path(TLS_CA_CERT, ca))
                .withVerify(verify);
    }

    /** {@code --cluster nats://[user:pass@]host:port} opens the route listener; the others adjust the block. */
    private static ClusterConfig cluster(Parsed flags, ClusterConfig c) throws ConfigException {
        if (flags.hasMatchedOption(CLUSTER)) {
            String value = flags.matchedOptionValue(CLUSTER, "");
            java.net.URI url;
            try {
                url = ClusterConfig.parseListenUrl(value);
            } catch (IllegalArgumentException e) {
                throw badValue(CLUSTER, value, e.getMessage());
            }
            c = c.withListen(url.getHost(), url.getPort());
            String userInfo = url.getUserInfo();
            if (userInfo != null) {
                int colon = userInfo.indexOf(':');
                if (colon < 0) {
                    throw badValue(CLUSTER, value, "expected user:password in the URL, not a user alone");
                }
                c = new ClusterConfig(c.enabled(), c.name(), c.host(), c.port(), c.advertise(), c.routes(),
                        userInfo.substring(0, colon), userInfo.substring(colon + 1), c.authTimeout(),
                        c.noAdvertise(), c.connectRetries(), c.tls());
            }
        }
        if (flags.hasMatchedOption(CLUSTER_NAME)) {
            c = c.withName(flags.matchedOptionValue(CLUSTER_NAME, ""));
        }
        if (flags.hasMatchedOption(ROUTES)) {
            String value = flags.matchedOptionValue(ROUTES, "");
            List<java.net.URI> routes = new java.util.ArrayList<>();
            for (String part : value.split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                try {
                    routes.add(ClusterConfig.parseRouteUrl(part));
                } catch (IllegalArgumentException e) {
                    throw badValue(ROUTES, part.strip(), e.getMessage());
                }
            }
            c = c.withRoutes(routes);
        }
        if (flags.hasMatchedOption(CLUSTER_ADVERTISE)) {
            c = c.withAdvertise(flags.matchedOptionValue(CLUSTER_ADVERTISE, ""));
        }
        if (flags.hasMatchedOption(NO_ADVERTISE)) {
            c = c.withNoAdvertise(flags.matchedOptionValue(NO_ADVERTISE, false));
        }
        if (flags.hasMatchedOption(CONNECT_RETRIES)) {
            String value = flags.matchedOptionValue(CONNECT_RETRIES, "");
            try {
                int n = Integer.parseInt(value.strip());
                if (n < 0) {
                    throw badValue(CONNECT_RETRIES, value, "must not be negative");
                }
                c = c.withConnectRetries(n);
            } catch (NumberFormatException e) {
                throw badValue(CONNECT_RETRIES, value, "not a number");
            }
        }
        return c;
    }

    /**
     * Flags replace the file's method of authentication: {@code --user/--pass} drop a file token,
     * {@code --auth} drops file users. Only one of {@code --user}/{@code --pass} fills in the file's single user.
     */
    private static AuthConfig auth(Parsed flags, AuthConfig file) throws ConfigException {
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

    // ---- parsing ----

    /** The flags given, by canonical name ({@link #PORT}, ...); the last repeat wins. */
    private record Parsed(Map<String, String> values) {
        boolean hasMatchedOption(String flag) {
            return values.containsKey(flag);
        }

        String matchedOptionValue(String flag, String absent) {
            return values.getOrDefault(flag, absent);
        }

        boolean matchedOptionValue(String flag, boolean absent) {
            String v = values.get(flag);
            return v == null ? absent : Boolean.parseBoolean(v);
        }
    }

    /** Every spelling without its dashes, to the canonical name; booleans apart. */
    private static final Map<String, String> VALUE_FLAGS = new HashMap<>();
    private static final Map<String, String> BOOLEAN_FLAGS = new HashMap<>();

    static {
        names(VALUE_FLAGS, HOST, "--addr", "--net");
        names(VALUE_FLAGS, PORT, "--port");
        names(VALUE_FLAGS, NAME, "--name", "--server_name");
        names(VALUE_FLAGS, HTTP_PORT, "--http_port");
        names(VALUE_FLAGS, HTTPS_PORT, "--https_port");
        names(VALUE_FLAGS, CONFIG, "--config");
        names(VALUE_FLAGS, MAX_PAYLOAD);
        names(VALUE_FLAGS, LOG, "--log");
        names(BOOLEAN_FLAGS, DEBUG, "--debug");
        names(BOOLEAN_FLAGS, TRACE, "--trace");
        names(BOOLEAN_FLAGS, DEBUG_TRACE);
        names(BOOLEAN_FLAGS, JETSTREAM, "--jetstream");
        names(VALUE_FLAGS, STORE_DIR, "--store_dir");
        names(VALUE_FLAGS, USER);
        names(VALUE_FLAGS, PASS);
        names(VALUE_FLAGS, AUTH);
        names(VALUE_FLAGS, CLUSTER, "--cluster_listen");
        names(VALUE_FLAGS, CLUSTER_NAME);
        names(VALUE_FLAGS, ROUTES);
        names(VALUE_FLAGS, CLUSTER_ADVERTISE);
        names(BOOLEAN_FLAGS, NO_ADVERTISE);
        names(VALUE_FLAGS, CONNECT_RETRIES);
        names(BOOLEAN_FLAGS, TLS);
        names(VALUE_FLAGS, TLS_CERT);
        names(VALUE_FLAGS, TLS_KEY);
        names(VALUE_FLAGS, TLS_CA_CERT);
        names(BOOLEAN_FLAGS, TLS_VERIFY);
        names(VALUE_FLAGS, PID_FILE, "--pid");
        names(VALUE_FLAGS, PORTS_FILE_DIR);
        names(VALUE_FLAGS, SIGNAL, "--signal");
        names(BOOLEAN_FLAGS, HELP, "--help");
        names(BOOLEAN_FLAGS, VERSION, "--version");
    }

    private static void names(Map<String, String> into, String canonical, String... aliases) {
        into.put(bare(canonical), canonical);
        for (String a : aliases) {
            into.put(bare(a), canonical);
        }
    }

    private static String bare(String flag) {
        return flag.startsWith("--") ? flag.substring(2) : flag.substring(1);
    }

    /**
     * Go's flag rules, by hand rather than with a library: the server's start-up time counts, and a parser
     * library's classes cost about 0.1 s there. One or two dashes, {@code name=value} or {@code name value},
     * booleans with an optional {@code =true}/{@code =false} (or a following {@code true}/{@code false}), no
     * clustering of short flags, no positional arguments.
     */
    private static Parsed parseArgs(String[] args) throws ConfigException {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                String stray = arg.equals("--") ? (i + 1 < args.length ? args[i + 1] : null) : arg;
                if (stray == null) {
                    break;
                }
                throw new ConfigException("unexpected argument: " + stray + " (see jetkv --help)");
            }
            String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            int eq = body.indexOf('=');
            String name = eq < 0 ? body : body.substring(0, eq);
            String inline = eq < 0 ? null : body.substring(eq + 1);
            String canonical = VALUE_FLAGS.get(name);
            if (canonical != null) {
                if (inline == null) {
                    if (i + 1 >= args.length) {
                        throw new ConfigException("flag needs an argument: " + canonical);
                    }
                    inline = args[++i];
                }
                values.put(canonical, inline);
                continue;
            }
            canonical = BOOLEAN_FLAGS.get(name);
            if (canonical == null) {
                throw new ConfigException("flag provided but not defined: " + arg + " (see jetkv --help)");
            }
            if (inline == null && i + 1 < args.length && isBoolean(args[i + 1])) {
                inline = args[++i];
            }
            if (inline != null && !isBoolean(inline)) {
                throw new ConfigException("invalid boolean value \"" + inline + "\" for flag " + canonical);
            }
            values.put(canonical, inline == null ? "true" : inline.toLowerCase(Locale.ROOT));
        }
        return new Parsed(values);
    }

    private static boolean isBoolean(String v) {
        return v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false");
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
