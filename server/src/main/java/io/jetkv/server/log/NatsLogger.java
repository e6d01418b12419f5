package io.jetkv.server.log;

import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** An SLF4J logger writing through {@link NatsLog}. Safe from any thread. */
final class NatsLogger extends LegacyAbstractLogger {
    /** Apache Ratis logs every setting and state change at INFO: shown only with debug logging (-D). */
    private final boolean chatty;
    /** {@code -Djetkv.log.ratis=true}: Ratis's INFO without the rest of debug logging (diagnosing a cluster). */
    private static final boolean RATIS_INFO = Boolean.getBoolean("jetkv.log.ratis");

    NatsLogger(String name) {
        this.name = name;
        this.chatty = name.startsWith("org.apache.ratis");
    }

    @Override
    public boolean isTraceEnabled() {
        return NatsLog.traceEnabled();
    }

    @Override
    public boolean isDebugEnabled() {
        return NatsLog.debugEnabled();
    }

    @Override
    public boolean isInfoEnabled() {
        return !chatty || RATIS_INFO || NatsLog.debugEnabled();
    }

    @Override
    public boolean isWarnEnabled() {
        return true;
    }

    @Override
    public boolean isErrorEnabled() {
        return true;
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
            Level level, Marker marker, String pattern, Object[] args, Throwable t) {
        String tag = switch (level) {
            case TRACE -> "TRC";
            case DEBUG -> "DBG";
            case INFO -> "INF";
            case WARN -> "WRN";
            case ERROR -> "ERR";
        };
        NatsLog.write(tag, MessageFormatter.basicArrayFormat(pattern, args), t);
    }
}
