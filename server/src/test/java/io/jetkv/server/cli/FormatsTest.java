package io.jetkv.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The go-humanize, Go duration and natscli table formats the CLI reproduces. */
class FormatsTest {
    @Test
    void bytesLikeGoHumanizeIBytes() {
        assertEquals("0 B", Formats.bytes(0));
        assertEquals("9 B", Formats.bytes(9));
        assertEquals("155 B", Formats.bytes(155));
        assertEquals("1.0 KiB", Formats.bytes(1024));
        assertEquals("1.5 KiB", Formats.bytes(1536));
        assertEquals("1.0 MiB", Formats.bytes(1024 * 1024));
        assertEquals("10 MiB", Formats.bytes(10L * 1024 * 1024));
    }

    @Test
    void countsWithThousandsSeparators() {
        assertEquals("0", Formats.comma(0));
        assertEquals("1,234,567", Formats.comma(1_234_567));
    }

    @Test
    void goDurationText() {
        assertEquals("0s", Formats.goDuration(Duration.ZERO));
        assertEquals("850ns", Formats.goDuration(Duration.ofNanos(850)));
        assertEquals("64.996µs", Formats.goDuration(Duration.ofNanos(64_996)));
        assertEquals("1.5ms", Formats.goDuration(Duration.ofNanos(1_500_000)));
        assertEquals("1h0m0s", Formats.goDuration(Duration.ofHours(1)));
        assertEquals("1m30.5s", Formats.goDuration(Duration.ofMillis(90_500)));
    }

    @Test
    void humanDurationsLikeNatscli() {
        assertEquals("never", Formats.humanDuration(null));
        assertEquals("811ms", Formats.humanDuration(Duration.ofNanos(811_400_000)));
        assertEquals("1.47s", Formats.humanDuration(Duration.ofMillis(1_470)));
        assertEquals("5m0s", Formats.humanDuration(Duration.ofMinutes(5)));
        assertEquals("1h0m0s", Formats.humanDuration(Duration.ofHours(1)));
        assertEquals("2d0h0m0s", Formats.humanDuration(Duration.ofDays(2)));
    }

    @Test
    void parsesGoDurationsAndDays() {
        assertEquals(Duration.ofHours(1), Formats.parseDuration("1h"));
        assertEquals(Duration.ofMinutes(90), Formats.parseDuration("1h30m"));
        assertEquals(Duration.ofMillis(1500), Formats.parseDuration("1.5s"));
        assertEquals(Duration.ofDays(2), Formats.parseDuration("2d"));
        assertEquals(Duration.ZERO, Formats.parseDuration("0"));
        assertThrows(CliException.class, () -> Formats.parseDuration("1x"));
        assertThrows(CliException.class, () -> Formats.parseDuration(""));
    }

    @Test
    void parsesSizesInPowersOf1024() {
        assertEquals(1024, Formats.parseBytes("1024"));
        assertEquals(1024, Formats.parseBytes("1K"));
        assertEquals(1024, Formats.parseBytes("1KB"));
        assertEquals(1024, Formats.parseBytes("1KiB"));
        assertEquals(5L * 1024 * 1024, Formats.parseBytes("5mb"));
        assertEquals(-1, Formats.parseBytes("-1"));
        assertThrows(CliException.class, () -> Formats.parseBytes("lots"));
    }

    @Test
    void unprintableValuesShownAsBase64() {
        assertEquals("Value 1", Formats.printable("Value 1".getBytes(StandardCharsets.UTF_8)));
        assertEquals("aGkK", Formats.printable("hi\n".getBytes(StandardCharsets.UTF_8)));
        assertEquals("/w==", Formats.printable(new byte[] {(byte) 0xff}));
    }

    @Test
    void longValuesAbbreviated() {
        String v = "0123456789".repeat(5);
        assertEquals("012345678901234...567890123456789", Formats.abbreviate(v));
        assertEquals("short", Formats.abbreviate("short"));
    }

    @Test
    void tableRendersLikeGoPrettyRounded() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        new Table("T", "Name", "N").row("a", 1L).row("bb\ncc", 22L).print(new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertEquals(
                List.of(
                        "╭───────────╮",
                        "│     T     │",
                        "├──────┬────┤",
                        "│ Name │ N  │",
                        "├──────┼────┤",
                        "│ a    │  1 │",
                        "│ bb   │ 22 │",
                        "│ cc   │    │",
                        "╰──────┴────╯",
                        ""),
                List.of(buf.toString(StandardCharsets.UTF_8).split("\n", -1)));
    }

    @Test
    void columnsRightAlignLabels() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        new Columns("Heading")
                .section("Configuration")
                .row("Bucket Name", "b")
                .row("Maximum Age", "unlimited")
                .row("JetStream Stream", "KV_b")
                .print(new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertEquals(
                "Heading\n\nConfiguration:\n\n       Bucket Name: b\n       Maximum Age: unlimited\n  JetStream Stream: KV_b\n",
                buf.toString(StandardCharsets.UTF_8));
    }
}
