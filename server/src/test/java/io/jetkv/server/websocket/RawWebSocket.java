package io.jetkv.server.websocket;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.Inflater;

/**
 * A WebSocket client on a plain socket, for tests that need to see the frames: sends the upgrade request
 * given, reads the HTTP answer, then writes masked (or deliberately unmasked) frames and reads frames.
 */
final class RawWebSocket implements AutoCloseable {
    record Frame(boolean fin, boolean rsv1, int opcode, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int closeStatus() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    final String response;

    private RawWebSocket(Socket socket, String response) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
        this.response = response;
    }

    static String key() {
        byte[] k = new byte[16];
        ThreadLocalRandom.current().nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    /** A valid upgrade request for {@code host:port}, with extra header lines (each ending in CRLF). */
    static String upgrade(int port, String extraHeaders) {
        return "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key() + "\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n";
    }

    static RawWebSocket open(int port, String request) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        // the HTTP answer: headers up to the blank line, then a body of Content-Length bytes
        DataInputStream in = new DataInputStream(s.getInputStream());
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            String h = head.toString(StandardCharsets.US_ASCII);
            if (h.endsWith("\r\n\r\n")) {
                break;
            }
        }
        String h = head.toString(StandardCharsets.US_ASCII);
        int length = 0;
        for (String line : h.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        byte[] body = new byte[length];
        in.readFully(body);
        RawWebSocket ws = new RawWebSocket(s, h + new String(body, StandardCharsets.US_ASCII));
        return ws;
    }

    String status() {
        return response.substring(0, response.indexOf("\r\n"));
    }

    void send(int opcode, byte[] payload, boolean masked) throws IOException {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(0x80 | opcode);
        int maskBit = masked ? 0x80 : 0;
        if (payload.length < 126) {
            f.write(maskBit | payload.length);
        } else if (payload.length < 65536) {
            f.write(maskBit | 126);
            f.write(payload.length >> 8);
            f.write(payload.length & 0xff);
        } else {
            f.write(maskBit | 127);
            for (int i = 7; i >= 0; i--) {
                f.write((int) ((long) payload.length >> (8 * i)) & 0xff);
            }
        }
        byte[] data = payload.clone();
        if (masked) {
            byte[] mask = new byte[4];
            ThreadLocalRandom.current().nextBytes(mask);
            f.write(mask);
            for (int i = 0; i < data.length; i++) {
                data[i] ^= mask[i % 4];
            }
        }
        f.write(data);
        out.write(f.toByteArray());
        out.flush();
    }

    void sendText(String s) throws IOException {
        send(2, s.getBytes(StandardCharsets.UTF_8), true);
    }

    Frame read() throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        long len = b1 & 0x7f;
        if (len == 126) {
            len = in.readUnsignedShort();
        } else if (len == 127) {
            len = in.readLong();
        }
        if ((b1 & 0x80) != 0) {
            throw new IOException("a server frame must not be masked");
        }
        byte[] p = new byte[(int) len];
        in.readFully(p);
        return new Frame((b0 & 0x80) != 0, (b0 & 0x40) != 0, b0 & 0x0f, p);
    }

    /** Reads data frames, inflating compressed ones, until {@code want} appears in the text read so far. */
    String readUntil(String want) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().contains(want)) {
            Frame f = read();
            if (f.opcode() == 8) {
                throw new IOException("closed: " + f.closeStatus() + " after " + sb);
            }
            sb.append(new String(f.rsv1() ? inflate(f.payload()) : f.payload(), StandardCharsets.UTF_8));
        }
        return sb.toString();
    }

    static byte[] inflate(byte[] deflated) throws IOException {
        Inflater inf = new Inflater(true);
        byte[] withTail = new byte[deflated.length + 4];
        System.arraycopy(deflated, 0, withTail, 0, deflated.length);
        withTail[deflated.length + 2] = (byte) 0xff;
        withTail[deflated.length + 3] = (byte) 0xff;
        inf.setInput(withTail);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            while (!inf.needsInput() || inf.getRemaining() > 0) {
                int n = inf.inflate(buf);
                if (n == 0 && (inf.needsInput() || inf.finished())) {
                    break;
                }
                o.write(buf, 0, n);
            }
        } catch (java.util.zip.DataFormatException e) {
            throw new IOException(e);
        } finally {
            inf.end();
        }
        return o.toByteArray();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
