package io.jetkv.server.cli;

import io.jetkv.server.cli.Args.Flag;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener.Events;
import io.nats.client.ErrorListener;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamStatusException;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;

/**
 * {@code jetkv kv ...} and {@code jetkv account info}: a NATS client command line, built on jnats, whose
 * commands and output follow the {@code nats} CLI (natscli). Works against any NATS server with JetStream.
 * Runs entirely on the caller's thread; {@link #run} is the in-process entry point tests use.
 */
public final class Cli {
    static final String DEFAULT_URL = "nats://127.0.0.1:4222";

    /** A command: its words, positional arguments (required ones first) and the flags it accepts. */
    private record Spec(String path, List<String> required, List<String> optional, Set<String> flags) {
        String usage() {
            StringBuilder sb = new StringBuilder(path);
            required.forEach(a -> sb.append(" <").append(a).append('>'));
            optional.forEach(a -> sb.append(" [<").append(a).append(">]"));
            new TreeSet<>(flags).forEach(f -> sb.append(" [--").append(f).append(']'));
            return sb.toString();
        }
    }

    private static final List<Flag> FLAGS = List.of(
            new Flag("server", 's', true),
            new Flag("user", (char) 0, true),
            new Flag("password", (char) 0, true),
            new Flag("timeout", (char) 0, true),
            new Flag("help", 'h', false),
            new Flag("history", (char) 0, true),
            new Flag("ttl", (char) 0, true),
            new Flag("replicas", (char) 0, true),
            new Flag("max-value-size", (char) 0, true),
            new Flag("max-bucket-size", (char) 0, true),
            new Flag("description", (char) 0, true),
            new Flag("storage", (char) 0, true),
            new Flag("compress", (char) 0, false),
            new Flag("revision", (char) 0, true),
            new Flag("raw", (char) 0, false),
            new Flag("force", 'f', false),
            new Flag("names", 'n', false),
            new Flag("verbose", 'v', false),
            new Flag("display-value", (char) 0, false));

    private static final Set<String> GLOBAL_FLAGS = Set.of("server", "user", "password", "timeout", "help");

    private static final List<Spec> SPECS = List.of(
            new Spec("kv add", List.of("bucket"), List.of(), Set.of(
                    "history", "ttl", "replicas", "max-value-size", "max-bucket-size", "description", "storage",
                    "compress")),
            new Spec("kv put", List.of("bucket", "key"), List.of("value"), Set.of()),
            new Spec("kv get", List.of("bucket", "key"), List.of(), Set.of("revision", "raw")),
            new Spec("kv create", List.of("bucket", "key"), List.of("value"), Set.of()),
            new Spec("kv update", List.of("bucket", "key", "value", "revision"), List.of(), Set.of()),
            new Spec("kv del", List.of("bucket"), List.of("key"), Set.of("force")),
            new Spec("kv purge", List.of("bucket", "key"), List.of(), Set.of("force")),
            new Spec("kv history", List.of("bucket", "key"), List.of(), Set.of()),
            new Spec("kv info", List.of("bucket"), List.of(), Set.of()),
            new Spec("kv watch", List.of("bucket"), List.of("key"), Set.of()),
            new Spec("kv ls", List.of(), List.of("bucket"), Set.of("names", "verbose", "display-value")),
            new Spec("kv keys", List.of("bucket"), List.of("filter"), Set.of()),
            new Spec("kv compact", List.of("bucket"), List.of(), Set.of("force")),
            new Spec("account info", List.of(), List.of(), Set.of()));

    /** natscli's aliases. */
    private static final Map<String, String> ALIASES = Map.of(
            "kv new", "kv add",
            "kv rm", "kv del",
            "kv status", "kv info",
            "kv view", "kv info",
            "kv list", "kv ls",
            "account nfo", "account info",
            "a info", "account info");

