package io.jetkv.protocol;

/**
 * Subject rules of the NATS protocol: validity and wildcard matching ({@code *} one token, {@code >} one or
 * more trailing tokens). A {@code *} or {@code >} inside a longer token is a literal character.
 *
 * <p>Pure functions; safe from any thread.
 */
public final class Subject {
    private Subject() {}

    /** A subject a client may subscribe to: non-empty tokens, no whitespace, {@code >} only last. */
    public static boolean isValid(String subject) {
        return check(subject, true, true);
    }

    /** A subject a message may be published to: valid and without wildcard tokens. */
    public static boolean isValidLiteral(String subject) {
        return check(subject, false, true);
    }

    /**
     * The client protocol's check (SUB, and PUB in pedantic mode) in nats-server 2.9: only the token structure
     * counts. Blanks cannot reach it (they separate arguments), and other whitespace such as a form feed is
     * accepted as part of a token.
     */
    public static boolean isWellFormed(String subject, boolean wildcardsAllowed) {
        return check(subject, wildcardsAllowed, false);
    }

    /** True when the subject has an empty token (leading, trailing or double dot), or is empty. */
    public static boolean hasEmptyToken(String subject) {
        int n = subject.length();
        return n == 0 || subject.charAt(0) == '.' || subject.charAt(n - 1) == '.' || subject.contains("..");
    }

    /** True when some token is a lone {@code *} or {@code >}. Does not check validity. */
    public static boolean hasWildcard(String subject) {
        int n = subject.length();
        for (int i = 0; i < n; i++) {
            char c = subject.charAt(i);
            if ((c == '*' || c == '>')
                    && (i == 0 || subject.charAt(i - 1) == '.')
                    && (i + 1 == n || subject.charAt(i + 1) == '.')) {
                return true;
            }
        }
        return false;
    }

    private static boolean check(String subject, boolean wildcardsAllowed, boolean noWhitespace) {
        int n = subject == null ? 0 : subject.length();
        if (n == 0) {
            return false;
        }
        int tokenStart = 0;
        for (int i = 0; i <= n; i++) {
            char c = i == n ? '.' : subject.charAt(i);
            if (c == '.') {
                int len = i - tokenStart;
                if (len == 0) {
                    return false;
                }
                if (len == 1) {
                    char t = subject.charAt(tokenStart);
                    if (t == '*' || t == '>') {
                        if (!wildcardsAllowed) {
                            return false;
                        }
                        // '>' must be the last token
                        if (t == '>' && i != n) {
                            return false;
                        }
                    }
                }
                tokenStart = i + 1;
            } else if (noWhitespace && (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f')) {
                return false;
            }
        }
        return true;
    }

    /** True when the literal {@code subject} is matched by {@code pattern} (which may hold wildcards). */
    public static boolean matches(String pattern, String subject) {
        int pn = pattern.length();
        int sn = subject.length();
        int pi = 0;
        int si = 0;
        while (true) {
            int pEnd = tokenEnd(pattern, pi);
            int sEnd = tokenEnd(subject, si);
            int pLen = pEnd - pi;
            if (pLen == 1 && pattern.charAt(pi) == '>') {
                return true; // the subject still has at least this token
            }
            if (!(pLen == 1 && pattern.charAt(pi) == '*')
                    && (pLen != sEnd - si || !pattern.regionMatches(pi, subject, si, pLen))) {
                return false;
            }
            boolean patternDone = pEnd == pn;
            boolean subjectDone = sEnd == sn;
            if (patternDone || subjectDone) {
                return patternDone && subjectDone;
            }
            pi = pEnd + 1;
            si = sEnd + 1;
        }
    }

    private static int tokenEnd(String s, int from) {
        int dot = s.indexOf('.', from);
        return dot < 0 ? s.length() : dot;
    }

    /**
     * True when some literal subject could match both patterns (nats-server's {@code SubjectsCollide});
     * used to refuse overlapping stream subjects.
     */
    public static boolean collide(String a, String b) {
        String[] ta = a.split("\\.", -1);
        String[] tb = b.split("\\.", -1);
        int i = 0;
        for (; i < ta.length && i < tb.length; i++) {
            boolean fwa = ta[i].equals(">");
            boolean fwb = tb[i].equals(">");
            if (fwa || fwb) {
                return true;
            }
            if (ta[i].equals("*") || tb[i].equals("*")) {
                continue;
            }
            if (!ta[i].equals(tb[i])) {
                return false;
            }
        }
        return ta.length == tb.length;
    }

    /**
     * True when every subject matched by {@code sub} is also matched by {@code sup} (pattern containment),
     * e.g. {@code foo.>} contains {@code foo.bar.*}.
     */
    public static boolean isSubsetOf(String sub, String sup) {
        String[] ts = sub.split("\\.", -1);
        String[] tp = sup.split("\\.", -1);
        for (int i = 0; i < tp.length; i++) {
            if (tp[i].equals(">")) {
                return ts.length > i;
            }
            if (i >= ts.length) {
                return false;
            }
            if (tp[i].equals("*")) {
                if (ts[i].equals(">")) {
                    return false;
                }
                continue;
            }
            if (!tp[i].equals(ts[i])) {
                return false;
            }
        }
        return ts.length == tp.length;
    }
}
