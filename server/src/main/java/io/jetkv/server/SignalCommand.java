package io.jetkv.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code jetkv --signal <command>[=<pid or pid file>]}, nats-server's {@code -sl}: sends a running server the
 * signal for a command (reload SIGHUP, ldm SIGUSR2, reopen SIGUSR1, quit SIGINT, term SIGTERM, stop SIGKILL).
 * Without a pid it looks for the one JetKV server running. Runs on the main thread of a short-lived process.
 */
final class SignalCommand {
    private static final Map<String, String> SIGNALS = Map.of(
            "reload", "HUP", "ldm", "USR2", "reopen", "USR1", "quit", "INT", "term", "TERM", "stop", "KILL");

    private SignalCommand() {}

    /** Sends the signal; returns an error message for stderr, or null on success. */
    static String run(String value) {
        int eq = value.indexOf('=');
        String command = eq < 0 ? value : value.substring(0, eq);
        String target = eq < 0 ? null : value.substring(eq + 1);
        String signal = SIGNALS.get(command);
        if (signal == null) {
            return "unknown signal \"" + command + "\"";
        }
        long pid;
        try {
            pid = target == null || target.isBlank() ? findServer() : resolvePid(target.strip());
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        if (ProcessHandle.of(pid).isEmpty()) {
            return "no such process";
        }
        try {
            Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(pid))
                    .redirectErrorStream(true).start();
            String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (kill.waitFor() != 0) {
                return out.isEmpty() ? "no such process" : out;
            }
        } catch (IOException e) {
            return "cannot run kill: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        return null;
    }

    /** A pid, or a pid file holding one (nats-server takes either after the {@code =}). */
    private static long resolvePid(String target) {
        if (target.chars().allMatch(Character::isDigit)) {
            return Long.parseLong(target);
        }
        String text;
        try {
            text = Files.readString(Path.of(target), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new IllegalStateException("could not read pid file " + target + ": " + e.getMessage());
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("invalid pid " + text + " in " + target);
        }
    }

    /** The one JetKV server process on this machine other than this one. */
    private static long findServer() {
        long self = ProcessHandle.current().pid();
        List<Long> found = ProcessHandle.allProcesses()
                .filter(p -> p.pid() != self)
                .filter(p -> p.info().commandLine().map(SignalCommand::isServer).orElse(false))
                .map(ProcessHandle::pid)
                .toList();
        if (found.isEmpty()) {
            throw new IllegalStateException("no jetkv-server processes running");
        }
        if (found.size() > 1) {
            StringBuilder sb = new StringBuilder("multiple jetkv-server processes running:");
            found.forEach(p -> sb.append('\n').append(p));
            throw new IllegalStateException(sb.toString());
        }
        return found.get(0);
    }

    private static boolean isServer(String commandLine) {
        return commandLine.contains("jetkv.jar") && !commandLine.contains("--signal")
                && !commandLine.contains(" -sl") && !commandLine.contains("io.jetkv.server.cli.Cli");
    }
}
