package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.conformance.faults.LoggedProcess;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Profiling a running server must not change what it does. HotSpot suspends threads with SIGUSR2 by default
 * (JFR's execution sampler does, for every sample), and SIGUSR2 is also nats-server's lame duck signal: a
 * server that took the JVM's signal for its own entered lame duck mode and exited as soon as someone ran
 * {@code jcmd <pid> JFR.start}. Here {@code ./jetkv} runs with JFR's sampling profile while a jnats client
 * drives request/reply through it, until the recording holds execution samples; the server must still be
 * serving, never in lame duck mode.
 */
class ProfilingIT {
    private static final Path LAUNCHER = Path.of("..", "jetkv").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void jfrSamplingDoesNotTriggerLameDuckMode() throws Exception {
        Path recording = dir.resolve("running.jfr");
        try (LoggedProcess server = LoggedProcess.start("profiled", List.of(LAUNCHER.toString(), "-a", "127.0.0.1",
                "-p", "-1"),
                Map.of("JETKV_JAVA_OPTS", "-XX:StartFlightRecording=settings=profile,filename=" + recording))) {
            int port = server.clientPort();
            try (Connection responder = connect(port); Connection requester = connect(port)) {
                Dispatcher d = responder.createDispatcher(m -> responder.publish(m.getReplyTo(), m.getData()));
                d.subscribe("profiled.echo");
                responder.flush(Duration.ofSeconds(10));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                int round = 0;
                long samples = 0;
                while (samples < 20) {
                    assertTrue(System.nanoTime() < deadline, "no execution samples in the recording after 120 s");
                    for (int i = 0; i < 500; i++) {
                        byte[] body = ("r" + round + "-" + i).getBytes(StandardCharsets.UTF_8);
                        assertNotNull(requester.request("profiled.echo", body, Duration.ofSeconds(10)),
                                "reply " + i + " of round " + round + "\n" + server.recentLog());
                    }
                    samples = executionSamples(server.pid(), dir.resolve("dump-" + round++ + ".jfr"));
                }
                // the samples were taken while the server served: a server that took them for SIGUSR2 would
                // have announced lame duck mode to these clients and stopped accepting new ones by now
                assertTrue(server.alive(), server.recentLog());
                try (Connection late = connect(port)) {
                    assertFalse(late.getServerInfo().isLameDuckMode(), "INFO says ldm");
                }
                assertFalse(requester.getServerInfo().isLameDuckMode(), "async INFO said ldm");
                assertFalse(server.log().stream().anyMatch(l -> l.contains("lame duck")), server.recentLog());
            }
        }
    }

    private static Connection connect(int port) throws Exception {
        return Nats.connect(Options.builder().server("nats://127.0.0.1:" + port).noReconnect().build());
    }

    /** {@code jcmd <pid> JFR.dump} into {@code file}, then the number of execution samples in it. */
    private static long executionSamples(long pid, Path file) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "JFR.dump", "filename=" + file)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 && Files.exists(file), out);
        long n = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (e.getEventType().getName().equals("jdk.ExecutionSample")) {
                n++;
            }
        }
        return n;
    }
}
