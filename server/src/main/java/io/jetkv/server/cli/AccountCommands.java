package io.jetkv.server.cli;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamOptions;
import io.nats.client.Message;
import io.nats.client.api.AccountLimits;
import io.nats.client.api.AccountStatistics;
import io.nats.client.api.AccountTier;
import io.nats.client.api.ServerInfo;
import io.nats.client.support.JsonParser;
import io.nats.client.support.JsonValue;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code account info}: the connection, then the JetStream account usage and limits, laid out as natscli's
 * {@code account_command.go} prints them. Runs on the CLI's thread.
 */
final class AccountCommands {
    private final Connection nc;
    private final Duration timeout;
    private final PrintStream out;

    AccountCommands(Connection nc, Duration timeout, PrintStream out) {
        this.nc = nc;
        this.timeout = timeout;
        this.out = out;
    }

    void info() throws IOException, InterruptedException {
        ServerInfo si = nc.getServerInfo();
        Duration rtt = nc.RTT();
        UserInfo user = userInfo(si);

        out.println("Connection Information:");
        out.println();
        if (user != null) {
            row("User", user.user());
            row("Account", user.account());
            row("Expires", user.expires() == 0 ? "never" : Formats.humanDuration(Duration.ofNanos(user.expires())));
        }
        row("Client ID", si.getClientId());
        row("Client IP", si.getClientIp() == null ? "" : si.getClientIp());
        row("RTT", Formats.goDuration(rtt));
        row("Headers Supported", si.isHeadersSupported());
        row("Maximum Payload", Formats.bytes(si.getMaxPayload()));
        if (si.getCluster() != null && !si.getCluster().isEmpty()) {
            row("Connected Cluster", si.getCluster());
        }
        String url = nc.getConnectedUrl();
        row("Connected URL", url);
        row("Connected Address", address(url));
        row("Connected Server ID", si.getServerId());
        row("Connected Server Version", si.getVersion());
        if (si.getServerName() != null && !si.getServerId().equals(si.getServerName())) {
            row("Connected Server Name", si.getServerName());
        }
        row("TLS Connection", "no");
        out.println();

        out.println("JetStream Account Information:");
        out.println();
        try {
            AccountStatistics stats = nc.jetStreamManagement(
                            JetStreamOptions.builder().requestTimeout(timeout).build())
                    .getAccountStatistics();
            usage(stats, si.getMaxPayload());
        } catch (JetStreamApiException e) {
            out.print("   Could not obtain account information: " + e.getErrorDescription());
        } catch (IOException | RuntimeException e) {
            // jnats reports a missing $JS.API responder (503) or an unanswered request this way
            String why = Cli.describe(e);
            if (why.equals("nats: jetstream not enabled")) {
                out.print("   JetStream is not supported in this account");
            } else if (why.equals("nats: timeout")) {
                out.print("   No response from JetStream server");
            } else {
                out.print("   Could not obtain account information: " + why);
            }
        }
        out.println();
    }

    private void usage(AccountStatistics stats, long maxPayload) {
        String domain = stats.getDomain();
        out.println("Account Usage:");
        out.println();
        if (domain != null && !domain.isEmpty()) {
            out.printf("     Domain: %s%n", domain);
        }
        out.printf("    Storage: %s%n", Formats.bytes(stats.getStorage()));
        out.printf("     Memory: %s%n", Formats.bytes(stats.getMemory()));
        out.printf("    Streams: %s%n", Formats.comma(stats.getStreams()));
        out.printf("  Consumers: %s%n", Formats.comma(stats.getConsumers()));
        out.println();
        out.println("Account Limits:");
        out.println();
        out.printf("   Max Message Payload: %s%n", Formats.bytes(maxPayload));
        out.println();
        Map<String, AccountTier> tiers = stats.getTiers();
        if (tiers != null && !tiers.isEmpty()) {
            for (Map.Entry<String, AccountTier> t : new TreeMap<>(tiers).entrySet()) {
                AccountTier tier = t.getValue();
                tier(t.getKey(), tier.getLimits(), tier.getMemoryBytes(), tier.getStorageBytes(), tier.getStreams(),
                        tier.getConsumers());
            }
        } else {
            tier("Default", stats.getLimits(), stats.getMemory(), stats.getStorage(), stats.getStreams(),
                    stats.getConsumers());
        }
    }

    private void tier(String name, AccountLimits limits, long memory, long storage, long streams, long consumers) {
        out.printf("   Tier: %s%n%n", name);
        out.printf("      Configuration Requirements:%n%n");
        out.printf("         Stream Requires Max Bytes Set: %s%n", limits.isMaxBytesRequired());
        out.printf("          Consumer Maximum Ack Pending: %s%n",
                limits.getMaxAckPending() <= 0 ? "Unlimited" : Formats.comma(limits.getMaxAckPending()));
        out.println();
        out.printf("      Stream Resource Usage Limits:%n%n");
        out.printf("                    Memory: %s of %s%n", Formats.bytes(memory), bytesLimit(limits.getMaxMemory()));
        out.printf("         Memory Per Stream: %s%n", perStream(limits.getMemoryMaxStreamBytes()));
        out.printf("                   Storage: %s of %s%n", Formats.bytes(storage), bytesLimit(limits.getMaxStorage()));
        out.printf("        Storage Per Stream: %s%n", perStream(limits.getStorageMaxStreamBytes()));
        out.printf("                   Streams: %s of %s%n", Formats.comma(streams), countLimit(limits.getMaxStreams()));
        out.printf("                 Consumers: %s of %s%n", Formats.comma(consumers),
                countLimit(limits.getMaxConsumers()));
        out.println();
    }

    private static String bytesLimit(long limit) {
        return limit == -1 ? "Unlimited" : Formats.bytes(limit);
    }

    private static String perStream(long limit) {
        return limit <= 0 ? "Unlimited" : Formats.bytes(limit);
    }

    private static String countLimit(long limit) {
        return limit == -1 ? "Unlimited" : Formats.comma(limit);
    }

    /** natscli's label column: right-aligned to 26 characters. */
    private void row(String label, Object value) {
        out.printf("%26s: %s%n", label, value);
    }

    private static String address(String url) {
        try {
            URI uri = URI.create(url);
            return uri.getHost() + ":" + uri.getPort();
        } catch (RuntimeException e) {
            return url;
        }
    }

    private record UserInfo(String user, String account, long expires) {}

    /**
     * The user and account the server knows this connection as ({@code $SYS.REQ.USER.INFO}, nats-server 2.10+);
     * null when the server is older or does not answer.
     */
    private UserInfo userInfo(ServerInfo si) throws InterruptedException {
        if (si.getVersion() == null || !si.isSameOrNewerThanVersion("2.10.0")) {
            return null;
        }
        try {
            Message reply = nc.request("$SYS.REQ.USER.INFO", null, Duration.ofSeconds(1));
            if (reply == null || reply.getData() == null) {
                return null;
            }
            JsonValue json = JsonParser.parse(reply.getData());
            JsonValue data = json.map == null ? null : json.map.get("data");
            if (data == null || data.map == null || json.map.containsKey("error")) {
                return null;
            }
            JsonValue user = data.map.get("user");
            JsonValue account = data.map.get("account");
            JsonValue expires = data.map.get("expires");
            return new UserInfo(
                    user == null ? "" : user.string,
                    account == null ? "" : account.string,
                    expires == null || expires.number == null ? 0 : expires.number.longValue());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
