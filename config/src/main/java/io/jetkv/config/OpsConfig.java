package io.jetkv.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the server runs as a process: where it tells its pid and ports, and how it leaves in lame duck mode.
 * nats-server's {@code pid_file}, {@code ports_file_dir}, {@code lame_duck_duration} and
 * {@code lame_duck_grace_period}. Immutable.
 *
 * @param pidFile             file the pid is written to at start ({@code -P}), or null
 * @param portsFileDir        directory of the {@code <exe>_<pid>.ports} file, or null
 * @param lameDuckDuration    over how long lame duck mode closes the clients (config files: at least 30 s)
 * @param lameDuckGracePeriod how long lame duck mode waits before it starts closing clients
 * @param systemAccount       the account whose users may send {@code $SYS.REQ} requests ({@code system_account},
 *                            default {@code $SYS}); null with {@code no_system_account}
 */
public record OpsConfig(Path pidFile, Path portsFileDir, Duration lameDuckDuration, Duration lameDuckGracePeriod,
        String systemAccount) {

    public static final Duration DEFAULT_LAME_DUCK_DURATION = Duration.ofMinutes(2);
    public static final Duration DEFAULT_LAME_DUCK_GRACE_PERIOD = Duration.ofSeconds(10);
    /** nats-server refuses a shorter {@code lame_duck_duration} in a config file. */
    public static final Duration MIN_LAME_DUCK_DURATION = Duration.ofSeconds(30);

    public static final OpsConfig DEFAULT =
            new OpsConfig(null, null, DEFAULT_LAME_DUCK_DURATION, DEFAULT_LAME_DUCK_GRACE_PERIOD, "$SYS");

    public OpsConfig {
        Objects.requireNonNull(lameDuckDuration, "lameDuckDuration");
        Objects.requireNonNull(lameDuckGracePeriod, "lameDuckGracePeriod");
        if (lameDuckDuration.isNegative() || lameDuckDuration.isZero()) {
            throw new IllegalArgumentException("lame_duck_duration must be positive");
        }
        if (lameDuckGracePeriod.isNegative()) {
            throw new IllegalArgumentException("lame_duck_grace_period must not be negative");
        }
    }

    public OpsConfig withPidFile(Path v) {
        return new OpsConfig(v, portsFileDir, lameDuckDuration, lameDuckGracePeriod, systemAccount);
    }

    public OpsConfig withPortsFileDir(Path v) {
        return new OpsConfig(pidFile, v, lameDuckDuration, lameDuckGracePeriod, systemAccount);
    }

    /** Embedding and tests: the config file's 30 s minimum does not apply here. */
    public OpsConfig withLameDuck(Duration duration, Duration gracePeriod) {
        return new OpsConfig(pidFile, portsFileDir, duration, gracePeriod, systemAccount);
    }

    public OpsConfig withSystemAccount(String v) {
        return new OpsConfig(pidFile, portsFileDir, lameDuckDuration, lameDuckGracePeriod, v);
    }
}
