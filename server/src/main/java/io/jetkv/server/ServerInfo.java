package io.jetkv.server;

import io.jetkv.config.ServerConfig;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The {@code INFO} line sent first on every connection. The shared part is built once; each connection
 * appends its {@code client_id} and {@code client_ip}. Compact JSON, {@code INFO {…} \r\n} with one space
 * after {@code INFO} (jnats checks the position) and one before the CRLF, as nats-server writes it.
 */
final class ServerInfo {
    /** The nats-server version whose client-visible behaviour we implement; clients branch on it. */
    static final String VERSION = io.jetkv.config.Version.NATS_VERSION;
    private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

    private ServerConfig config;
    private final String serverId;
    private boolean lameDuck;
    private volatile String prefix;
    /** A WebSocket client's line: its {@code connect_urls} are the cluster's WebSocket URLs, as nats-server's. */
    private volatile String wsPrefix;
    private volatile String suffix = "} \r\n";
    private int port;
    private String clusterName;
    private java.util.List<String> connectUrls = java.util.List.of();
    private java.util.List<String> wsConnectUrls = java.util.List.of();
    /** Counts the rebuilds of the INFO line, so a connection can tell whether the one it was sent is current. */
    private volatile int version;

    ServerInfo(ServerConfig config, String serverId) {
        this.config = config;
        this.serverId = serverId;
        setPort(config.port());
    }

    /** A 56-character upper-case base32 id starting with N, shaped like nats-server's. */
    static String newServerId() {
        // unique, not secret: SecureRandom's first use loads the security providers (tens of ms of start-up)
        ThreadLocalRandom r = ThreadLocalRandom.current();
        StringBuilder sb = new StringBuilder(56).append('N');
        for (int i = 1; i < 56; i++) {
            sb.append(BASE32[r.nextInt(32)]);
        }
        return sb.toString();
    }

    synchronized void setPort(int port) {
        this.port = port;
        rebuild();
    }

    /**
     * In a cluster: the cluster name and the client URLs to advertise ({@code connect_urls}, this server's own
     * first; empty with {@code no_advertise}). Later INFO lines carry them.
     */
    synchronized void setCluster(String name, java.util.List<String> urls, java.util.List<String> wsUrls) {
        this.clusterName = name;
        this.connectUrls = java.util.List.copyOf(urls);
        this.wsConnectUrls = java.util.List.copyOf(wsUrls);
        rebuild();
    }

    /** A config reload: later INFO lines carry the new {@code max_payload} and {@code auth_required}. */
    synchronized void setConfig(ServerConfig newConfig) {
        this.config = newConfig;
        rebuild();
    }

    /** Lame duck mode: later INFO lines end with {@code "ldm":true}. */
    synchronized void setLameDuck() {
        this.lameDuck = true;
        rebuild();
    }

    synchronized java.util.List<String> connectUrls() {
        return connectUrls;
    }

    synchronized java.util.List<String> wsConnectUrls() {
        return wsConnectUrls;
    }

    synchronized String clusterName() {
        return clusterName;
    }

    /** Changes whenever later INFO lines differ from earlier ones (read before building a line). */
    int version() {
        return version;
    }

    private void rebuild() {
        StringBuilder sb = new StringBuilder(320).append("INFO {");
        field(sb, "server_id", serverId).append(',');
        field(sb, "server_name", config.serverName() == null ? serverId : config.serverName()).append(',');
        field(sb, "version", VERSION).append(',');
        sb.append("\"proto\":1,");
        field(sb, "go", "java" + Runtime.version().feature()).append(',');
        field(sb, "host", config.host()).append(',');
        sb.append("\"port\":").append(port).append(',');
        sb.append("\"headers\":true,");
        if (config.auth().required() && config.auth().noAuthUser() == null) {
            // with no_auth_user a client needs no credentials, and INFO says so (nats-server)
            sb.append("\"auth_required\":true,");
        }
        if (config.tls().enabled()) {
            // allow_non_tls: TLS is offered, not required (the client's first byte decides)
            sb.append(config.tls().allowNonTls() ? "\"tls_available\":true," : "\"tls_required\":true,");
            if (config.tls().verify()) {
                sb.append("\"tls_verify\":true,");
            }
        }
        sb.append("\"max_payload\":").append(config.maxPayload());
        if (config.jetstream().enabled()) {
            sb.append(",\"jetstream\":true");
        }
        StringBuilder ws = null;
        if (clusterName != null) {
            sb.append(',');
            field(sb, "cluster", clusterName);
            ws = new StringBuilder(sb);
            urls(sb, connectUrls);
            // nats-server gives a WebSocket client the WebSocket URLs (its ws_connect_urls) as connect_urls
            urls(ws, wsConnectUrls);
        }
        String newPrefix = sb.toString();
        String newWsPrefix = ws == null ? newPrefix : ws.toString();
        String newSuffix = (lameDuck ? ",\"ldm\":true" : "") + apiLevelField(io.jetkv.jetstream.api.ApiLevel.SERVER)
                + "} \r\n";
        if (!newPrefix.equals(prefix) || !newWsPrefix.equals(wsPrefix) || !newSuffix.equals(suffix)) {
            prefix = newPrefix;
            wsPrefix = newWsPrefix;
            suffix = newSuffix;
            version++; // after the line, so a reader of the new version builds the new line
        }
    }

    /**
     * INFO's {@code api_lvl} (nats-server 2.12+): the JetStream API level, last in the line; omitted below level 2, as
     * 2.11 has no such field and nats-server omits a 0.
     */
    static String apiLevelField(int level) {
        return level >= 2 ? ",\"api_lvl\":" + level : "";
    }

    private static void urls(StringBuilder sb, java.util.List<String> urls) {
        if (!urls.isEmpty()) {
            sb.append(",\"connect_urls\":[");
            for (int i = 0; i < urls.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                field(sb, urls.get(i));
            }
            sb.append(']');
        }
    }

    /** @param nonce this connection's nonce for nkey users to sign, or null */
    byte[] line(long cid, String clientIp, String nonce) {
        return line(cid, clientIp, nonce, false);
    }

    /** @param websocket the client came in on the WebSocket listener */
    byte[] line(long cid, String clientIp, String nonce, boolean websocket) {
        String head = websocket ? wsPrefix : prefix;
        StringBuilder sb = new StringBuilder(head.length() + 96).append(head);
        sb.append(",\"client_id\":").append(cid).append(',');
        field(sb, "client_ip", clientIp);
        if (nonce != null) {
            sb.append(',');
            field(sb, "nonce", nonce);
        }
        sb.append(suffix);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static StringBuilder field(StringBuilder sb, String name, String value) {
        sb.append('"').append(name).append("\":");
        return field(sb, value);
    }

    /** {@code value} as a JSON string. */
    static StringBuilder field(StringBuilder sb, String value) {
        sb.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }
}