    private Cli() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.in, Prompt.stdinIsTerminal()));
    }

    /**
     * Runs one command with {@code in} as its standard input; returns the exit status. Standard input counts
     * as a terminal only when it is the process's own and that is a terminal.
     */
    public static int run(String[] args, PrintStream out, PrintStream err, InputStream in) {
        return run(args, out, err, in, in == System.in && Prompt.stdinIsTerminal());
    }

    /**
     * As {@link #run(String[], PrintStream, PrintStream, InputStream)}, saying whether {@code in} is a
     * terminal: a terminal is asked for confirmations, anything else is read as a value.
     */
    public static int run(String[] args, PrintStream out, PrintStream err, InputStream in, boolean terminal) {
        try {
            Args parsed = Args.parse(args, FLAGS);
            if (parsed.has("help")) {
                usage(out);
                return 0;
            }
            Spec spec = command(parsed.positionals());
            if (spec == null) {
                usage(err);
                return 1;
            }
            for (String flag : parsed.flagNames()) {
                if (!GLOBAL_FLAGS.contains(flag) && !spec.flags().contains(flag)) {
                    throw new CliException("unknown long flag '--" + flag + "'");
                }
            }
            List<String> words = parsed.positionals().subList(2, parsed.positionals().size());
            if (words.size() < spec.required().size()) {
                throw new CliException(
                        "required argument '" + spec.required().get(words.size()) + "' not provided");
            }
            if (words.size() > spec.required().size() + spec.optional().size()) {
                throw new CliException(
                        "unexpected " + words.get(spec.required().size() + spec.optional().size()));
            }
            Duration timeout = Formats.parseDuration(parsed.get("timeout", "5s"));
            Prompt prompt = new Prompt(in, out, terminal);
            CountDownLatch closed = new CountDownLatch(1);
            try (Connection nc = connect(parsed, timeout, closed)) {
                if (spec.path().equals("account info")) {
                    new AccountCommands(nc, timeout, out).info();
                } else {
                    new KvCommands(nc, timeout, parsed, words, out, prompt, closed).run(spec.path().substring(3));
                }
            }
            return 0;
        } catch (InterruptedException e) {
            // Ctrl-C ends a watch; in-process, an interrupt does
            Thread.currentThread().interrupt();
            return 0;
        } catch (Exception e) {
            err.println("nats: error: " + describe(e));
            return 1;
        }
    }

    /** The command named by the first two words, after aliases; null when there is none. */
    private static Spec command(List<String> positionals) {
        if (positionals.isEmpty()) {
            return null;
        }
        if (positionals.size() < 2) {
            throw new CliException("expected command but got nothing, try --help");
        }
        String path = positionals.get(0) + " " + positionals.get(1);
        path = ALIASES.getOrDefault(path, path);
        for (Spec s : SPECS) {
            if (s.path().equals(path)) {
                return s;
            }
        }
        throw new CliException("expected command but got " + Formats.quote(positionals.get(1)) + ", try --help");
    }

    private static void usage(PrintStream out) {
        out.println("usage: jetkv kv|account <command> [<flags>] [<args> ...]");
        out.println();
        out.println("Interacts with a JetStream based Key-Value store, like the nats CLI.");
        out.println();
        out.println("Global flags: -s, --server=URL (default $NATS_URL or " + DEFAULT_URL + "), --user=USER,");
        out.println("  --password=PASSWORD, --timeout=DURATION (default 5s)");
        out.println();
        out.println("Commands:");
        for (Spec s : SPECS) {
            out.println("  " + s.usage());
        }
    }

    /** Connects without reconnecting: a CLI command fails rather than waits; {@code closed} opens on loss. */
    private static Connection connect(Args args, Duration timeout, CountDownLatch closed)
            throws InterruptedException {
        String url = args.get("server", firstNonEmpty(System.getenv("NATS_URL"), DEFAULT_URL));
        Options.Builder b = Options.builder()
                .connectionName("JetKV CLI")
                .connectionTimeout(timeout)
                .noReconnect()
                .connectionListener((conn, event) -> {
                    if (event == Events.CLOSED || event == Events.DISCONNECTED) {
                        closed.countDown();
                    }
                })
                .errorListener(new ErrorListener() {}); // jnats' default listener would log to the console
        for (String server : url.split(",")) {
            b.server(server.trim());
        }
        String user = args.get("user", System.getenv("NATS_USER"));
        String password = args.get("password", System.getenv("NATS_PASSWORD"));
        if (user != null && !user.isEmpty()) {
            b.userInfo(user, password == null ? "" : password);
        }
        try {
            return Nats.connect(b.build());
        } catch (IOException e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.contains("Authorization Violation")) {
                throw new CliException("nats: Authorization Violation");
            }
            throw new CliException("nats: no servers available for connection");
        }
    }

    private static String firstNonEmpty(String a, String b) {
        return a == null || a.isEmpty() ? b : a;
    }

    /** The text natscli would print after {@code nats: error: } for this failure. */
    static String describe(Throwable e) {
        if (e instanceof CliException) {
            return e.getMessage();
        }
        if (e instanceof JetStreamApiException api) {
            return switch (api.getApiErrorCode()) {
                case 10059 -> "nats: bucket not found";
                case 10039 -> "nats: jetstream not enabled for account";
                default -> "nats: " + api.getErrorDescription();
            };
        }
        if (e instanceof JetStreamStatusException st && st.getStatus() != null && st.getStatus().getCode() == 503) {
            return "nats: jetstream not enabled";
        }
        String msg = String.valueOf(e.getMessage());
        if (e instanceof IllegalArgumentException) {
            // jnats' validation, e.g. "Invalid key: 'a b'..." → nats.go's words
            String lower = msg.toLowerCase(Locale.ROOT);
            if (lower.contains("bucket")) {
                return "nats: invalid bucket name";
            }
            if (lower.contains("key")) {
                return "nats: invalid key";
            }
            return "nats: " + msg;
        }
        if (e instanceof TimeoutException || msg.contains("Timeout or no response")) {
            return "nats: timeout";
        }
        if (msg.contains("503") || msg.contains("No Responders")) {
            return "nats: jetstream not enabled";
        }
        return "nats: " + msg;
    }
}
