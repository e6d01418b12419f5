package io.jetkv.server.cli;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueManagement;
import io.nats.client.KeyValueOptions;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueStatus;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.NatsKeyValueWatchSubscription;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code kv} subcommands, each doing what natscli's {@code kv_command.go} does with nats.go, here with
 * jnats, and printing the same text. Runs on the CLI's thread, except {@code watch} output, which jnats
 * delivers on its dispatcher thread.
 */
final class KvCommands {
    private static final int MAX_HISTORY = 64; // nats.go refuses more: "history too large"

    private final Connection nc;
    private final KeyValueOptions options;
    private final Args args;
    private final List<String> words;
    private final PrintStream out;
    private final Prompt prompt;
    private final CountDownLatch closed;

    KvCommands(
            Connection nc,
            Duration timeout,
            Args args,
            List<String> words,
            PrintStream out,
            Prompt prompt,
            CountDownLatch closed) {
        this.nc = nc;
        this.options = KeyValueOptions.builder()
                .jetStreamOptions(JetStreamOptions.builder().requestTimeout(timeout).build())
                .build();
        this.args = args;
        this.words = words;
        this.out = out;
        this.prompt = prompt;
        this.closed = closed;
    }

    void run(String command) throws Exception {
        switch (command) {
            case "add" -> add();
            case "put" -> put();
            case "get" -> get();
            case "create" -> create();
            case "update" -> update();
            case "del" -> delete();
            case "purge" -> purge();
            case "history" -> history();
            case "info" -> showStatus(management().getStatus(bucket()));
            case "watch" -> watch();
            case "ls" -> ls();
            case "keys" -> listKeys(word(1, ">"), false, false);
            case "compact" -> compact();
            default -> throw new IllegalStateException(command);
        }
    }

    private String bucket() {
        return words.get(0);
    }

    private String key() {
        return words.get(1);
    }

    private String word(int i, String dflt) {
        return i < words.size() ? words.get(i) : dflt;
    }

    private KeyValueManagement management() throws IOException {
        return nc.keyValueManagement(options);
    }

    /**
     * Binds to the bucket as nats.go's {@code KeyValue()} does, so that a missing bucket reports "bucket not
     * found" before anything else happens.
     */
    private KeyValue bucketStore() throws IOException, JetStreamApiException {
        management().getStatus(bucket());
        return nc.keyValue(bucket(), options);
    }

    private void add() throws IOException, JetStreamApiException {
        long history = args.getLong("history", 1);
        if (history > MAX_HISTORY) {
            throw new CliException("nats: history too large");
        }
        String storage = args.get("storage", "file");
        if (!List.of("file", "f", "memory", "m").contains(storage)) {
            throw new CliException("enum value must be one of file,f,memory,m, got '" + storage + "'");
        }
        KeyValueConfiguration.Builder cfg = KeyValueConfiguration.builder()
                .name(bucket())
                .maxHistoryPerKey((int) Math.max(history, 1)) // nats.go treats 0 as the default, 1
                .replicas((int) args.getLong("replicas", 1))
                .storageType(storage.startsWith("m") ? StorageType.Memory : StorageType.File)
                .compression(args.has("compress"));
        if (args.has("description")) {
            cfg.description(args.get("description", ""));
        }
        if (args.has("ttl")) {
            cfg.ttl(Formats.parseDuration(args.get("ttl", "0")));
        }
        if (args.has("max-value-size")) {
            cfg.maxValueSize(Formats.parseBytes(args.get("max-value-size", "-1")));
        }
        if (args.has("max-bucket-size")) {
            cfg.maxBucketSize(Formats.parseBytes(args.get("max-bucket-size", "-1")));
        }
        showStatus(management().create(cfg.build()));
    }

    /** The value argument, or standard input when it is absent and not a terminal (natscli's rule). */
    private byte[] value(int index) {
        if (index < words.size()) {
            return words.get(index).getBytes(StandardCharsets.UTF_8);
        }
        return prompt.terminal() ? new byte[0] : prompt.readAll();
    }

    /** What put/create/update echo: the value given, without the line break a pipe usually adds. */
    private void echo(byte[] value) {
        String s = new String(value, StandardCharsets.UTF_8);
        out.println(s.endsWith("\n") ? s.substring(0, s.length() - 1) : s);
    }

    private void put() throws IOException, JetStreamApiException {
        KeyValue kv = bucketStore();
        byte[] value = value(2);
        kv.put(key(), value);
        echo(value);
    }

