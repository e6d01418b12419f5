package io.jetkv.config;

import java.util.List;
import java.util.Objects;

/**
 * What the command line asks for, as worked out by {@link Flags#parse(String...)}: run a server with
 * {@link #config()}, or print {@link #text()} (usage or version) and exit 0. Built on the main thread.
 *
 * @param action   what to do
 * @param config   the resolved configuration; {@link ServerConfig#defaults()} for HELP and VERSION
 * @param text     what to print to stdout for HELP and VERSION, as is (it ends with a new line); for SIGNAL the
 *                 {@code --signal} value ({@code reload}, {@code ldm=/var/run/nats.pid}, ...); empty for RUN
 * @param warnings config file fields accepted but ignored, each {@code file:line: ...}, for the server to log
 */
public record Launch(Action action, ServerConfig config, String text, List<String> warnings) {

    /** The three things the {@code jetkv} command can do. */
    public enum Action {
        RUN,
        HELP,
        VERSION,
        /** {@code --signal}: signal a running server and exit. */
        SIGNAL
    }

    public Launch {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(text, "text");
        warnings = List.copyOf(warnings);
    }

    static Launch run(ServerConfig config, List<String> warnings) {
        return new Launch(Action.RUN, config, "", warnings);
    }

    static Launch signal(String command) {
        return new Launch(Action.SIGNAL, ServerConfig.defaults(), command, List.of());
    }

    static Launch print(Action action, String text) {
        return new Launch(action, ServerConfig.defaults(), text, List.of());
    }
}
