package io.jetkv.conformance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A plain TCP client speaking raw protocol bytes, for byte-exact transcripts. */
final class RawClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String info;

    RawClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        // a guard against a hung test, not a synchronisation device: every read waits for a known terminator
        socket.setSoTimeout(5000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
        info = readLine();
    }

    String info() {
        return info;
    }

    void send(String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Sends one byte per write, flushing each, to exercise split reads on the server. */
    void sendByteByByte(String s) throws IOException {
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            out.write(b);
            out.flush();
        }
    }

    String readLine() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed before end of line: " + buf);
            }
            buf.write(c);
            if (prev == '\r' && c == '\n') {
                return buf.toString(StandardCharsets.UTF_8);
            }
            prev = c;
        }
    }

    /** Reads exactly {@code n} bytes (a payload whose size the preceding control line announced). */
    byte[] readExactly(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new IOException("closed after " + b.length + " of " + n + " bytes");
        }
        return b;
    }

    /** Sets how long a read may block before it fails with {@link SocketTimeoutException}. */
    void readTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    /** Reads until the text read so far ends with {@code terminator}, or the server closes. */
    String readUntil(String terminator) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        while (true) {
            String s = buf.toString(StandardCharsets.UTF_8);
            if (s.endsWith(terminator)) {
                return s;
            }
            int n;
            try {
                n = in.read(chunk);
            } catch (SocketTimeoutException e) {
                throw new IOException("no " + terminator.strip() + " within the guard time; got: " + s, e);
            }
            if (n < 0) {
                return s + "<EOF>";
            }
            buf.write(chunk, 0, n);
        }
    }

    /** Reads everything until the server closes the connection. */
    String readToClose() throws IOException {
        return readUntil("\u0000never\u0000");
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
