package io.jetkv.server.monitor;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.JetStreamService;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.WriteMetrics;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /metrics}: the server's figures in Prometheus' text format, or OpenMetrics when the scraper's
 * {@code Accept} asks for it, built with the Prometheus Java client (its registry, callback metrics and writers).
 * Every value is read at scrape time through the same thread-safe views as {@code /varz} and {@code /jsz}:
 * counters and atomics, the streams' published stats, and consumer infos that each stream's writer produces
 * on its own thread (gathered first, asynchronously; see {@link #scrape}).
 *
 * <p>Threading: {@link #scrape} is called on the monitoring loop ({@code nats-http}); the callbacks run there,
 * during {@link PrometheusRegistry#scrape()}. Built on first use, so a server that is never scraped loads none
 * of the client's classes.
 */
final class Metrics {
    /** A consumer's figures, taken on its stream's writer before the scrape. */
    private record ConsumerFigures(String stream, String consumer, long pending, long ackPending, long redelivered) {}

    private final ServerView server;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ExpositionFormats formats = ExpositionFormats.init();
    /** The consumers gathered for the scrape in progress; the monitoring thread only. */
    private List<ConsumerFigures> consumers = List.of();

    Metrics(ServerView server) {
        this.server = server;
        ServerStats stats = server.stats();
        gauge("jetkv_connections", "Client connections open", cb -> cb.call(server.connections()));
        counter("jetkv_connections_accepted", "Client connections accepted since start", cb -> cb.call(stats.totalConnections()));
        gauge("jetkv_subscriptions", "Subscriptions in the subject index (clients, routes, JetStream)",
                cb -> cb.call(server.subscriptions()));
        gauge("jetkv_routes", "Routes to other servers of the cluster", cb -> cb.call(server.routes().size()));
        counter("jetkv_in_messages", "Messages published by clients", cb -> cb.call(stats.inMsgs()));
        counter("jetkv_in_bytes", "Bytes (headers and payload) published by clients", cb -> cb.call(stats.inBytes()));
        counter("jetkv_out_messages", "Messages delivered to clients", cb -> cb.call(stats.outMsgs()));
        counter("jetkv_out_bytes", "Bytes (headers and payload) delivered to clients", cb -> cb.call(stats.outBytes()));
        counter("jetkv_slow_consumers", "Clients dropped as slow consumers", cb -> cb.call(stats.slowConsumers()));

        counter("jetkv_jetstream_api_requests", "JetStream API requests", cb -> {
            JetStreamService js = server.jetstream();
            cb.call(js == null ? 0 : js.api().total());
        });
        counter("jetkv_jetstream_api_errors", "JetStream API requests answered with an error", cb -> {
            JetStreamService js = server.jetstream();
            cb.call(js == null ? 0 : js.api().errors());
        });
        streamGauge("jetkv_stream_messages", "Messages in the stream", StreamState::msgs);
        streamGauge("jetkv_stream_bytes", "Bytes in the stream", StreamState::bytes);
        streamGauge("jetkv_stream_first_seq", "First sequence in the stream", StreamState::firstSeq);
        streamGauge("jetkv_stream_last_seq", "Last sequence in the stream", StreamState::lastSeq);
        GaugeWithCallback.builder().name("jetkv_stream_consumers").help("Consumers of the stream").labelNames("stream")
                .callback(cb -> {
                    for (Stream s : streams()) {
                        cb.call(s.consumerCount().get(), s.name());
                    }
                }).register(registry);
        consumerGauge("jetkv_consumer_pending", "Messages not yet delivered to the consumer", ConsumerFigures::pending);
        consumerGauge("jetkv_consumer_ack_pending", "Messages delivered and waiting for an ack",
                ConsumerFigures::ackPending);
        consumerGauge("jetkv_consumer_redelivered", "Messages delivered more than once and not yet acked",
                ConsumerFigures::redelivered);
        registry.register(() -> histogram("jetkv_store_flush_seconds",
                "Time of one group commit's store write (and fsync with sync_always)", WriteMetrics.LATENCY_BOUNDS,
                w -> w.latencyCounts(), WriteMetrics::latencySumSeconds));
        registry.register(() -> histogram("jetkv_store_flush_batch_size",
                "Tasks (publishes and other changes) written by one group commit", WriteMetrics.BATCH_BOUNDS,
                w -> w.batchCounts(), w -> (double) w.taskSum()));
        rocksGauge("jetkv_rocksdb_memtable_bytes", "Bytes in RocksDB's memtables", "rocksdb.cur-size-all-mem-tables");
        rocksGauge("jetkv_rocksdb_pending_compaction_bytes", "Bytes RocksDB estimates compaction must rewrite",
                "rocksdb.estimate-pending-compaction-bytes");
        rocksGauge("jetkv_rocksdb_compaction_pending", "1 while RocksDB has a compaction waiting",
                "rocksdb.compaction-pending");
        rocksGauge("jetkv_rocksdb_block_cache_bytes", "Bytes held in RocksDB's block cache", "rocksdb.block-cache-usage");
        rocksGauge("jetkv_rocksdb_sst_bytes", "Bytes of RocksDB's live SST files", "rocksdb.live-sst-files-size");
        rocksGauge("jetkv_rocksdb_keys", "Keys in RocksDB (its estimate)", "rocksdb.estimate-num-keys");
        JvmMetrics.builder().register(registry);
    }

    /** The exposition for {@code accept} (null: Prometheus text); completes on {@code executor}. */
    CompletableFuture<MonitorServer.Reply> scrape(String accept, java.util.concurrent.Executor executor) {
        return gatherConsumers().thenApplyAsync(figures -> {
            consumers = figures;
            try {
                MetricSnapshots snapshots = registry.scrape();
                ExpositionFormatWriter writer = formats.findWriter(accept);
                if (!writer.isAvailable()) {
                    writer = formats.getPrometheusTextFormatWriter(); // protobuf is not bundled
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
                writer.write(out, snapshots);
                return new MonitorServer.Reply(io.netty.handler.codec.http.HttpResponseStatus.OK,
                        writer.getContentType(), out.toByteArray(), null);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                consumers = List.of();
            }
        }, executor);
    }

    /** Each stream's consumer infos, taken on its writer (consumer state lives there). */
    private CompletableFuture<List<ConsumerFigures>> gatherConsumers() {
        JetStreamService js = server.jetstream();
        if (js == null) {
            return CompletableFuture.completedFuture(List.of());
        }
        List<CompletableFuture<List<ConsumerFigures>>> each = new ArrayList<>();
        for (Stream s : js.streams().all()) {
            if (s.consumerCount().get() == 0) {
                continue;
            }
            each.add(js.consumers().infos(s).thenApply(infos -> {
                List<ConsumerFigures> list = new ArrayList<>(infos.size());
                for (ObjectNode info : infos) {
                    list.add(new ConsumerFigures(s.name(), info.path("name").asText(),
                            info.path("num_pending").asLong(), info.path("num_ack_pending").asLong(),
                            info.path("num_redelivered").asLong()));
                }
                return list;
            }).exceptionally(t -> List.of()));
        }
        return CompletableFuture.allOf(each.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            List<ConsumerFigures> all = new ArrayList<>();
            for (CompletableFuture<List<ConsumerFigures>> f : each) {
                all.addAll(f.join());
            }
            return all;
        });
    }

    private List<Stream> streams() {
        JetStreamService js = server.jetstream();
        return js == null ? List.of() : js.streams().all();
    }

    private void gauge(String name, String help, java.util.function.Consumer<GaugeWithCallback.Callback> cb) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb).register(registry);
    }

    private void counter(String name, String help, java.util.function.Consumer<CounterWithCallback.Callback> cb) {
        CounterWithCallback.builder().name(name).help(help).callback(cb).register(registry);
    }

    private void streamGauge(String name, String help, java.util.function.ToLongFunction<StreamState> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("stream").callback(cb -> {
            for (Stream s : streams()) {
                cb.call(value.applyAsLong(s.stats()), s.name());
            }
        }).register(registry);
    }

    /** A RocksDB property; absent without JetStream or with memory storage only. */
    private void rocksGauge(String name, String help, String property) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> {
            JetStreamService js = server.jetstream();
            Long v = js == null ? null : js.storage().storeStats().get(property);
            if (v != null) {
                cb.call(v);
            }
        }).register(registry);
    }

    private void consumerGauge(String name, String help, java.util.function.ToLongFunction<ConsumerFigures> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("stream", "consumer").callback(cb -> {
            for (ConsumerFigures c : consumers) {
                cb.call(value.applyAsLong(c), c.stream(), c.consumer());
            }
        }).register(registry);
    }

    private HistogramSnapshot histogram(String name, String help, double[] bounds,
            java.util.function.Function<WriteMetrics, long[]> counts,
            java.util.function.ToDoubleFunction<WriteMetrics> sum) {
        JetStreamService js = server.jetstream();
        HistogramSnapshot.Builder b = HistogramSnapshot.builder().name(name).help(help);
        long[] c = js == null ? new long[bounds.length] : counts.apply(js.writeMetrics());
        double s = js == null ? 0 : sum.applyAsDouble(js.writeMetrics());
        b.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, c)).sum(s).build());
        return b.build();
    }
}
