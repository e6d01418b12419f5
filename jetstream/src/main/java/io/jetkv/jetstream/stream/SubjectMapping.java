package io.jetkv.jetstream.stream;

import java.util.ArrayList;
import java.util.List;

/**
 * Subject mapping for {@code republish}: the destination may use {@code *} and {@code >} (taking the
 * source's wildcard tokens in order) or {@code {{wildcard(n)}}} / {@code $n} (the n-th {@code *} token).
 *
 * <p>Stateless; safe from any thread.
 */
final class SubjectMapping {
    private SubjectMapping() {}

    /** Maps a literal {@code subject} matched by {@code src} onto {@code dest}. */
    static String map(String src, String dest, String subject) {
        String[] s = src.split("\\.", -1);
        String[] t = subject.split("\\.", -1);
        List<String> stars = new ArrayList<>();
        String rest = null;
        for (int i = 0; i < s.length && i < t.length; i++) {
            if (s[i].equals("*")) {
                stars.add(t[i]);
            } else if (s[i].equals(">")) {
                rest = String.join(".", java.util.Arrays.copyOfRange(t, i, t.length));
                break;
            }
        }
        String[] d = dest.split("\\.", -1);
        StringBuilder out = new StringBuilder(subject.length() + dest.length());
        int nextStar = 0;
        for (int i = 0; i < d.length; i++) {
            if (i > 0) {
                out.append('.');
            }
            String tok = d[i];
            if (tok.equals("*")) {
                out.append(nextStar < stars.size() ? stars.get(nextStar++) : "*");
            } else if (tok.equals(">")) {
                out.append(rest != null ? rest : ">");
            } else {
                int n = wildcardIndex(tok);
                out.append(n > 0 && n <= stars.size() ? stars.get(n - 1) : tok);
            }
        }
        return out.toString();
    }

    private static int wildcardIndex(String tok) {
        String inner = null;
        if (tok.startsWith("{{") && tok.endsWith("}}")) {
            String f = tok.substring(2, tok.length() - 2).trim();
            if (f.toLowerCase().startsWith("wildcard(") && f.endsWith(")")) {
                inner = f.substring(9, f.length() - 1).trim();
            }
        } else if (tok.startsWith("$") && tok.length() > 1) {
            inner = tok.substring(1);
        }
        if (inner == null) {
            return -1;
        }
        try {
            return Integer.parseInt(inner);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
