package io.jetkv.server.log;

import java.io.PrintStream;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The log sink, writing lines shaped like nats-server's: {@code [pid] 2006/01/02 15:04:05.000000 [INF] text}.
 * Levels: INF, WRN, ERR always; DBG with {@code -D}; TRC with {@code -V}.
 *
 * <p>Threading: any thread; each line is one {@code println} on a synchronized stream.
 */
public final class NatsLog {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss.SSSSSS");
    private static final String PID = "[" + ProcessHandle.current().pid() + "] ";

    private static volatile boolean debug;
    private static volatile boolean trace;
    private static volatile PrintStream out = System.err;

    private NatsLog() {}

    /** Applies {@code -D}/{@code -V} and {@code -l}; a null stream keeps stderr. */
    public static void configure(boolean debugOn, boolean traceOn, PrintStream stream) {
        debug = debugOn;
        trace = traceOn;
        if (stream != null) {
            out = stream;
        }
    }

    static boolean debugEnabled() {
        return debug;
    }

    static boolean traceEnabled() {
        return trace;
    }

    static void write(String level, String text, Throwable t) {
        StringBuilder sb = new StringBuilder(48 + text.length())
                .append(PID)
                .append(TIME.format(LocalDateTime.now()))
                .append(" [")
                .append(level)
                .append("] ")
                .append(text);
        PrintStream s = out;
        s.println(sb);
        if (t != null) {
            t.printStackTrace(s);
        }
    }
}
