package io.jetkv.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Subject patterns of account exports and imports: validity, whether an import lies within an export, and the
 * mapping of a subject from one pattern to another by its wildcards ({@code a.svc.>} to {@code svc.>}, prefixes).
 * Pure; any thread.
 */
public final class SubjectMap {
    private SubjectMap() {}

    /** Non-empty tokens without spaces; {@code *} and a last {@code >} only when {@code wildcards}. */
    public static boolean isValid(String subject, boolean wildcards) {
        if (subject == null || subject.isEmpty()) {
            return false;
        }
        String[] tokens = subject.split("\\.", -1);
        for (int i = 0; i < tokens.length; i++) {
            String t = tokens[i];
            if (t.isEmpty() || t.chars().anyMatch(Character::isWhitespace)) {
                return false;
            }
            boolean wild = t.equals("*") || t.equals(">");
            if (wild && !wildcards) {
                return false;
            }
            if (t.equals(">") && i != tokens.length - 1) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code to} has the same wildcards, in the same order, as {@code from} (or none at all). */
    public static boolean compatible(String from, String to) {
        List<String> a = wildcards(from);
        List<String> b = wildcards(to);
        return b.isEmpty() || a.equals(b);
    }

    /** Whether every subject {@code inner} matches is matched by {@code outer}. */
    public static boolean isSubset(String inner, String outer) {
        String[] in = inner.split("\\.");
        String[] out = outer.split("\\.");
        for (int i = 0; i < out.length; i++) {
            if (out[i].equals(">")) {
                return in.length > i;
            }
            if (i >= in.length) {
                return false;
            }
            if (out[i].equals("*")) {
                if (in[i].equals(">")) {
                    return false;
                }
                continue;
            }
            if (!out[i].equals(in[i])) {
                return false;
            }
        }
        return in.length == out.length;
    }

    /**
     * {@code subject}, which {@code fromPattern} matches, written in {@code toPattern}: each wildcard of
     * {@code toPattern} takes what the same wildcard of {@code fromPattern} matched. A {@code toPattern} without
     * wildcards is the subject itself.
     */
    public static String map(String fromPattern, String toPattern, String subject) {
        if (fromPattern.equals(toPattern)) {
            return subject;
        }
        String[] from = fromPattern.split("\\.");
        String[] subj = subject.split("\\.");
        List<String> stars = new ArrayList<>();
        String tail = null;
        for (int i = 0; i < from.length && i < subj.length; i++) {
            if (from[i].equals("*")) {
                stars.add(subj[i]);
            } else if (from[i].equals(">")) {
                tail = String.join(".", java.util.Arrays.asList(subj).subList(i, subj.length));
                break;
            }
        }
        String[] to = toPattern.split("\\.");
        StringBuilder sb = new StringBuilder(subject.length() + 16);
        int star = 0;
        for (int i = 0; i < to.length; i++) {
            if (i > 0) {
                sb.append('.');
            }
            if (to[i].equals("*") && star < stars.size()) {
                sb.append(stars.get(star++));
            } else if (to[i].equals(">") && tail != null) {
                sb.append(tail);
            } else {
                sb.append(to[i]);
            }
        }
        return sb.toString();
    }

    private static List<String> wildcards(String pattern) {
        List<String> out = new ArrayList<>();
        for (String t : pattern.split("\\.")) {
            if (t.equals("*") || t.equals(">")) {
                out.add(t);
            }
        }
        return out;
    }
}
