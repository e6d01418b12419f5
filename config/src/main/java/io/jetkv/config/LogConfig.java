package io.jetkv.config;

import java.nio.file.Path;

/**
 * Logging flags: {@code -D} debug, {@code -V} protocol trace, {@code -l} log file (null for stderr).
 */
public record LogConfig(boolean debug, boolean trace, Path file) {
    public static final LogConfig DEFAULT = new LogConfig(false, false, null);
}
