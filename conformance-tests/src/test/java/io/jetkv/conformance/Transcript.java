package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw protocol exchange: bytes sent after the INFO line and the exact bytes expected back.
 *
 * @param unordered compare MSG frames as a sorted list (copies to different subscriptions have no order)
 */
record Transcript(String name, String input, String expected, Transcript.End end, boolean unordered) {

    /** How a transcript ends: after the PONG of a final PING, or when the server closes the connection. */
    enum End {
        PONG,
        CLOSE
    }

    @Override
    public String toString() {
        return name;
    }

    static Transcript t(String name, String input, String expected) {
        return new Transcript(name, input, expected, End.PONG, false);
    }

    static Transcript closes(String name, String input, String expected) {
        return new Transcript(name, input, expected + "<EOF>", End.CLOSE, false);
    }

    static Transcript unordered(String name, String input, String expected) {
        return new Transcript(name, input, expected, End.PONG, true);
    }

    /** Runs the transcript against the server on {@code port} and asserts the answer. */
    static void check(Transcript t, int port, String who, boolean byteByByte) throws IOException {
        try (RawClient c = new RawClient(port)) {
            if (byteByByte) {
                c.sendByteByByte(t.input());
            } else {
                c.send(t.input());
            }
            String got = t.end() == End.PONG ? c.readUntil("PONG\r\n") : c.readToClose();
            if (t.unordered()) {
                assertEquals(frames(t.expected()), frames(got), who + ": " + t.name());
            } else {
                assertEquals(t.expected(), got, who + ": " + t.name());
            }
        }
    }

    /** Splits server output into frames (a MSG line with its payload is one frame), sorted. */
    static List<String> frames(String s) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            int eol = s.indexOf("\r\n", i);
            if (eol < 0) {
                out.add(s.substring(i));
                break;
            }
            String line = s.substring(i, eol + 2);
            int next = eol + 2;
            if (line.startsWith("MSG ") || line.startsWith("HMSG ")) {
                String[] parts = line.trim().split(" +");
                int size = Integer.parseInt(parts[parts.length - 1]);
                next = Math.min(s.length(), next + size + 2);
                line = s.substring(i, next);
            }
            out.add(line);
            i = next;
        }
        out.sort(null);
        return out;
    }
}
