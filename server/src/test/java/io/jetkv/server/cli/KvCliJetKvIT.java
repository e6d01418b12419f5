package io.jetkv.server.cli;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against an in-process JetKV. JetKV has no consumers yet, so watch, keys, history, {@code ls <bucket>}
 * and compact are covered by {@link KvCliNatsServerIT} only; move those tests into {@link KvCliContract} once
 * consumers land.
 */
class KvCliJetKvIT extends KvCliContract {
    @TempDir
    static Path store;

    private static NatsServer server;
    private static CliRunner cli;

    @BeforeAll
    static void start() throws InterruptedException {
        server = NatsServer.start(ServerConfig.defaults()
                .withHost("127.0.0.1")
                .withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
        cli = new CliRunner(server.clientUrl());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Override
    CliRunner cli() {
        return cli;
    }
}
