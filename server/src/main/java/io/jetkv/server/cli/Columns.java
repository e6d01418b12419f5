package io.jetkv.server.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The "Label: value" block natscli prints for {@code kv info} and {@code kv add}: a heading, section titles,
 * and rows whose labels are right-aligned two spaces past the longest one. Built and printed on the CLI's
 * thread.
 */
final class Columns {
    private record Row(String label, String value) {}

    private final String heading;
    private final List<Object> rows = new ArrayList<>(); // a Row, or a String section title

    Columns(String heading) {
        this.heading = heading;
    }

    Columns section(String title) {
        rows.add(title);
        return this;
    }

    Columns row(String label, Object value) {
        rows.add(new Row(label, String.valueOf(value)));
        return this;
    }

    Columns rowIfNotEmpty(String label, String value) {
        return value == null || value.isEmpty() ? this : row(label, value);
    }

    void print(PrintStream out) {
        int longest = 0;
        for (Object r : rows) {
            if (r instanceof Row row) {
                longest = Math.max(longest, row.label().length());
            }
        }
        if (!heading.isEmpty()) {
            out.println(heading);
            out.println();
        }
        boolean first = true;
        for (Object r : rows) {
            if (r instanceof Row row) {
                out.println(" ".repeat(longest - row.label().length() + 2) + row.label() + ": " + row.value());
            } else {
                // a title after rows gets a blank line above it, and always one below
                if (!first) {
                    out.println();
                }
                out.println(r + ":");
                out.println();
            }
            first = false;
        }
    }
}