    private void create() throws IOException, JetStreamApiException {
        KeyValue kv = bucketStore();
        byte[] value = value(2);
        try {
            kv.create(key(), value);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == 10071) {
                throw new CliException("nats: " + e.getErrorDescription() + ": key exists");
            }
            throw e;
        }
        echo(value);
    }

    private void update() throws IOException, JetStreamApiException {
        KeyValue kv = bucketStore();
        long revision;
        try {
            revision = Long.parseUnsignedLong(words.get(3));
        } catch (NumberFormatException e) {
            throw new CliException("strconv.ParseUint: parsing " + Formats.quote(words.get(3)) + ": invalid syntax");
        }
        byte[] value = value(2);
        kv.update(key(), value, revision);
        echo(value);
    }

    private void get() throws IOException, JetStreamApiException {
        KeyValue kv = bucketStore();
        long revision = args.getLong("revision", 0);
        KeyValueEntry entry = revision > 0 ? kv.get(key(), revision) : kv.get(key());
        if (entry == null) {
            throw new CliException("nats: key not found");
        }
        byte[] value = entry.getValue() == null ? new byte[0] : entry.getValue();
        if (args.has("raw")) {
            out.write(value, 0, value.length);
            out.flush();
            return;
        }
        out.printf(
                "%s > %s revision: %d created @ %s%n",
                entry.getBucket(), entry.getKey(), entry.getRevision(), Formats.rfc822Utc(entry.getCreated()));
        out.println();
        String shown = Formats.printable(value);
        if (shown.length() > 120) {
            out.printf("Showing first 120 bytes of %s, use --raw for full data%n%n", Formats.comma(shown.length()));
            out.println(shown.substring(0, 120));
        } else {
            out.println(shown);
        }
        out.println();
    }

    private void delete() throws IOException, JetStreamApiException {
        if (words.size() < 2) {
            if (!args.has("force") && !prompt.confirm("Delete bucket " + bucket() + "?")) {
                out.println("Skipping delete");
                return;
            }
            management().delete(bucket());
            return;
        }
        KeyValue kv = bucketStore();
        if (!args.has("force") && !prompt.confirm("Delete key " + bucket() + " > " + key() + "?")) {
            out.println("Skipping delete");
            return;
        }
        kv.delete(key());
    }

    private void purge() throws IOException, JetStreamApiException {
        KeyValue kv = bucketStore();
        if (!args.has("force") && !prompt.confirm("Purge key " + bucket() + " > " + key() + "?")) {
            out.println("Skipping purge");
            return;
        }
        kv.purge(key());
    }

    private void compact() throws IOException, JetStreamApiException, InterruptedException {
        KeyValue kv = bucketStore();
        String question = "Purge all historic values and audit trails for deleted keys in bucket " + bucket() + "?";
        if (!args.has("force") && !prompt.confirm(question)) {
            out.println("Skipping delete");
            return;
        }
        kv.purgeDeletes();
    }

    private void history() throws IOException, JetStreamApiException, InterruptedException {
        KeyValue kv = bucketStore();
        List<KeyValueEntry> entries = kv.history(key());
        if (entries.isEmpty()) {
            throw new CliException("nats: key not found");
        }
        Table table = new Table(
                "History for " + bucket() + " > " + key(), "Key", "Revision", "Op", "Created", "Length", "Value");
        for (KeyValueEntry e : entries) {
            byte[] value = e.getValue() == null ? new byte[0] : e.getValue();
            table.row(
                    e.getKey(),
                    e.getRevision(),
                    op(e.getOperation()),
                    Formats.columnTime(e.getCreated()),
                    Formats.comma(value.length),
                    Formats.abbreviate(Formats.printable(value)));
        }
        table.print(out);
        out.println();
    }

    private static String op(KeyValueOperation op) {
        return switch (op) {
            case PUT -> "PUT";
            case DELETE -> "DEL";
            case PURGE -> "PURGE";
        };
    }

    /** Prints every entry matching the filter, then every change, until interrupted or disconnected. */
    private void watch() throws Exception {
        KeyValue kv = bucketStore();
        KeyValueWatcher watcher = new KeyValueWatcher() {
            @Override
            public void watch(KeyValueEntry e) {
                String when = Formats.columnTime(e.getCreated());
                if (e.getOperation() == KeyValueOperation.PUT) {
                    byte[] value = e.getValue() == null ? new byte[0] : e.getValue();
                    out.printf(
                            "[%s] %s %s > %s: %s%n",
                            when, op(e.getOperation()), e.getBucket(), e.getKey(),
                            new String(value, StandardCharsets.UTF_8));
                } else {
                    out.printf("[%s] %s %s > %s%n", when, op(e.getOperation()), e.getBucket(), e.getKey());
                }
                out.flush();
            }

            @Override
            public void endOfData() {}
        };
        NatsKeyValueWatchSubscription sub = kv.watch(word(1, ">"), watcher);
        try {
            closed.await();
            throw new CliException("nats: connection closed");
        } finally {
            sub.unsubscribe();
        }
    }

    private void ls() throws Exception {
        if (!words.isEmpty()) {
            listKeys(">", args.has("verbose"), args.has("display-value"));
            return;
        }
        JetStreamManagement jsm = nc.jetStreamManagement(options.getJetStreamOptions());
        List<StreamInfo> found = new ArrayList<>();
        for (StreamInfo si : jsm.getStreams()) {
            if (si.getConfiguration().getName().startsWith("KV_")) {
                found.add(si);
            }
        }
        if (found.isEmpty()) {
            out.println("No Key-Value buckets found");
            return;
        }
        if (args.has("names")) {
            found.forEach(si -> out.println(si.getConfiguration().getName().substring(3)));
            return;
        }
        found.sort(Comparator.comparingLong(si -> si.getStreamState().getByteCount()));
        Table table = new Table("Key-Value Buckets", "Bucket", "Description", "Created", "Size", "Values", "Last Update");
        for (StreamInfo si : found) {
            String description = si.getConfiguration().getDescription();
            table.row(
                    si.getConfiguration().getName().substring(3),
                    description == null ? "" : description,
                    Formats.columnTime(si.getCreateTime()),
                    Formats.bytes(si.getStreamState().getByteCount()),
                    Formats.comma(si.getStreamState().getMsgCount()),
                    Formats.humanDuration(since(si.getStreamState().getLastTime())));
        }
        table.print(out);
        out.println();
    }

    /** Go's {@code time.Since} of a zero time saturates, which natscli prints as "never": null here. */
    private static Duration since(ZonedDateTime t) {
        if (t == null || t.getYear() <= 1) {
            return null;
        }
        return Duration.between(t, ZonedDateTime.now());
    }

    private void listKeys(String filter, boolean verbose, boolean withValue) throws Exception {
        KeyValue kv = bucketStore();
        List<String> keys = kv.keys(filter);
        if (keys.isEmpty()) {
            out.println("No keys found in bucket");
            return;
        }
        if (!verbose) {
            keys.forEach(out::println);
            return;
        }
        Table table = withValue
                ? new Table("Contents for bucket '" + bucket() + "'", "Key", "Created", "Delta", "Revision", "Value")
                : new Table("Contents for bucket '" + bucket() + "'", "Key", "Created", "Delta", "Revision");
        for (String key : keys) {
            KeyValueEntry e = kv.get(key);
            if (e == null) {
                throw new CliException("unable to display key info: unable to fetch key " + key + ": nats: key not found");
            }
            String created = Formats.columnTime(e.getCreated());
            if (withValue) {
                byte[] value = e.getValue() == null ? new byte[0] : e.getValue();
                table.row(e.getKey(), created, e.getDelta(), e.getRevision(), new String(value, StandardCharsets.UTF_8));
            } else {
                table.row(e.getKey(), created, e.getDelta(), e.getRevision());
            }
        }
        table.print(out);
        out.println();
    }

    /** natscli's {@code showStatus}: the block {@code kv add} and {@code kv info} print. */
    private void showStatus(KeyValueStatus status) {
        StreamInfo si = status.getBackingStreamInfo();
        var cfg = si.getConfiguration();
        Columns cols = new Columns("Information for Key-Value Store Bucket " + status.getBucketName() + " created "
                + Formats.rfc3339Local(si.getCreateTime()));
        cols.section("Configuration");
        cols.row("Bucket Name", status.getBucketName());
        cols.row("History Kept", Formats.comma(status.getMaxHistoryPerKey()));
        cols.row("Values Stored", Formats.comma(status.getEntryCount()));
        cols.row("Compressed", status.isCompressed());
        cols.row("Backing Store Kind", status.getBackingStore());
        cols.rowIfNotEmpty("Description", cfg.getDescription());
        cols.row("Bucket Size", Formats.bytes(si.getStreamState().getByteCount()));
        cols.row("Maximum Bucket Size", cfg.getMaxBytes() == -1 ? "unlimited" : Formats.bytes(cfg.getMaxBytes()));
        cols.row("Maximum Value Size", cfg.getMaxMsgSize() == -1 ? "unlimited" : Formats.bytes(cfg.getMaxMsgSize()));
        Duration maxAge = cfg.getMaxAge();
        cols.row("Maximum Age", maxAge == null || maxAge.isZero() || maxAge.isNegative()
                ? "unlimited"
                : Formats.humanDuration(maxAge));
        cols.row("JetStream Stream", cfg.getName());
        cols.row("Storage", cfg.getStorageType() == StorageType.Memory ? "Memory" : "File");
        if (cfg.getRepublish() != null) {
            String label = cfg.getRepublish().isHeadersOnly() ? "Republishing Headers" : "Republishing";
            cols.row(label, cfg.getRepublish().getSource() + " to " + cfg.getRepublish().getDestination());
        }
        cols.print(out);
    }
}
