package io.jetkv.server.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A boxed table in the rounded style natscli renders (go-pretty {@code StyleRounded}): an optional centred
 * title, a header row, then the rows. Columns holding only numbers are right-aligned, as go-pretty does for
 * numeric cells; a cell with line breaks spans several lines. Built and printed on the CLI's thread.
 *
 * <pre>
 * ╭──────────────────╮
 * │      Title       │
 * ├────────┬─────────┤
 * │ Header │ Header  │
 * ├────────┼─────────┤
 * │ cell   │       1 │
 * ╰────────┴─────────╯
 * </pre>
 */
final class Table {
    private final String title;
    private final List<String> headers;
    private final boolean[] numeric;
    private final List<List<String>> rows = new ArrayList<>();

    Table(String title, String... headers) {
        this.title = title;
        this.headers = List.of(headers);
        this.numeric = new boolean[headers.length];
        Arrays.fill(numeric, true);
    }

    /** Cells are {@code String}s (left-aligned) or {@code Number}s (right-aligned when the whole column is). */
    Table row(Object... cells) {
        List<String> row = new ArrayList<>(cells.length);
        for (int i = 0; i < cells.length; i++) {
            numeric[i] &= cells[i] instanceof Number;
            row.add(String.valueOf(cells[i]));
        }
        rows.add(row);
        return this;
    }

    void print(PrintStream out) {
        int n = headers.size();
        int[] width = new int[n];
        for (int i = 0; i < n; i++) {
            width[i] = len(headers.get(i));
            for (List<String> row : rows) {
                for (String line : row.get(i).split("\n", -1)) {
                    width[i] = Math.max(width[i], len(line));
                }
            }
        }
        int inner = n - 1; // the column separators
        for (int w : width) {
            inner += w + 2;
        }
        if (title != null && len(title) + 2 > inner) {
            // a title wider than the columns widens the last column rather than overflowing the box
            width[n - 1] += len(title) + 2 - inner;
            inner = len(title) + 2;
        }
        if (title != null) {
            out.println("╭" + "─".repeat(inner) + "╮");
            int space = inner - 2 - len(title);
            // go-pretty centres with the odd space on the left
            out.println("│ " + " ".repeat(space - space / 2) + title + " ".repeat(space / 2) + " │");
            out.println(line("├", "┬", "┤", width));
        } else {
            out.println(line("╭", "┬", "╮", width));
        }
        boolean[] noNumbers = new boolean[n];
        out.println(cells(headers, width, noNumbers));
        out.println(line("├", "┼", "┤", width));
        for (List<String> row : rows) {
            // a cell with line breaks makes the row as tall as its lines, as go-pretty renders it
            List<String[]> lines = new ArrayList<>();
            int height = 1;
            for (String cell : row) {
                String[] l = cell.split("\n", -1);
                lines.add(l);
                height = Math.max(height, l.length);
            }
            for (int h = 0; h < height; h++) {
                List<String> physical = new ArrayList<>();
                for (String[] l : lines) {
                    physical.add(h < l.length ? l[h] : "");
                }
                out.println(cells(physical, width, numeric));
            }
        }
        out.println(line("╰", "┴", "╯", width));
    }

    private static String line(String left, String mid, String right, int[] width) {
        StringBuilder sb = new StringBuilder(left);
        for (int i = 0; i < width.length; i++) {
            sb.append(i == 0 ? "" : mid).append("─".repeat(width[i] + 2));
        }
        return sb.append(right).toString();
    }

    private static String cells(List<String> row, int[] width, boolean[] rightAligned) {
        StringBuilder sb = new StringBuilder("│");
        for (int i = 0; i < width.length; i++) {
            String cell = row.get(i);
            String pad = " ".repeat(width[i] - len(cell));
            sb.append(' ').append(rightAligned[i] ? pad + cell : cell + pad).append(" │");
        }
        return sb.toString();
    }

    /** Display width in code points (the values shown here are printable text or base64). */
    private static int len(String s) {
        return s.codePointCount(0, s.length());
    }
}
