package io.jetkv.jetstream.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TarTest {

    private static TarReader reader(byte[] archive) {
        return new TarReader(new ByteArrayInputStream(archive), 1 << 20);
    }

    @Test
    void roundTripsEntriesOfEverySize() throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        int[] sizes = {0, 1, 511, 512, 513, 5000};
        try (TarWriter w = new TarWriter(sink, 1_700_000_000L)) {
            for (int s : sizes) {
                byte[] data = new byte[s];
                Arrays.fill(data, (byte) s);
                w.add("dir/entry-" + s, data);
            }
        }
        assertEquals(0, sink.size() % 512);
        TarReader r = reader(sink.toByteArray());
        for (int s : sizes) {
            TarReader.Entry e = r.next();
            assertEquals("dir/entry-" + s, e.name());
            byte[] want = new byte[s];
            Arrays.fill(want, (byte) s);
            assertArrayEquals(want, e.data());
        }
        assertNull(r.next());
        assertNull(r.next());
    }

    /** Go's archive/tar writes PAX records for long names; GNU tar writes 'L' entries; directories are skipped. */
    @Test
    void readsPaxAndGnuLongNamesAndSkipsDirectories() throws IOException {
        String longName = "obs/" + "c".repeat(150) + "/o.dat";
        String pax = record("path", longName) + record("mtime", "1700000000.5");
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(header("obs/", 0, '5'));
        b.writeBytes(header("PaxHeaders/x", pax.length(), 'x'));
        b.writeBytes(padded(pax.getBytes(StandardCharsets.UTF_8)));
        b.writeBytes(header("short", 3, '0'));
        b.writeBytes(padded("abc".getBytes(StandardCharsets.US_ASCII)));
        byte[] gnuName = ("msgs/" + "m".repeat(120) + ".blk\0").getBytes(StandardCharsets.US_ASCII);
        b.writeBytes(header("././@LongLink", gnuName.length, 'L'));
        b.writeBytes(padded(gnuName));
        b.writeBytes(header("msgs/trunc", 2, '0'));
        b.writeBytes(padded("xy".getBytes(StandardCharsets.US_ASCII)));
        b.writeBytes(new byte[1024]);

        TarReader r = reader(b.toByteArray());
        TarReader.Entry first = r.next();
        assertEquals(longName, first.name());
        assertEquals("abc", new String(first.data(), StandardCharsets.US_ASCII));
        TarReader.Entry second = r.next();
        assertEquals("msgs/" + "m".repeat(120) + ".blk", second.name());
        assertEquals("xy", new String(second.data(), StandardCharsets.US_ASCII));
        assertNull(r.next());
    }

    @Test
    void refusesCorruptHeadersAndCutArchives() throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(sink, 0)) {
            w.add("a", new byte[600]);
        }
        byte[] bad = sink.toByteArray();
        bad[0] = 'b'; // the checksum no longer matches
        assertThrows(IOException.class, () -> reader(bad).next());
        byte[] cut = Arrays.copyOf(sink.toByteArray(), 700);
        assertThrows(IOException.class, () -> reader(cut).next());
        TarReader small = new TarReader(new ByteArrayInputStream(sink.toByteArray()), 100);
        assertThrows(IOException.class, small::next); // larger than the entry limit
    }

    private static String record(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int len = body.length() + 1;
        while (Integer.toString(len).length() + body.length() != len) {
            len++;
        }
        return len + body;
    }

    private static byte[] padded(byte[] data) {
        return Arrays.copyOf(data, (data.length + 511) / 512 * 512);
    }

    /** A header written by TarWriter with its type flag changed and checksum redone. */
    private static byte[] header(String name, int size, char type) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        new TarWriter(sink, 0).add(name, new byte[size]);
        byte[] h = Arrays.copyOf(sink.toByteArray(), 512);
        h[156] = (byte) type;
        Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte x : h) {
            sum += x & 0xff;
        }
        byte[] octal = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(octal, 0, h, 148, 8);
        return h;
    }
}
