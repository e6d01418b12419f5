package io.jetkv.config;

import java.util.List;
import java.util.Objects;

/**
 * One account of an {@code accounts { NAME: { ... } }} block: a subject space of its own, shared by its users,
 * with optionally its own JetStream and subjects it exports to or imports from other accounts. Users outside every
 * account belong to the global account {@code $G}.
 *
 * @param name      the account name
 * @param users     its password (or passwordless) users
 * @param nkeys     its nkey users
 * @param jetstream its JetStream limits, or null when the account has no JetStream
 * @param exports   subjects other accounts may import
 * @param imports   subjects taken from other accounts' exports
 */
public record AccountConfig(String name, List<User> users, List<NkeyUser> nkeys, JetStreamLimits jetstream,
        List<Export> exports, List<Import> imports) {
    /** The account of users configured outside {@code accounts}. */
    public static final String GLOBAL = "$G";

    public AccountConfig {
        Objects.requireNonNull(name, "name");
        users = List.copyOf(users);
        nkeys = List.copyOf(nkeys);
        exports = List.copyOf(exports);
        imports = List.copyOf(imports);
    }

    /** An account with users only: no JetStream, exports or imports. */
    public AccountConfig(String name, List<User> users, List<NkeyUser> nkeys) {
        this(name, users, nkeys, null, List.of(), List.of());
    }

    /**
     * An account's {@code jetstream} limits, as nats-server's {@code JetStreamAccountLimits}: -1 is no limit of
     * the account's own. {@code jetstream: enabled} is {@link #UNLIMITED}.
     */
    public record JetStreamLimits(long maxMemory, long maxStore, int maxStreams, int maxConsumers, int maxAckPending,
            long memoryMaxStreamBytes, long storeMaxStreamBytes, boolean maxBytesRequired) {
        public static final JetStreamLimits UNLIMITED = new JetStreamLimits(-1, -1, -1, -1, -1, -1, -1, false);
    }

    /**
     * An export: a stream (messages published in this account on {@code subject} reach importers) or a service
     * (importers' requests to {@code subject} reach this account's responders, and the replies travel back).
     *
     * @param service      true for a service, false for a stream
     * @param subject      the exported subject (wildcards allowed)
     * @param accounts     the accounts that may import it; empty: every account
     * @param responseType a service's {@code singleton} (one reply), {@code stream} or {@code chunked}
     */
    public record Export(boolean service, String subject, List<String> accounts, String responseType) {
        public Export {
            Objects.requireNonNull(subject, "subject");
            accounts = List.copyOf(accounts);
        }

        /** Whether {@code account} may import from it. */
        public boolean allows(String account) {
            return accounts.isEmpty() || accounts.contains(account);
        }
    }

    /**
     * An import from another account's export.
     *
     * @param service true for a service, false for a stream
     * @param account the exporting account
     * @param subject the subject in the exporting account
     * @param to      the subject in this account: a stream's {@code prefix} (with its dot) already applied or its
     *                {@code to}; a service's {@code to}; null when the same as {@code subject}
     * @param where   {@code file:line} of the import, for errors found when the accounts are put together
     */
    public record Import(boolean service, String account, String subject, String to, String where, boolean share) {
        public Import {
            Objects.requireNonNull(account, "account");
            Objects.requireNonNull(subject, "subject");
        }

        /** Without {@code share}: the exporter learns the requester's account and round trip only. */
        public Import(boolean service, String account, String subject, String to, String where) {
            this(service, account, subject, to, where, false);
        }

        /** The subject this account uses. */
        public String localSubject() {
            return to == null ? subject : to;
        }
    }
}
