package io.jetkv.server.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The CLI's standard input: a value to store when it is not a terminal, yes/no answers when it is. Used on
 * the CLI's thread.
 */
final class Prompt {
    private final InputStream in;
    private final PrintStream out;
    private final boolean terminal;

    Prompt(InputStream in, PrintStream out, boolean terminal) {
        this.in = in;
        this.out = out;
        this.terminal = terminal;
    }

    boolean terminal() {
        return terminal;
    }

    /**
     * Asks {@code question} with the answer defaulting to no, as natscli's confirmations do. Without a
     * terminal there is nobody to ask, so this fails rather than guess.
     */
    boolean confirm(String question) {
        if (!terminal) {
            throw new CliException("cannot ask for confirmation without a terminal");
        }
        out.print("? " + question + " (y/N) ");
        out.flush();
        try {
            String line = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
            String answer = line == null ? "" : line.trim().toLowerCase(Locale.ROOT);
            return answer.equals("y") || answer.equals("yes");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** All of standard input, for a value not given on the command line. */
    byte[] readAll() {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Whether the process's standard input is a terminal. {@code System.console()} also needs standard output
     * to be one, so the descriptor's target is checked as well.
     */
    static boolean stdinIsTerminal() {
        if (System.console() != null) {
            return true;
        }
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }
}
