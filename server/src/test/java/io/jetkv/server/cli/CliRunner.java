package io.jetkv.server.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs {@link Cli} in-process against one server URL and captures what it prints. */
final class CliRunner {
    record Result(int status, String out, String err) {
        List<String> lines() {
            return List.of(out.split("\n", -1));
        }
    }

    private final String url;

    CliRunner(String url) {
        this.url = url;
    }

    /** Runs with empty standard input that is not a terminal. */
    Result run(String... args) {
        return run("", false, args);
    }

    Result run(String stdin, boolean terminal, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Cli.run(
                withServer(args),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                terminal);
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    String[] withServer(String... args) {
        List<String> all = new ArrayList<>(List.of("-s", url));
        all.addAll(List.of(args));
        return all.toArray(String[]::new);
    }

    /** Output that hands over each complete line as it is printed, for commands that run until stopped. */
    static final class Lines extends OutputStream {
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final ByteArrayOutputStream current = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                lines.add(current.toString(StandardCharsets.UTF_8));
                current.reset();
            } else {
                current.write(b);
            }
        }

        /** The next line, or null when none arrives within {@code timeout}. */
        String next(Duration timeout) throws InterruptedException {
            return lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
