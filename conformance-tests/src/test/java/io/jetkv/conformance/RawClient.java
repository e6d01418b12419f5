package io.jetkv.conformance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A plain TCP client speaking raw protocol bytes, for byte-exact transcripts. */
final class RawClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String info;

    RawClient(int port) throws IOException {
        this(port, true);
    }

    /** With {@code readInfo} false, the server's first bytes are left for the test to read. */
    RawClient(int port, boolean readInfo) throws IOException {
        socket = new Socket("127.0.0.1", port);
        // a guard against a hung test, not a synchronisation device: every read waits for a known terminator
        socket.setSoTimeout(5000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
        info = readInfo ? readLine() : null;
    }

    String info() {
        return info;
    }

    void send(String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /**
     * Sends one byte per write, flushing each, to exercise split reads on the server. Returns false when a write
     * failed because the server had already closed the connection (it answered an earlier byte by closing, and
     * the kernel refused the next one after the server's reset): what the server sent before can still be read.
     */
    boolean sendByteByByte(String s) throws IOException {
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            try {
                out.write(b);
                out.flush();
            } catch (SocketException e) {
                return false;
            }
        }
        return true;
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

    /**
     * Reads until the text read so far ends with {@code terminator}, or the server closes ({@code <EOF>}).
     *
     * <p>A connection reset counts as the close. A server that closes its socket with unread input in it (a
     * client still sending after the server gave up on it) makes its kernel send a reset instead of an orderly
     * end of stream; Linux still hands over, in order, every byte that arrived before the reset, so what the
     * server sent is read in full either way, and a reset, like an end of stream, can only come from the
     * server ending the connection.
     */
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
            } catch (SocketException e) {
                if (!"Connection reset".equals(e.getMessage())) {
                    throw e;
                }
                n = -1;
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
