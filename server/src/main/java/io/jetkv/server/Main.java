package io.jetkv.server;

import io.jetkv.config.ConfigException;
import io.jetkv.config.Flags;
import io.jetkv.config.Launch;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.log.NatsLog;
import io.jetkv.server.log.NatsLogProvider;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code jetkv} command: parses nats-server's flags and config file, starts the server, and stops it
 * on SIGINT/SIGTERM.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        // Netty 4.2's buffer allocator registers JFR events on its first allocation, which loads the JFR
        // machinery on the event loop that sends the first client its INFO (about 0.15 s on two cores);
        // JetKV emits no JFR events of its own. -Dio.netty.jfr.enabled=true turns them back on.
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            System.setProperty("io.netty.jfr.enabled", "false");
        }
        Launch launch;
        try {
            launch = Flags.parse(args);
        } catch (ConfigException e) {
            System.err.println("jetkv: " + e.getMessage());
            System.exit(1);
            return;
        }
        // the client port first, before SLF4J, Netty and JetStream load (EarlyListener says why)
        EarlyListener early = launch.action() == Launch.Action.RUN
                ? EarlyListener.bind(launch.config().host(), launch.config().port())
                : null;
        // SLF4J's own search for a provider opens every jar on the class path; ours is known
        if (System.getProperty("slf4j.provider") == null) {
            System.setProperty("slf4j.provider", NatsLogProvider.class.getName());
            if (System.getProperty("slf4j.internal.verbosity") == null) {
                // otherwise SLF4J reports on stderr that it honoured the property
                System.setProperty("slf4j.internal.verbosity", "WARN");
            }
        }
        // SLF4J starts here, before the preload thread's Netty logs through it: a logger asked for while another
        // thread initialises SLF4J is a substitute that drops its lines (with flags parsed faster, the server's
        // first log lines were lost that way)
        org.slf4j.LoggerFactory.getILoggerFactory();
        preloadInBackground(args);
        switch (launch.action()) {
            case HELP, VERSION -> {
                System.out.print(launch.text());
                return;
            }
            case SIGNAL -> {
                String error = SignalCommand.run(launch.text());
                if (error != null) {
                    System.err.println("jetkv: " + error);
                    System.exit(1);
                }
                return;
            }
            case RUN -> run(launch, early, args);
        }
    }

    /**
     * nats-server's process signals: SIGHUP reloads the config file, SIGUSR2 enters lame duck mode (the process
     * exits once it is over), SIGUSR1 (reopen the log file) is accepted. SIGINT stops the server and exits 0;
     * SIGTERM exits 1, except in lame duck mode, where it is ignored (Kubernetes sends it right after the
     * {@code preStop} hook that started lame duck mode). Both stop through the shutdown hook. Each handler runs
     * on a thread the JVM starts for it.
     */
    private static void handleSignals(NatsServer server, String[] args) {
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Main.class);
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> reload(server, args));
            if (vmSuspendSignalMoved()) {
                sun.misc.Signal.handle(new sun.misc.Signal("USR2"),
                        s -> server.lameDuckMode().thenRun(() -> System.exit(0)));
            } else {
                log.warn("SIGUSR2 is this JVM's thread suspend signal (JFR samples threads with it), so it cannot "
                        + "start lame duck mode here: start JetKV through ./jetkv, which moves the JVM's signal "
                        + "with _JAVA_SR_SIGNUM");
            }
            sun.misc.Signal.handle(new sun.misc.Signal("USR1"), s -> log.info("Reopening log file"));
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> System.exit(0));
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), s -> {
                if (server.inLameDuckMode()) {
                    log.info("Ignoring SIGTERM in lame duck mode");
                } else {
                    System.exit(1);
                }
            });
        } catch (IllegalArgumentException e) {
            log.warn("cannot handle process signals: {}", e.getMessage());
        }
    }

    /**
     * Whether HotSpot suspends threads with a signal other than SIGUSR2 (its default; JFR's sampler and other
     * thread suspensions send it). Taking SIGUSR2 for lame duck mode is only safe then: otherwise every
     * execution sample of a profiler would start it. {@code ./jetkv} sets {@code _JAVA_SR_SIGNUM}, which HotSpot
     * honours for numbers above SIGSEGV and below NSIG.
     */
    static boolean vmSuspendSignalMoved() {
        String value = System.getenv("_JAVA_SR_SIGNUM");
        if (value == null) {
            return false;
        }
        try {
            int sig = Integer.parseInt(value.trim());
            return sig > 11 && sig < 65 && sig != 12;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** SIGHUP: the flags again over the config file read afresh; any failure keeps the running configuration. */
    private static void reload(NatsServer server, String[] args) {
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Main.class);
        try {
            if (Flags.configFile(args) == null) {
                throw new ConfigException("can only reload config when a file is provided using -c or --config");
            }
            server.reload(Flags.parse(args).config());
        } catch (ConfigException | ConfigReload.NotReloadable e) {
            log.error("Failed to reload server configuration: {}", e.getMessage());
        } catch (IllegalArgumentException e) {
            // a certificate, key or CA file that cannot be used, named in the message
            log.error("Failed to reload server configuration: {}", e.getMessage());
        } catch (RuntimeException e) {
            log.error("Failed to reload server configuration: {}", e.toString());
        }
    }

    /**
     * Start-up time matters (harnesses start a server per test): while this thread parses flags, another
     * loads Netty's native transport and, when JetStream may be enabled, RocksDB and Jackson.
     */
    private static void preloadInBackground(String[] args) {
        boolean maybeJetStream = false;
        for (String a : args) {
            String flag = a.replaceFirst("^-+", "");
            maybeJetStream |= flag.startsWith("js") || flag.startsWith("jetstream") || flag.equals("c")
                    || flag.startsWith("config");
        }
        boolean js = maybeJetStream;
        Thread t = new Thread(() -> {
            io.netty.channel.epoll.Epoll.isAvailable();
            if (js) {
                io.jetkv.jetstream.Preload.run();
            }
        }, "preload");
        t.setDaemon(true);
        t.start();
    }

    private static void run(Launch launch, EarlyListener early, String[] args) {
        ServerConfig config = launch.config();
        try {
            PrintStream logStream = config.log().file() == null
                    ? null
                    : new PrintStream(new FileOutputStream(config.log().file().toFile(), true), true);
            NatsLog.configure(config.log().debug(), config.log().trace(), logStream);
        } catch (IOException e) {
            System.err.println("jetkv: cannot open log file: " + e.getMessage());
            System.exit(1);
        }
        for (String warning : launch.warnings()) {
            org.slf4j.LoggerFactory.getLogger(Main.class).warn("{}", warning);
        }
        NatsServer server;
        try {
            server = NatsServer.start(config, early);
        } catch (Exception e) {
            System.err.println("jetkv: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "shutdown"));
        handleSignals(server, args);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
