package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bodies sent to nats-server 2.9.10's {@code $SYS.REQ.SERVER.PING.CONNZ} and the error each got (captured), against
 * JetKV's decoding; {@code SystemAccountIT} compares every endpoint with a running nats-server.
 */
class GoJsonTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    static Stream<Arguments> captured() {
        return Stream.of(
                Arguments.of("{\"offset\":1.5}", "json: cannot unmarshal number 1.5 into Go struct field ConnzEventOptions.offset of type int"),
                Arguments.of("{\"offset\":-1}", null),
                Arguments.of("{\"cid\":-1}", "json: cannot unmarshal number -1 into Go struct field ConnzEventOptions.cid of type uint64"),
                Arguments.of("{\"cid\":1.0}", "json: cannot unmarshal number 1.0 into Go struct field ConnzEventOptions.cid of type uint64"),
                Arguments.of("{\"offset\":1e30}", "json: cannot unmarshal number 1e30 into Go struct field ConnzEventOptions.offset of type int"),
                Arguments.of("{\"offset\":1e3}", "json: cannot unmarshal number 1e3 into Go struct field ConnzEventOptions.offset of type int"),
                Arguments.of("{\"tags\":[\"a\",1]}", "json: cannot unmarshal number into Go struct field ConnzEventOptions.tags of type string"),
                Arguments.of("{\"tags\":\"a\"}", "json: cannot unmarshal string into Go struct field ConnzEventOptions.tags of type []string"),
                Arguments.of("{\"auth\":\"true\"}", "json: cannot unmarshal string into Go struct field ConnzEventOptions.auth of type bool"),
                Arguments.of("{\"sort\":1}", "json: cannot unmarshal number into Go struct field ConnzEventOptions.sort of type server.SortOpt"),
                Arguments.of("{\"state\":\"open\"}", "json: cannot unmarshal string into Go struct field ConnzEventOptions.state of type server.ConnState"),
                Arguments.of("{\"state\":1.5}", "json: cannot unmarshal number 1.5 into Go struct field ConnzEventOptions.state of type server.ConnState"),
                Arguments.of("{\"offset\":true}", "json: cannot unmarshal bool into Go struct field ConnzEventOptions.offset of type int"),
                Arguments.of("{\"offset\":null}", null),
                Arguments.of("{\"offset\":[1]}", "json: cannot unmarshal array into Go struct field ConnzEventOptions.offset of type int"),
                Arguments.of("{\"auth\":1}", "json: cannot unmarshal number into Go struct field ConnzEventOptions.auth of type bool"),
                Arguments.of("{\"OFFSET\":\"x\"}", "json: cannot unmarshal string into Go struct field ConnzEventOptions.offset of type int"),
                Arguments.of("{\"offset\":\"x\",\"auth\":\"y\"}", "json: cannot unmarshal string into Go struct field ConnzEventOptions.offset of type int"),
                Arguments.of("{\"auth\":\"y\",\"offset\":\"x\"}", "json: cannot unmarshal string into Go struct field ConnzEventOptions.auth of type bool"),
                Arguments.of("{bad", "invalid character 'b' looking for beginning of object key string"),
                Arguments.of("{\"a\":}", "invalid character '}' looking for beginning of value"),
                Arguments.of("{\"a\" 1}", "invalid character '1' after object key"),
                Arguments.of("[", "unexpected end of JSON input"),
                Arguments.of("{\"a\":1,}", "invalid character '}' looking for beginning of object key string"),
                Arguments.of("{\"a\":tru}", "invalid character '}' in literal true (expecting 'e')"),
                Arguments.of("1 2", "invalid character '2' after top-level value"),
                Arguments.of("{\"a\":\"x\\q\"}", "invalid character 'q' in string escape code"),
                Arguments.of("{\"a\":01}", "invalid character '1' after object key:value pair"),
                Arguments.of("{\"a\":-}", "invalid character '}' in numeric literal"),
                Arguments.of("{\"a\":1.}", "invalid character '}' after decimal point in numeric literal"),
                Arguments.of("{\"a\":1e}", "invalid character '}' in exponent of numeric literal"),
                Arguments.of("\u0001", "invalid character '\\x01' looking for beginning of value"),
                Arguments.of("{\"a\":\"\u0001\"}", "invalid character '\\x01' in string literal"),
                Arguments.of("nul", "invalid character ' ' in literal null (expecting 'l')"),
                Arguments.of("1", "json: cannot unmarshal number into Go value of type server.ConnzEventOptions"),
                Arguments.of("true", "json: cannot unmarshal bool into Go value of type server.ConnzEventOptions"),
                Arguments.of("null", null),
                Arguments.of("{}x", "invalid character 'x' after top-level value"),
                Arguments.of("{\"a\":\"\\u12g4\"}", "invalid character 'g' in \\u hexadecimal character escape"),
                // an escape cut short by the end of the body: Go's scanner reads a space there (go1.19 encoding/json)
                Arguments.of("{\"a\":\"abc\\", "invalid character ' ' in string escape code"),
                Arguments.of("{\"a\":\"ab\\u12", "invalid character ' ' in \\u hexadecimal character escape"),
                Arguments.of("{\"a\":\"ab", "unexpected end of JSON input"),
                Arguments.of("{\"a\":[1 2]}", "invalid character '2' after array element"),
                Arguments.of("{\"a\":1 \"b\":2}", "invalid character '\"' after object key:value pair"),
                Arguments.of("{\"a\":\"\n\"}", "invalid character '\\n' in string literal"),
                Arguments.of("{'a':1}", "invalid character '\\'' looking for beginning of object key string"),
                Arguments.of("{\"a\":1}}", "invalid character '}' after top-level value"),
                Arguments.of("\"\u00e9\"", "json: cannot unmarshal string into Go value of type server.ConnzEventOptions"),
                Arguments.of("{\"a\":1.5e+}", "invalid character '}' in exponent of numeric literal"),
                Arguments.of("{\"a\":-01}", "invalid character '1' after object key:value pair"),
                Arguments.of("{\"a\":[1,]}", "invalid character ']' looking for beginning of value"),
                Arguments.of("{\"a\":{\"b\":}}", "invalid character '}' looking for beginning of value"),
                Arguments.of("x", "invalid character 'x' looking for beginning of value"),
                Arguments.of("{\"a\":nulL}", "invalid character 'L' in literal null (expecting 'l')"),
                Arguments.of("{\"a\":fals}", "invalid character '}' in literal false (expecting 'e')"),
                Arguments.of("{\"a\":Infinity}", "invalid character 'I' looking for beginning of value"),
                Arguments.of("{\"a\":\"abc", "unexpected end of JSON input"),
                Arguments.of("{\"a\":1", "unexpected end of JSON input"),
                Arguments.of("{\"a\"", "unexpected end of JSON input"),
                Arguments.of("{", "unexpected end of JSON input"));
    }

    @ParameterizedTest
    @MethodSource("captured")
    void decodesAsTheReference(String body, String error) {
        GoJson.Decoded d = GoJson.decode(MAPPER, body.getBytes(StandardCharsets.UTF_8), SysOptions.CONNZ);
        assertEquals(error, d.error(), body);
    }

    @Test
    void keysMatchInAnyCaseAndNullsLeaveFieldsUnset() {
        GoJson.Decoded d = GoJson.decode(MAPPER,
                "{\"OFFSET\":2,\"limit\":null,\"extra\":[1]}".getBytes(StandardCharsets.UTF_8), SysOptions.CONNZ);
        assertEquals("{\"offset\":2,\"extra\":[1]}", d.options().toString());
    }

    @Test
    void emptyAndWhitespaceBodies() {
        assertEquals("{}", GoJson.decode(MAPPER, new byte[0], SysOptions.VARZ).options().toString());
        assertEquals("unexpected end of JSON input",
                GoJson.decode(MAPPER, "  ".getBytes(StandardCharsets.UTF_8), SysOptions.VARZ).error());
    }
}
