package io.jetkv.jetstream;

import io.jetkv.jetstream.api.JsApi;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.StandaloneApi;
import io.jetkv.jetstream.consumer.ConsumerManager;
import io.jetkv.jetstream.snapshot.SnapshotApi;
import io.jetkv.jetstream.stream.StorageBackend;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamApi;
import io.jetkv.jetstream.stream.StreamManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The JetStream of one account: its streams, consumers, usage and limits, and its {@code $JS.API}, answered on
 * the account's own {@link MessageBus} (its subject space). Accounts share the server's writer threads, API
 * workers and RocksDB, but nothing else: a stream name lives in one account's {@link StreamManager} and one
 * storage namespace, so isolation is structural. An account without JetStream has only an API that answers
 * "JetStream not enabled for account" (10039).
 *
 * <p>Threading: built and started by {@link JetStreamService} on its start-up thread; afterwards as its parts.
 */
public final class JetStreamAccount {
    private final String name;
    private final boolean enabled;
    private final MessageBus bus;
    private final AccountLimits limits;
    private final boolean ownLimits;
    private final StreamManager streams;
    private final ConsumerManager consumers;
    private final JsApi api;
    private final SnapshotApi snapshots;
    private final List<MessageBus.Subscription> apiSubscriptions = new ArrayList<>();

    /** What the service gives every account. */
    record Shared(JetStreamOptions options, ExecutorService[] writers, int queueCapacity, ThreadPoolExecutor apiWorkers,
            io.jetkv.jetstream.stream.WriteMetrics writeMetrics, Path staging, AtomicLong memoryUsed,
            AtomicLong storeUsed, java.util.concurrent.atomic.AtomicInteger openAtomicBatches,
            java.util.concurrent.atomic.AtomicInteger openFastBatches) {}

    JetStreamAccount(String name, boolean enabled, boolean system, MessageBus bus, AccountLimits limits,
            StorageBackend storage, Shared shared) {
        this.name = name;
        this.enabled = enabled;
        this.bus = bus;
        JetStreamOptions options = shared.options();
        // null: the server's limits are the account's ($G of a server without accounts); publishes past them are
        // 10023, past an account's own 10002
        this.limits = limits != null ? limits : AccountLimits.ofServer(options.maxMemory(), options.maxStore());
        this.ownLimits = limits != null;
        Stream.AccountUsage usage = limits == null ? null
                : new Stream.AccountUsage(limits.maxMemory(), limits.maxStore(), new AtomicLong(), new AtomicLong());
        long storeLimit = this.limits.maxStore() >= 0 ? this.limits.maxStore() : options.maxStore();
        Stream.Context ctx = new Stream.Context(bus, options.syncAlways(), options.domain(), options.maxMemory(),
                options.maxStore(), shared.memoryUsed(), shared.storeUsed(), shared.writeMetrics(),
                shared.openAtomicBatches(), shared.openFastBatches(), usage);
        this.streams = new StreamManager(bus, storage, shared.writers(), shared.queueCapacity(), ctx,
                options.maxMemory(), options.maxStore(), this.limits);
        streams.setAccount(name);
        this.api = new JsApi(bus, shared.apiWorkers(), options.domain());
        api.setStrict(options.strict());
        new StreamApi(name, streams, bus, options.domain(), options.maxMemory(), options.maxStore()).registerWith(api);
        this.consumers = new ConsumerManager(streams, bus, storage);
        consumers.registerWith(api);
        StandaloneApi.registerWith(api);
        this.snapshots = new SnapshotApi(streams, consumers, bus, shared.staging(), storeLimit);
        snapshots.registerWith(api);
        if (system) {
            api.refuseInfoOnly(JsError.NOT_ENABLED_FOR_ACCOUNT);
        } else if (!enabled) {
            api.refuseAll(JsError.NOT_ENABLED_FOR_ACCOUNT);
        }
    }

    /** Restores the account's streams and consumers (when enabled) and subscribes its API. */
    void start() {
        if (enabled) {
            streams.restore();
            consumers.start();
        }
        for (String subject : api.subscriptionSubjects()) {
            // an API that only refuses answers its own server's clients: in a cluster every server would answer
            apiSubscriptions.add(enabled ? bus.subscribe(subject, api::onMessage)
                    : bus.subscribeLocal(subject, api::onMessage));
        }
    }

    public String name() {
        return name;
    }

    /** False for an account whose API only refuses (no {@code jetstream} in its configuration). */
    public boolean enabled() {
        return enabled;
    }

    /** The account's subject space. */
    public MessageBus bus() {
        return bus;
    }

    public AccountLimits limits() {
        return limits;
    }

    /** False when the server's limits are the account's ({@code $G} of a server without accounts). */
    public boolean hasOwnLimits() {
        return ownLimits;
    }

    public StreamManager streams() {
        return streams;
    }

    public ConsumerManager consumers() {
        return consumers;
    }

    public JsApi api() {
        return api;
    }

    /** Shutdown step one: no more API requests, acks or captured publishes; queued work still runs. */
    void stop() {
        apiSubscriptions.forEach(MessageBus.Subscription::unsubscribe);
        snapshots.close();
        consumers.close();
        streams.stopAll();
    }
}
