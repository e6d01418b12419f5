package io.jetkv.jetstream.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pull request bodies as nats-server 2.10 reads them; the error texts were captured from the reference. */
class PullRequestBodyTest {

    private static PullRequestBody parse(String body) {
        return PullRequestBody.parse(body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void emptyIntegerAndNonJsonBodies() {
        assertEquals(1, parse("").batch());
        assertEquals(3, parse(" 3 ").batch());
        PullRequestBody junk = parse("junk");
        assertNull(junk.error());
        assertEquals(1, junk.batch());
    }

    @Test
    void jsonRequest() {
        PullRequestBody b = parse("{\"batch\":5,\"expires\":300000000,\"no_wait\":true,\"max_bytes\":10,"
                + "\"idle_heartbeat\":1000,\"other\":\"x\"}");
        assertNull(b.error());
        assertEquals(5, b.batch());
        assertEquals(300000000L, b.expires());
        assertEquals(10, b.maxBytes());
        assertEquals(1000, b.heartbeat());
        assertEquals(true, b.noWait());
        assertNull(parse("{\"batch\":null,\"no_wait\":true}").error());
    }

    @Test
    void priorityGroupFields() {
        PullRequestBody b = parse("{\"batch\":2,\"group\":\"jobs\",\"min_pending\":5,\"min_ack_pending\":3,"
                + "\"id\":\"PIN\",\"priority\":4}");
        assertNull(b.error());
        assertEquals(true, b.object());
        assertEquals("jobs", b.group());
        assertEquals(5, b.minPending());
        assertEquals(3, b.minAckPending());
        assertEquals("PIN", b.id());
        assertEquals(4, b.priority());
        // an integer or empty body is no JSON object: the consumer skips its group checks
        assertEquals(false, parse("3").object());
        assertEquals(false, parse("").object());
        assertNull(parse("{\"batch\":1}").group());
        assertEquals("json: cannot unmarshal number into Go struct field JSApiConsumerGetNextRequest.group of type string",
                parse("{\"group\":5}").error());
        assertEquals("json: cannot unmarshal string into Go struct field JSApiConsumerGetNextRequest.priority of type int",
                parse("{\"priority\":\"x\"}").error());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{junk|invalid character 'j' looking for beginning of object key string",
        "{\"batch\":1,}|invalid character '}' looking for beginning of object key string",
        "{\"batch\":1} x|invalid character 'x' after top-level value",
        "{\"batch\":tru}|invalid character '}' in literal true (expecting 'e')",
        "{\"batch\"}|invalid character '}' after object key",
        "{\"batch\":1|unexpected end of JSON input",
        "{ \"batch\":01}|invalid character '1' after object key:value pair",
        "{\"batch\":1e}|invalid character '}' in exponent of numeric literal",
        "{\"batch\":-}|invalid character '}' in numeric literal",
        "{'batch':1}|invalid character '\\'' looking for beginning of object key string",
        "{\"x\":\"\\q\"}|invalid character 'q' in string escape code",
        "{\"batch\":\"x\"}|json: cannot unmarshal string into Go struct field JSApiConsumerGetNextRequest.batch of type int",
        "{\"batch\":1.5}|json: cannot unmarshal number 1.5 into Go struct field JSApiConsumerGetNextRequest.batch of type int",
        "{\"batch\":[1]}|json: cannot unmarshal array into Go struct field JSApiConsumerGetNextRequest.batch of type int",
        "{\"no_wait\":1}|json: cannot unmarshal number into Go struct field JSApiConsumerGetNextRequest.no_wait of type bool",
        "{\"batch\":2,\"expires\":\"x\",\"no_wait\":\"y\"}|json: cannot unmarshal string into Go struct field"
                + " JSApiConsumerGetNextRequest.expires of type time.Duration"
    })
    void refusedLikeGo(String body, String error) {
        assertEquals(error, parse(body).error());
    }

    @Test
    void controlCharacterInString() {
        assertEquals("invalid character '\\x01' in string literal", parse("{\"a\":\"\u0001\"}").error());
    }
}
