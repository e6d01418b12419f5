package io.jetkv.jetstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The encoding of the ops a replicated stream's log carries. */
class StreamOpTest {

    @Test
    void expireCarriesItsLimit() {
        byte[] entry = StreamOp.encode(7, new StreamOp.Expire(123_456_789L, 42));
        assertEquals(7, StreamOp.opId(entry));
        assertEquals(new StreamOp.Expire(123_456_789L, 42), StreamOp.decode(entry));
    }

    /** An entry from before the limit was recorded applies with the limit every replica used then. */
    @Test
    void anExpireWithoutALimitUsesTheOldFixedOne() {
        byte[] entry = StreamOp.encode(7, new StreamOp.Expire(99L, 42));
        byte[] old = Arrays.copyOf(entry, entry.length - 4);
        assertEquals(new StreamOp.Expire(99L, StreamOp.Expire.UNRECORDED_LIMIT), StreamOp.decode(old));
    }
}
