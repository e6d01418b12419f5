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
                t("noRespondersNotToQueueSubscription", "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n"
                        + "SUB _INBOX.x q 9\r\nPUB nobody _INBOX.x 0\r\n\r\nPING\r\n", "PONG\r\n"),
                t("noRespondersNotWithoutOption", QUIET_HEADERS + "SUB _INBOX.x 9\r\nPUB nobody _INBOX.x 0\r\n\r\nPING\r\n",
                        "PONG\r\n"),
                t("echoOff", "CONNECT {\"verbose\":false,\"echo\":false}\r\nSUB e 1\r\nPUB e 1\r\nx\r\nPING\r\n", "PONG\r\n"),
                t("invalidSubjectKeepsConnection", QUIET + "SUB foo..bar 12\r\nPING\r\n", "-ERR 'Invalid Subject'\r\nPONG\r\n"),
                t("headersStrippedForPlainClient", QUIET + "SUB hs 1\r\nPING\r\n", "PONG\r\n"),
                // a bad UNSUB max is -1 to the reference: the subscription goes at once and the connection stays
                t("unsubNegativeMax", QUIET + "SUB foo 1\r\nUNSUB 1 -1\r\nPUB foo 1\r\nx\r\nPING\r\n", "PONG\r\n"),
                t("unsubNonNumericMax", QUIET + "SUB foo 1\r\nUNSUB 1 abc\r\nPUB foo 1\r\nx\r\nPING\r\n", "PONG\r\n"),
                t("unsubZeroMax", QUIET + "SUB foo 1\r\nUNSUB 1 0\r\nPUB foo 1\r\nx\r\nPING\r\n", "PONG\r\n"),
                t("unsubBadMaxIsVerbose", "CONNECT {\"verbose\":true}\r\nUNSUB 1 x\r\nPING\r\n", "+OK\r\n+OK\r\nPONG\r\n"),
                // PING, PONG and +OK are recognised by their verb; the rest of the line is ignored
                t("pingWithSuffix", QUIET + "PINGX\r\n", "PONG\r\n"),
                t("pingWithArguments", QUIET + "PING foo bar\r\n", "PONG\r\n"),
                t("pongWithSuffix", QUIET + "PONGX\r\nPING\r\n", "PONG\r\n"),
                t("pingLfOnly", QUIET + "PING\n", "PONG\r\n"),
                t("mixedCaseKeepAlive", QUIET + "pong\r\npOnG\r\nPiNg\r\n", "PONG\r\n"),
                t("okFromClientIgnored", QUIET + "+OK\r\n+OKAY\r\nPING\r\n", "PONG\r\n"),
                t("clientInfoIgnored", "CONNECT {\"verbose\":true}\r\nINFO {}\r\nINFO null\r\nPING\r\n",
                        "+OK\r\nPONG\r\n"),
                t("clientInfoUnknownFieldIgnored", QUIET + "INFO {\"unknown\":1,\"connect_urls\":[\"x\",null]}\r\nPING\r\n",
                        "PONG\r\n"),
                // CONNECT's JSON starts at the first non-blank byte, blank or not
                t("connectWithoutBlank", "CONNECT{\"verbose\":false}\r\nPING\r\n", "PONG\r\n"),
                t("connectWithTab", "CONNECT\t{\"verbose\":false}\r\nPING\r\n", "PONG\r\n"),
                t("connectTrailingBlanks", "CONNECT {\"verbose\":false}   \r\nPING\r\n", "PONG\r\n"),
                t("connectNull", "CONNECT null\r\nPING\r\n", "+OK\r\nPONG\r\n"),
                t("connectNullField", "CONNECT {\"verbose\":false,\"echo\":null}\r\nSUB e 1\r\nPUB e 1\r\nx\r\nPING\r\n",
                        "MSG e 1 1\r\nx\r\nPONG\r\n"),
                t("connectFieldNamesAnyCase", "CONNECT {\"VERBOSE\":false,\"Echo\":false}\r\nSUB e 1\r\nPUB e 1\r\nx\r\nPING\r\n",
                        "PONG\r\n"),
                t("connectLaterFieldWins", "CONNECT {\"verbose\":false,\"verbose\":true}\r\nPING\r\n", "+OK\r\nPONG\r\n"),
                t("connectUnknownFieldsIgnored", "CONNECT {\"verbose\":false,\"unknown\":[1,2],\"remote_account\":5}\r\nPING\r\n",
                        "PONG\r\n"),
                t("connectImportList", "CONNECT {\"verbose\":false,\"import\":{\"allow\":[\"x\"]}}\r\nPING\r\n", "PONG\r\n"),
                // a later CONNECT changes only the fields it names
                t("connectMergesIntoEarlier", "CONNECT {\"verbose\":false}\r\nCONNECT {\"pedantic\":true}\r\nPING\r\n",
                        "PONG\r\n"),
                t("secondConnect", "CONNECT {\"verbose\":false}\r\nCONNECT {\"verbose\":true}\r\nPING\r\n", "+OK\r\nPONG\r\n"),
                // separators: blanks anywhere; a CR inside SUB arguments separates too
                t("blanksEverywhereInSub", QUIET + "SUB \t foo \t 1 \t \r\nPUB foo  1 \r\nx\r\nPING\r\n",
                        "MSG foo 1 1\r\nx\r\nPONG\r\n"),
                t("tabsInSubWithQueue", QUIET + "SUB foo\tq\t1\r\nPUB foo 1\r\nx\r\nPING\r\n", "MSG foo 1 1\r\nx\r\nPONG\r\n"),
                t("crInsideSubArguments", QUIET + "SUB foo\r1\r\nPUB foo 1\r\nx\r\nPING\r\n", "MSG foo 1 1\r\nx\r\nPONG\r\n"),
                t("crThenByteBeforeLf", QUIET + "SUB foo 1\rX\nPUB foo 1\r\nx\r\nPING\r\n", "MSG foo 1 1\r\nx\r\nPONG\r\n"),
                t("pubZeroSizeReply", QUIET + "SUB foo 1\r\nPUB foo reply 0 \r\n\r\nPING\r\n",
                        "MSG foo 1 reply 0\r\n\r\nPONG\r\n"),
                t("utf8Subject", QUIET + "SUB \u00e9 1\r\nPUB \u00e9 1\r\nx\r\nPING\r\n", "MSG \u00e9 1 1\r\nx\r\nPONG\r\n"),
                // queue group names are not checked; subjects are
                unordered("queueGroupWithWildcards", QUIET + "SUB foo q.*.a 1\r\nSUB foo > 2\r\nSUB foo q..x 3\r\nPUB foo 1\r\nx\r\nPING\r\n",
                        "MSG foo 1 1\r\nx\r\nMSG foo 2 1\r\nx\r\nMSG foo 3 1\r\nx\r\nPONG\r\n"),
                t("subjectEndingInDot", QUIET + "SUB foo. 1\r\nSUB .foo 2\r\nSUB foo.>.bar 3\r\nPING\r\n",
                        "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\nPONG\r\n"),
                t("formFeedInsideSubject", "CONNECT {\"verbose\":false,\"pedantic\":true}\r\nSUB foo\f 1\r\nPUB foo\f 1\r\nx\r\nPING\r\n",
                        "MSG foo\f 1 1\r\nx\r\nPONG\r\n"),
                // a published subject with an empty token reaches no one, not even '>'
                t("publishToEmptyTokenReachesNoOne", QUIET + "SUB > 1\r\nSUB foo.* 2\r\nPUB .foo 1\r\nx\r\nPUB foo..bar 1\r\nx\r\n"
                        + "PUB foo. 1\r\nx\r\nPUB foo 1\r\ny\r\nPING\r\n", "MSG foo 1 1\r\ny\r\nPONG\r\n"),
                t("pedanticPublishToWildcard", "CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB foo.* 1\r\nx\r\nPING\r\n",
                        "-ERR 'Invalid Publish Subject'\r\nPONG\r\n"),
                t("sizeWithLeadingZerosWithinNineDigits", QUIET + "PUB foo 000000002\r\nab\r\nPING\r\n", "PONG\r\n"),
                closes("maxPayload", QUIET + "PUB foo 2000000\r\n", "-ERR 'Maximum Payload Violation'\r\n"),
                closes("unknownOperation", QUIET + "FOO bar\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("payloadWithoutCrlf", QUIET + "PUB foo 2\r\nhiX\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("pubMissingSizeClosesSilently", QUIET + "PUB foo\r\n", ""),
                // a verb that takes arguments must be followed by a blank: without one it is no operation at all
                closes("pubWithoutArguments", QUIET + "PUB\r\nPING\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("hpubWithoutArguments", QUIET_HEADERS + "HPUB\r\nPING\r\n",
                        "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("subWithoutArguments", QUIET + "SUB\r\nPING\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("unsubWithoutArguments", QUIET + "UNSUB\r\nPING\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("verbRunningIntoItsArgument", QUIET + "SUBX foo 1\r\nPING\r\n",
                        "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("unknownVerbWithoutLineEnd", QUIET + "FOO", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("truncatedVerb", QUIET + "PIN\r\nPING\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("emptyLine", QUIET + "\r\nPING\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("leadingBlank", QUIET + " PING\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("msgFromClient", QUIET + "MSG foo 1 1\r\nx\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("hmsgFromClient", QUIET + "HMSG foo 1 2 2\r\nab\r\nPING\r\n",
                        "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("errWithoutArgument", QUIET + "-ERR\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("bareJsonWithoutConnect", "{\"verbose\":false}\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                // a blank and then nothing, or the wrong number of arguments: closed without an answer
                closes("pubBlankArguments", QUIET + "PUB \t \r\nPING\r\n", ""),
                closes("subBlankArguments", QUIET + "SUB \r\nPING\r\n", ""),
                closes("unsubBlankArguments", QUIET + "UNSUB \r\nPING\r\n", ""),
                closes("subMissingSid", QUIET + "SUB foo\r\nPING\r\n", ""),
                closes("subTooManyArguments", QUIET + "SUB foo q 1 x\r\nPING\r\n", ""),
                closes("pubTooManyArguments", QUIET + "PUB a b c d\r\nPING\r\n", ""),
                closes("unsubTooManyArguments", QUIET + "UNSUB 1 2 3\r\nPING\r\n", ""),
                closes("hpubMissingTotal", QUIET_HEADERS + "HPUB foo 1\r\nPING\r\n", ""),
                closes("hpubTooManyArguments", QUIET_HEADERS + "HPUB a b c d e\r\nPING\r\n", ""),
                closes("hpubNegativeHeaderSize", QUIET_HEADERS + "HPUB foo -1 2\r\nab\r\n", ""),
                closes("hpubBadTotal", QUIET_HEADERS + "HPUB foo 2 x\r\nab\r\n", ""),
                closes("pubNegativeSize", QUIET + "PUB foo -1\r\n", ""),
                closes("pubSignedSize", QUIET + "PUB foo +2\r\nab\r\n", ""),
                closes("pubHugeSize", QUIET + "PUB foo 99999999999999999999\r\n", ""),
                // a size has at most 9 digits: ten are malformed even where a payload violation would be expected
                closes("pubTenDigitSize", QUIET + "PUB foo 1234567890\r\n", ""),
                closes("pubTenDigitSmallSize", QUIET + "PUB foo 0000000002\r\nab\r\nPING\r\n", ""),
                closes("hpubTotalOverMaxPayload", QUIET_HEADERS + "HPUB foo 2 1048577\r\n",
                        "-ERR 'Maximum Payload Violation'\r\n"),
                // HPUB is refused, whatever its arguments, until CONNECT negotiated headers
                closes("hpubZeroHeaderWithoutHeadersNegotiated", QUIET + "HPUB foo 0 2\r\nab\r\nPING\r\n", ""),
                closes("hpubOverMaxPayloadWithoutHeadersNegotiated", QUIET + "HPUB foo 2 1048577\r\n", ""),
                closes("hpubBeforeConnect", "HPUB a 0 1\r\nx\r\nPING\r\n", ""),
                closes("pubCrInsideArguments", QUIET + "PUB foo\r1\r\nx\r\nPING\r\n", ""),
                closes("payloadLongerThanSize", QUIET + "PUB foo 2\r\nabc\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("payloadEndingInLfOnly", QUIET + "SUB foo 1\r\nPUB foo 2\r\nab\n\nPING\r\n",
                        "-ERR 'Unknown Protocol Operation'\r\n"),
                // an -ERR from a client, a CONNECT or INFO the reference cannot parse: closed without an answer
                closes("errFromClient", QUIET + "-ERR 'x'\r\nPING\r\n", ""),
                closes("connectWithoutArgument", "CONNECT\r\nPING\r\n", ""),
                closes("connectVerbRunningIntoJson", "CONNECTX {}\r\nPING\r\n", ""),
                closes("connectTextAfterJson", "CONNECT {\"verbose\":false} xyz\r\nPING\r\n", ""),
                closes("connectArray", "CONNECT []\r\nPING\r\n", ""),
                closes("connectString", "CONNECT \"x\"\r\nPING\r\n", ""),
                closes("connectTrailingComma", "CONNECT {\"verbose\":false,}\r\nPING\r\n", ""),
                closes("connectVerboseString", "CONNECT {\"verbose\":\"yes\"}\r\nPING\r\n", ""),
                closes("connectVerboseNumber", "CONNECT {\"verbose\":1}\r\nPING\r\n", ""),
                closes("connectHeadersNumber", "CONNECT {\"verbose\":false,\"headers\":1}\r\nPING\r\n", ""),
                closes("connectProtocolString", "CONNECT {\"protocol\":\"1\"}\r\nPING\r\n", ""),
                closes("connectProtocolFraction", "CONNECT {\"protocol\":1.5}\r\nPING\r\n", ""),
                closes("connectProtocolExponent", "CONNECT {\"verbose\":false,\"protocol\":1e0}\r\nPING\r\n", ""),
                closes("connectProtocolOverflow",
                        "CONNECT {\"verbose\":false,\"protocol\":99999999999999999999}\r\nPING\r\n", ""),
                closes("connectNameNumber", "CONNECT {\"verbose\":false,\"name\":5}\r\nPING\r\n", ""),
                closes("connectTokenBoolean", "CONNECT {\"verbose\":false,\"auth_token\":false}\r\nPING\r\n", ""),
                closes("connectImportNotObject", "CONNECT {\"verbose\":false,\"import\":5}\r\nPING\r\n", ""),
                closes("connectImportAllowString",
                        "CONNECT {\"verbose\":false,\"import\":{\"allow\":\"x\"}}\r\nPING\r\n", ""),
                closes("connectProtocolTwo", "CONNECT {\"verbose\":false,\"protocol\":2}\r\nPING\r\n",
                        "-ERR 'invalid client protocol'\r\n"),
                closes("connectProtocolBeyond32Bits",
                        "CONNECT {\"verbose\":false,\"protocol\":4294967297}\r\nPING\r\n",
                        "-ERR 'invalid client protocol'\r\n"),
                closes("infoWithoutArgument", QUIET + "INFO\r\nPING\r\n", ""),
                closes("infoNotJson", QUIET + "INFO xyz\r\nPING\r\n", ""),
                closes("infoArray", QUIET + "INFO []\r\nPING\r\n", ""),
                closes("infoFieldOfWrongType", QUIET + "INFO {\"server_id\":5}\r\nPING\r\n", ""),
                closes("infoPortString", QUIET + "INFO {\"port\":\"x\"}\r\nPING\r\n", ""),
                closes("infoUrlsNotList", QUIET + "INFO {\"connect_urls\":\"x\"}\r\nPING\r\n", ""),
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
            for (String field : List.of("\"server_id\":\"N", "\"version\":\"2.14.", "\"proto\":1", "\"headers\":true",
                    "\"max_payload\":1048576", "\"port\":" + jetkv.port(), "\"client_id\":", "\"client_ip\":\"127.0.0.1\"")) {
                assertTrue(info.contains(field), field + " in " + info);
            }
            // api_lvl is nats-server 2.12's (2.14: level 4), last in the line
            assertTrue(info.endsWith(",\"api_lvl\":4} \r\n"), info);
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
