package io.jetkv.conformance;

import io.jetkv.server.testing.ReferenceServer;
import static io.jetkv.conformance.Transcript.closes;
import static io.jetkv.conformance.Transcript.t;
import static io.jetkv.conformance.Transcript.unordered;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import java.io.IOException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Raw protocol transcripts (nats.docs "Client Protocol"): each sends bytes and expects the exact bytes the
 * reference server sends back. Each transcript runs against JetKV and, where nats-server is installed,
 * against it too, so the expectations themselves are checked against the reference.
 */
class CoreProtocolTranscriptIT {
    private static final String QUIET = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
    private static final String QUIET_HEADERS = "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}\r\n";

    private static NatsServer jetkv;
    private static ReferenceServer reference;

    static Stream<Transcript> transcripts() {
        return Stream.of(
                t("handshake", QUIET + "PING\r\n", "PONG\r\n"),
                t("opsBeforeConnectAreVerbose", "PUB a 1\r\nx\r\nPING\r\n", "+OK\r\nPONG\r\n"),
                t("verboseConnect", "CONNECT {\"verbose\":true}\r\nSUB foo 1\r\nPING\r\n", "+OK\r\n+OK\r\nPONG\r\n"),
                t("subPubWithReply", QUIET + "SUB foo 1\r\nPUB foo rep.ly 5\r\nhello\r\nPING\r\n",
                        "MSG foo 1 rep.ly 5\r\nhello\r\nPONG\r\n"),
                t("zeroLengthPayload", QUIET + "SUB n 1\r\nPUB n 0\r\n\r\nPING\r\n", "MSG n 1 0\r\n\r\nPONG\r\n"),
                t("lowercaseOps", "connect {\"verbose\":false}\r\nsub foo 1\r\npub foo 2\r\nhi\r\nping\r\n",
                        "MSG foo 1 2\r\nhi\r\nPONG\r\n"),
                t("tabsAndRunsOfSpaces", QUIET + "SUB lc  1\r\nPUB\tlc  \t 2\r\nyo\r\nPING\r\n",
                        "MSG lc 1 2\r\nyo\r\nPONG\r\n"),
                t("trailingSpaceAndEmptyQueueField", QUIET + "SUB tr  7 \r\nUNSUB 7 \r\nPUB tr 1\r\nx\r\nPING\r\n",
                        "PONG\r\n"),
                unordered("wildcardsAndQueueGroups",
                        QUIET + "SUB a.b 1\r\nSUB a.* 2\r\nSUB a.> 3\r\nSUB a.b q 4\r\nSUB a.b q 4\r\nSUB x.* 5\r\n"
                                + "SUB a 6\r\nPUB a.b 1\r\nz\r\nPING\r\n",
                        "MSG a.b 1 1\r\nz\r\nMSG a.b 2 1\r\nz\r\nMSG a.b 3 1\r\nz\r\nMSG a.b 4 1\r\nz\r\nPONG\r\n"),
                t("fullWildcardNeedsOneToken", QUIET + "SUB a.> 1\r\nPUB a 1\r\nz\r\nPUB a.b.c 1\r\ny\r\nPING\r\n",
                        "MSG a.b.c 1 1\r\ny\r\nPONG\r\n"),
                t("hpubRelayedVerbatim", QUIET_HEADERS + "SUB h.x 3\r\nHPUB h.x 18 23\r\nNATS/1.0\r\nA: B\r\n\r\nhello\r\nPING\r\n",
                        "HMSG h.x 3 18 23\r\nNATS/1.0\r\nA: B\r\n\r\nhello\r\nPONG\r\n"),
                t("hpubEmptyHeaderBlock", QUIET_HEADERS + "SUB h.y 3\r\nHPUB h.y r 12 12\r\nNATS/1.0\r\n\r\n\r\nPING\r\n",
                        "HMSG h.y 3 r 12 12\r\nNATS/1.0\r\n\r\n\r\nPONG\r\n"),
                t("hpubZeroHeaderLengthIsPlain", QUIET_HEADERS + "SUB z 6\r\nHPUB z 0 2\r\nhi\r\nPING\r\n",
                        "MSG z 6 2\r\nhi\r\nPONG\r\n"),
                t("unsubMax", QUIET + "SUB u 10\r\nUNSUB 10 1\r\nPUB u 1\r\na\r\nPUB u 1\r\nb\r\nPING\r\n",
                        "MSG u 10 1\r\na\r\nPONG\r\n"),
                t("unsubMaxAlreadyReached", QUIET + "SUB u 10\r\nPUB u 1\r\na\r\nPUB u 1\r\nb\r\nUNSUB 10 2\r\n"
                        + "PUB u 1\r\nc\r\nPING\r\n", "MSG u 10 1\r\na\r\nMSG u 10 1\r\nb\r\nPONG\r\n"),
                t("unsubUnknownSidIgnored", QUIET + "UNSUB 99\r\nPING\r\n", "PONG\r\n"),
                t("duplicateSidIgnored", QUIET + "SUB d 1\r\nSUB d 1\r\nPUB d 1\r\nx\r\nPING\r\n", "MSG d 1 1\r\nx\r\nPONG\r\n"),
                t("noResponders", "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n"
                        + "SUB _INBOX.x 9\r\nPUB nobody _INBOX.x 0\r\n\r\nPING\r\n",
                        "HMSG _INBOX.x 9 16 16\r\nNATS/1.0 503\r\n\r\n\r\nPONG\r\n"),
                t("noRespondersNotWithoutOption", QUIET_HEADERS + "SUB _INBOX.x 9\r\nPUB nobody _INBOX.x 0\r\n\r\nPING\r\n",
                        "PONG\r\n"),
                t("echoOff", "CONNECT {\"verbose\":false,\"echo\":false}\r\nSUB e 1\r\nPUB e 1\r\nx\r\nPING\r\n", "PONG\r\n"),
                t("invalidSubjectKeepsConnection", QUIET + "SUB foo..bar 12\r\nPING\r\n", "-ERR 'Invalid Subject'\r\nPONG\r\n"),
                t("headersStrippedForPlainClient", QUIET + "SUB hs 1\r\nPING\r\n", "PONG\r\n"),
                closes("maxPayload", QUIET + "PUB foo 2000000\r\n", "-ERR 'Maximum Payload Violation'\r\n"),
                closes("unknownOperation", QUIET + "FOO bar\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("payloadWithoutCrlf", QUIET + "PUB foo 2\r\nhiX\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("pubMissingSizeClosesSilently", QUIET + "PUB foo\r\n", ""),
                closes("pubBadSizeClosesSilently", QUIET + "PUB foo x1\r\nab\r\n", ""),
                closes("headerLargerThanTotalClosesSilently", QUIET_HEADERS + "HPUB foo 20 10\r\n", ""),
                closes("hpubWithoutHeadersNegotiated", QUIET + "HPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n", ""),
                closes("malformedConnectJson", "CONNECT {bad\r\n", ""),
                closes("controlLineTooLong", QUIET + "SUB " + "x".repeat(5000) + " 1\r\n",
                        "-ERR 'maximum control line exceeded'\r\n"),
                closes("noRespondersNeedsHeaders", "CONNECT {\"verbose\":false,\"no_responders\":true}\r\n",
                        "-ERR 'no responders requires headers support'\r\n"));
    }

    @BeforeAll
    static void startServers() throws Exception {
        jetkv = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0));
        if (ReferenceServer.available()) {
            reference = ReferenceServer.start();
        }
    }

    @AfterAll
    static void stopServers() throws Exception {
        if (jetkv != null) {
            jetkv.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transcripts")
    void jetkvAnswersLikeTheReference(Transcript t) throws IOException {
        Transcript.check(t, jetkv.port(), "jetkv", false);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transcripts")
    void splitIntoSingleBytes(Transcript t) throws IOException {
        Transcript.check(t, jetkv.port(), "jetkv byte by byte", true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transcripts")
    void referenceAgreesWithTranscript(Transcript t) throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(reference != null, "nats-server is not installed");
        Transcript.check(t, reference.port(), "nats-server", false);
    }

    @Test
    void infoLineShape() throws IOException {
        try (RawClient c = new RawClient(jetkv.port())) {
            String info = c.info();
            assertTrue(info.startsWith("INFO {"), info);
            assertTrue(info.endsWith("} \r\n"), info);
            for (String field : List.of("\"server_id\":\"N", "\"version\":\"2.10.", "\"proto\":1", "\"headers\":true",
                    "\"max_payload\":1048576", "\"port\":" + jetkv.port(), "\"client_id\":", "\"client_ip\":\"127.0.0.1\"")) {
                assertTrue(info.contains(field), field + " in " + info);
            }
        }
    }

    @Test
    void headersStrippedForSubscriberWithoutHeaders() throws IOException {
        try (RawClient sub = new RawClient(jetkv.port()); RawClient pub = new RawClient(jetkv.port())) {
            sub.send(QUIET + "SUB hh 1\r\nPING\r\n");
            assertEquals("PONG\r\n", sub.readUntil("PONG\r\n"));
            pub.send(QUIET_HEADERS + "HPUB hh 18 22\r\nNATS/1.0\r\nA: B\r\n\r\nbody\r\nPING\r\n");
            assertEquals("PONG\r\n", pub.readUntil("PONG\r\n"));
            sub.send("PING\r\n");
            assertEquals("MSG hh 1 4\r\nbody\r\nPONG\r\n", sub.readUntil("PONG\r\n"));
        }
    }
}
