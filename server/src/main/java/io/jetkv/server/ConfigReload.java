package io.jetkv.server;

import io.jetkv.config.ServerConfig;
import io.jetkv.config.TlsConfig;
import io.jetkv.config.Units;
import io.jetkv.server.log.NatsLog;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a config reload may change and how it is reported, after nats-server's {@code reload.go}: the settings it
 * reloads (authorization, limits, keep-alive, logging, pid and ports files, the client port's, WebSocket's and
 * routes' TLS certificates, {@code server_tags}) each give a {@code Reloaded: ...} line;
 * any other changed setting refuses the whole reload with {@code config reload not supported for <Field>: old=...,
 * new=...}, naming the field as nats-server's options do. Called by {@link NatsServer#reload} under its reload lock.
 */
public final class ConfigReload {

    /** A reload that changes a setting only a restart can change; the message is nats-server's. */
    public static final class NotReloadable extends Exception {
        NotReloadable(String field, Object old, Object now) {
            super("config reload not supported for " + field + ": old=" + old + ", new=" + now);
        }
    }

    private ConfigReload() {}

    /** Each account's JetStream, exports and imports (its users left out), by name. */
    private static java.util.Map<String, List<Object>> accountWiring(ServerConfig c) {
        java.util.Map<String, List<Object>> out = new java.util.TreeMap<>();
        for (io.jetkv.config.AccountConfig a : c.auth().accounts()) {
            List<Object> imports = new ArrayList<>();
            for (io.jetkv.config.AccountConfig.Import i : a.imports()) {
                imports.add(java.util.Arrays.asList(i.service(), i.account(), i.subject(), i.to())); // not its line
            }
            if (a.jetstream() != null || !a.exports().isEmpty() || !imports.isEmpty()) {
                // an account with users only may come and go
                out.put(a.name(), java.util.Arrays.asList(a.jetstream(), a.exports(), imports));
            }
        }
        return out;
    }

    /** As {@link #changes(ServerConfig, ServerConfig, boolean, boolean)} with no certificate file rewritten. */
    static List<String> changes(ServerConfig old, ServerConfig now) throws NotReloadable {
        return changes(old, now, false, false);
    }

    /**
     * The {@code Reloaded: } lines of a reload from {@code old} to {@code now}, in nats-server's words.
     *
     * @param clientTlsFilesChanged the bytes of the client port's certificate, key or CA files differ from those
     *                              loaded before (a renewal rewrites them in place, under the same names)
     * @param routeTlsFilesChanged  the same for {@code cluster { tls { } }}
     */
    static List<String> changes(ServerConfig old, ServerConfig now, boolean clientTlsFilesChanged,
            boolean routeTlsFilesChanged) throws NotReloadable {
        refuse("Host", old.host(), now.host());
        refuse("Port", old.port(), now.port());
        refuse("ServerName", old.serverName(), now.serverName());
        refuse("MaxPending", old.maxPending(), now.maxPending());
        refuse("HTTPPort", old.httpPort(), now.httpPort());
        refuse("HTTPHost", old.httpHost(), now.httpHost());
        refuse("HTTPBasePath", old.httpBasePath(), now.httpBasePath());
        refuse("JetStream", old.jetstream(), now.jetstream());
        // cluster and websocket blocks reload only their certificates (nats-server leaves TLS out of the
        // comparison); TLS turned on or off on a listener needs a restart
        refuse("Cluster", old.cluster().withTls(TlsConfig.NONE), now.cluster().withTls(TlsConfig.NONE));
        if (old.cluster().tls().enabled() != now.cluster().tls().enabled()) {
            throw new NotReloadable("Cluster", old.cluster(), now.cluster());
        }
        refuse("Websocket", old.websocket().withTls(TlsConfig.NONE), now.websocket().withTls(TlsConfig.NONE));
        if (old.websocket().secure() != now.websocket().secure()
                || old.websocket().tls().verifyAndMap() != now.websocket().tls().verifyAndMap()
                || !old.websocket().tls().pinnedCerts().equals(now.websocket().tls().pinnedCerts())) {
            // nats-server keeps the websocket's TLSMap and pinned certificates beside its TLS config, not in it
            throw new NotReloadable("Websocket", old.websocket(), now.websocket());
        }
        // the client port's tls {}: certificates, CAs, verify, ciphers reload; these three do not
        refuse("TLSMap", old.tls().verifyAndMap(), now.tls().verifyAndMap());
        refuse("TLSHandshakeFirst", old.tls().handshakeFirst(), now.tls().handshakeFirst());
        refuse("AllowNonTLS", old.tls().allowNonTls(), now.tls().allowNonTls());
        refuse("LameDuckDuration", old.ops().lameDuckDuration(), now.ops().lameDuckDuration());
        refuse("LameDuckGracePeriod", old.ops().lameDuckGracePeriod(), now.ops().lameDuckGracePeriod());
        refuse("SystemAccount", old.ops().systemAccount(), now.ops().systemAccount());
        refuse("MaxClosedClients", old.monitor().maxClosedClients(), now.monitor().maxClosedClients());
        refuse("Console", old.monitor().consoleWrites(), now.monitor().consoleWrites());
        // JetKV wires JetStream and imports into the accounts at start: their users reload, the rest does not yet
        refuse("Accounts", accountWiring(old), accountWiring(now));

        List<String> out = new ArrayList<>();
        if (!Objects.equals(old.auth().token(), now.auth().token())) {
            out.add("authorization token");
        }
        if (!old.auth().users().equals(now.auth().users())) {
            out.add("authorization users");
        }
        if (!old.auth().defaultPermissions().equals(now.auth().defaultPermissions())) {
            out.add("authorization");
        }
        if (!old.auth().timeout().equals(now.auth().timeout())) {
            out.add("auth_timeout = " + seconds(now.auth().timeout()));
        }
        if (old.maxConnections() != now.maxConnections()) {
            out.add("max_connections = " + now.maxConnections());
        }
        if (old.maxPayload() != now.maxPayload()) {
            out.add("max_payload = " + now.maxPayload());
        }
        if (old.maxControlLine() != now.maxControlLine()) {
            out.add("max_control_line = " + now.maxControlLine());
        }
        if (!old.pingInterval().equals(now.pingInterval())) {
            out.add("ping_interval = " + Units.formatDuration(now.pingInterval()));
        }
        if (old.pingMax() != now.pingMax()) {
            out.add("ping_max = " + now.pingMax());
        }
        if (!old.writeDeadline().equals(now.writeDeadline())) {
            out.add("write_deadline = " + Units.formatDuration(now.writeDeadline()));
        }
        if (old.log().debug() != now.log().debug()) {
            out.add("debug = " + now.log().debug());
        }
        if (old.log().trace() != now.log().trace()) {
            out.add("trace = " + now.log().trace());
        }
        if (!Objects.equals(old.log().file(), now.log().file())) {
            out.add("log_file = " + (now.log().file() == null ? "" : now.log().file()));
        }
        if (!Objects.equals(old.ops().pidFile(), now.ops().pidFile())) {
            out.add("pid_file = " + (now.ops().pidFile() == null ? "" : now.ops().pidFile()));
        }
        if (!Objects.equals(old.ops().portsFileDir(), now.ops().portsFileDir())) {
            out.add("ports_file_dir = " + (now.ops().portsFileDir() == null ? "" : now.ops().portsFileDir()));
        }
        if (!old.tls().timeout().equals(now.tls().timeout())) {
            out.add("tls timeout = " + seconds(now.tls().timeout()));
        }
        if (!old.tls().pinnedCerts().equals(now.tls().pinnedCerts())) {
            out.add(now.tls().pinnedCerts().size() + " pinned_certs");
        }
        // what Go keeps in the tls.Config itself: files and their contents, CA, verify, versions, ciphers
        TlsConfig oldRest = old.tls().withTimeoutAndPins(now.tls().timeout(), now.tls().pinnedCerts());
        if (clientTlsFilesChanged || !oldRest.equals(now.tls())) {
            out.add("tls = " + (now.tls().enabled() ? "enabled" : "disabled"));
        }
        if (routeTlsFilesChanged || !old.cluster().tls().equals(now.cluster().tls())) {
            out.add("cluster");
        }
        if (!old.serverTags().equals(now.serverTags())) {
            // /varz, the $SYS replies and stream placement (the route INFO tells the other servers) follow at once
            out.add("tags");
        }
        return out;
    }

    /** Debug, trace and the log file take effect at once; a log file that cannot be opened keeps the old one. */
    static void applyLog(ServerConfig old, ServerConfig now) {
        if (old.log().equals(now.log())) {
            return;
        }
        PrintStream stream = null;
        if (!Objects.equals(old.log().file(), now.log().file())) {
            if (now.log().file() == null) {
                stream = System.err;
            } else {
                try {
                    stream = new PrintStream(new FileOutputStream(now.log().file().toFile(), true), true);
                } catch (IOException e) {
                    org.slf4j.LoggerFactory.getLogger(ConfigReload.class)
                            .error("cannot open log file {}: {}", now.log().file(), e.getMessage());
                }
            }
        }
        NatsLog.configure(now.log().debug(), now.log().trace(), stream);
    }

    private static void refuse(String field, Object old, Object now) throws NotReloadable {
        if (!Objects.equals(old, now)) {
            throw new NotReloadable(field, old, now);
        }
    }

    private static String seconds(java.time.Duration d) {
        double s = d.toNanos() / 1e9;
        return s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s);
    }
}
