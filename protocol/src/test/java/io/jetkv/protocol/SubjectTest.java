package io.jetkv.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SubjectTest {

    @ParameterizedTest(name = "[{index}] \"{0}\" valid={1} literal={2}")
    @CsvSource(nullValues = "NULL", value = {
        // subject, isValid, isValidLiteral
        "foo,               true,  true",
        "foo.bar,           true,  true",
        "foo.bar.baz.qux.a.b.c.d.e.f.g.h.i.j.k, true, true",
        "$JS.API.INFO,      true,  true",
        "_INBOX.abc123,     true,  true",
        "FOO.Bar,           true,  true",
        "a-b_c~d/e:f,       true,  true",
        "foo*,              true,  true",
        "*foo,              true,  true",
        "foo>,              true,  true",
        "f>.b*r,            true,  true",
        "**,                true,  true",
        ">>,                true,  true",
        "foo.**.bar,        true,  true",
        "föö.bär,           true,  true",
        "日本.語,            true,  true",
        "emoji.\uD83D\uDE00, true, true",
        "*,                 true,  false",
        ">,                 true,  false",
        "foo.*,             true,  false",
        "*.foo,             true,  false",
        "foo.*.bar,         true,  false",
        "foo.>,             true,  false",
        "*.>,               true,  false",
        "*.*.*,             true,  false",
        ">.foo,             false, false",
        "foo.>.bar,         false, false",
        ">.>,               false, false",
        "'',                false, false",
        "NULL,              false, false",
        ".,                 false, false",
        ".foo,              false, false",
        "foo.,              false, false",
        "foo..bar,          false, false",
        "foo.*.,            false, false",
        "'foo bar',         false, false",
        "'foo\tbar',        false, false",
        "'foo\rbar',        false, false",
        "'foo\nbar',        false, false",
        "'foo\fbar',        false, false",
        "' foo',            false, false",
        "'foo ',            false, false",
        "'foo. .bar',       false, false",
        "'* ',              false, false",
    })
    void validity(String subject, boolean valid, boolean literal) {
        assertEquals(valid, Subject.isValid(subject), "isValid");
        assertEquals(literal, Subject.isValidLiteral(subject), "isValidLiteral");
    }

    @ParameterizedTest(name = "[{index}] hasWildcard(\"{0}\") = {1}")
    @CsvSource({
        "foo,         false",
        "foo.bar,     false",
        "foo*,        false",
        "*foo,        false",
        "foo>,        false",
        ">foo,        false",
        "a.b*.c,      false",
        "a.>b.c,      false",
        "**,          false",
        "*,           true",
        ">,           true",
        "foo.*,       true",
        "*.foo,       true",
        "foo.*.bar,   true",
        "foo.>,       true",
        "a.b.c.d.e.>, true",
        // validity is not checked
        ">.foo,       true",
        "foo..*,      true",
    })
    void hasWildcard(String subject, boolean expected) {
        assertEquals(expected, Subject.hasWildcard(subject));
    }

    @ParameterizedTest(name = "[{index}] matches(\"{0}\", \"{1}\") = {2}")
    @CsvSource({
        // pattern, subject, matches
        "foo,           foo,             true",
        "foo,           bar,             false",
        "foo,           Foo,             false",
        "foo,           foo.bar,         false",
        "foo.bar,       foo,             false",
        "foo.bar,       foo.bar,         true",
        "foo.bar,       foo.baz,         false",
        "foo.bar,       foo.barx,        false",
        "foo.barx,      foo.bar,         false",
        "foo,           fo,              false",
        "fo,            foo,             false",
        // '*' matches exactly one token
        "*,             foo,             true",
        "*,             foo.bar,         false",
        "foo.*,         foo.bar,         true",
        "foo.*,         foo,             false",
        "foo.*,         foo.bar.baz,     false",
        "*.bar,         foo.bar,         true",
        "*.bar,         foo.baz,         false",
        "foo.*.baz,     foo.bar.baz,     true",
        "foo.*.baz,     foo.bar.bar,     false",
        "*.*,           a.b,             true",
        "*.*,           a,               false",
        "*.*,           a.b.c,           false",
        // '>' matches one or more trailing tokens
        ">,             foo,             true",
        ">,             foo.bar.baz,     true",
        "foo.>,         foo.bar,         true",
        "foo.>,         foo.bar.baz,     true",
        "foo.>,         foo,             false",
        "foo.>,         bar.baz,         false",
        "foo.>,         foox.bar,        false",
        "*.>,           a.b,             true",
        "*.>,           a,               false",
        "foo.*.>,       foo.a.b.c,       true",
        "foo.*.>,       foo.a,           false",
        // '*' and '>' inside a longer token are literal characters
        "foo*,          foo*,            true",
        "foo*,          foo,             false",
        "foo*,          foox,            false",
        "foo*.bar,      foo*.bar,        true",
        "foo>,          foo>,            true",
        "foo>,          foo.bar,         false",
        "foo>,          foox,            false",
        "f>.*,          f>.x,            true",
        "*foo,          xfoo,            false",
        // many tokens
        "a.b.c.d.e.f.g.h.i.j,   a.b.c.d.e.f.g.h.i.j,   true",
        "a.b.c.d.e.f.g.h.i.j,   a.b.c.d.e.f.g.h.i.k,   false",
        "a.*.c.*.e.*.g.*.i.*,   a.1.c.2.e.3.g.4.i.5,   true",
        "a.*.c.*.e.*.g.*.i.*,   a.1.c.2.e.3.g.4.i,     false",
        "a.b.c.d.>,             a.b.c.d.e.f.g.h.i.j,   true",
        "a.b.c.d.>,             a.b.c.x.e.f.g.h.i.j,   false",
        // UTF-8: byte-exact
        "föö.*,         föö.bär,         true",
        "föö.*,         foo.bär,         false",
        "日本.>,         日本.語.x,        true",
        "*.語,           日本.語,          true",
        "*.語,           日本.语,          false",
        // a wildcard-looking publish subject is matched as literal tokens
        "foo.*,         foo.*,           true",
        "foo.bar,       foo.*,           false",
    })
    void matches(String pattern, String subject, boolean expected) {
        assertEquals(expected, Subject.matches(pattern, subject));
    }

    @ParameterizedTest(name = "[{index}] collide(\"{0}\", \"{1}\") = {2}")
    @CsvSource({
        "foo,           foo,           true",
        "foo,           bar,           false",
        "foo.bar,       foo,           false",
        "foo.*,         foo.bar,       true",
        "foo.*,         foo,           false",
        "foo.*,         foo.bar.baz,   false",
        "foo.*,         *.bar,         true",
        "foo.*,         *.*,           true",
        "foo.*,         bar.*,         false",
        "foo.*.baz,     foo.bar.*,     true",
        "foo.*.baz,     foo.*.qux,     false",
        "foo.>,         foo,           false",
        "foo.>,         foo.bar,       true",
        "foo.>,         foo.bar.baz,   true",
        "foo.>,         foo.*,         true",
        "foo.>,         *.*.*,         true",
        "foo.>,         bar.>,         false",
        "foo.>,         *.>,           true",
        "foo.bar.>,     foo.*,         false",
        "foo.bar.>,     foo.>,         true",
        ">,             foo,           true",
        ">,             a.b.c,         true",
        ">,             >,             true",
        ">,             *,             true",
        "*,             foo,           true",
        "*,             foo.bar,       false",
        "foo*,          foo,           false",
        "foo*,          *,             true",
        "foo*,          foo*,          true",
        "a.b.c.d.e.f,   a.*.c.*.e.*,   true",
        "a.b.c.d.e.f,   a.*.c.*.x.*,   false",
        "$KV.a.>,       $KV.b.>,       false",
    })
    void collide(String a, String b, boolean expected) {
        assertEquals(expected, Subject.collide(a, b), "collide(a, b)");
        assertEquals(expected, Subject.collide(b, a), "collide(b, a)");
    }

    @ParameterizedTest(name = "[{index}] isSubsetOf(\"{0}\", \"{1}\") = {2}")
    @CsvSource({
        // sub, sup, sub ⊆ sup
        "foo,           foo,           true",
        "foo,           bar,           false",
        "foo,           *,             true",
        "foo,           >,             true",
        "foo.bar,       *,             false",
        "foo.bar,       >,             true",
        "foo.bar,       foo.*,         true",
        "foo.bar,       foo.>,         true",
        "foo,           foo.>,         false",
        "foo.*,         foo.>,         true",
        "foo.bar.*,     foo.>,         true",
        "foo.>,         foo.>,         true",
        "foo.>,         foo.*,         false",
        "foo.>,         foo.*.>,       false",
        "foo.*.>,       foo.>,         true",
        "foo.>,         >,             true",
        ">,             foo.>,         false",
        ">,             *,             false",
        ">,             >,             true",
        "*,             >,             true",
        "*,             *,             true",
        "*,             foo,           false",
        "foo.*,         foo.bar,       false",
        "foo.*,         *.*,           true",
        "*.*,           foo.*,         false",
        "foo.*,         foo.*.*,       false",
        "foo.*.*,       foo.*,         false",
        "foo.bar,       foo.bar.baz,   false",
        "foo.bar.baz,   foo.bar,       false",
        "foo*,          *,             true",
        "foo*,          foo,           false",
        "foo.>,         foo.bar.>,     false",
        "$KV.b.k.>,     $KV.b.>,       true",
    })
    void isSubsetOf(String sub, String sup, boolean expected) {
        assertEquals(expected, Subject.isSubsetOf(sub, sup));
    }

    /**
     * Cross-check {@code collide} and {@code isSubsetOf} against {@code matches} over every pattern of up to
     * three tokens from {a, b, *, >} and every literal of up to four tokens from {a, b, c}: patterns collide
     * exactly when some literal matches both, and one contains another exactly when no literal matches the
     * first but not the second.
     */
    @Test
    void collideAndSubsetAgreeWithMatches() {
        List<String> patterns = subjects(List.of("a", "b", "*", ">"), 3);
        patterns.removeIf(p -> !Subject.isValid(p));
        List<String> literals = subjects(List.of("a", "b", "c"), 4);
        for (String p : patterns) {
            for (String q : patterns) {
                boolean both = false;
                boolean pNotQ = false;
                for (String l : literals) {
                    boolean mp = Subject.matches(p, l);
                    boolean mq = Subject.matches(q, l);
                    both |= mp && mq;
                    pNotQ |= mp && !mq;
                }
                assertEquals(both, Subject.collide(p, q), "collide(" + p + ", " + q + ")");
                assertEquals(!pNotQ, Subject.isSubsetOf(p, q), "isSubsetOf(" + p + ", " + q + ")");
            }
        }
    }

    private static List<String> subjects(List<String> tokens, int maxTokens) {
        List<String> all = new ArrayList<>();
        List<String> level = List.of("");
        for (int n = 1; n <= maxTokens; n++) {
            List<String> next = new ArrayList<>();
            for (String prefix : level) {
                for (String t : tokens) {
                    next.add(prefix.isEmpty() ? t : prefix + "." + t);
                }
            }
            all.addAll(next);
            level = next;
        }
        return all;
    }

    @Test
    void wellFormedLooksOnlyAtTokens() {
        // nats-server 2.9's client checks: a form feed inside a token is fine, the token structure is not
        assertEquals(true, Subject.isWellFormed("foo\f", true));
        assertEquals(true, Subject.isWellFormed("foo\f", false));
        assertEquals(false, Subject.isValid("foo\f"));
        assertEquals(true, Subject.isWellFormed("a.*.>", true));
        assertEquals(false, Subject.isWellFormed("a.*", false));
        assertEquals(false, Subject.isWellFormed("a..b", true));
        assertEquals(false, Subject.isWellFormed("a.>.b", true));
        assertEquals(false, Subject.isWellFormed("", true));
    }

    @ParameterizedTest
    @CsvSource({"'', true", "., true", ".a, true", "a., true", "a..b, true", "a, false", "a.b, false", "*.>, false"})
    void emptyTokens(String subject, boolean empty) {
        assertEquals(empty, Subject.hasEmptyToken(subject));
    }
}
