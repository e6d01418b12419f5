package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The subject index's match cache, above all for inbox subjects (cached only once they repeat). */
class SubjectIndexTest {
    @Test
    void anInboxIsCachedFromItsSecondMatchAndForgottenWhenItsSubscriptionGoes() {
        SubjectIndex index = new SubjectIndex();
        Sub deliver = new Sub("_INBOX.abc.1", (s, r, h, p) -> true);
        index.insert(deliver);
        SubjectIndex.Match first = index.match("_INBOX.abc.1");
        assertEquals(1, first.plain().size());
        SubjectIndex.Match second = index.match("_INBOX.abc.1");
        assertSame(second, index.match("_INBOX.abc.1"), "repeated: served from the cache");
        index.remove(deliver);
        assertTrue(index.match("_INBOX.abc.1").plain().isEmpty(), "the cache is cleared with the subscription");
        Sub again = new Sub("_INBOX.abc.1", (s, r, h, p) -> true);
        index.insert(again);
        assertSame(again, index.match("_INBOX.abc.1").plain().get(0));
        assertSame(again, index.match("_INBOX.abc.1").plain().get(0));
    }

    @Test
    void manyOneShotInboxesStayBounded() {
        SubjectIndex index = new SubjectIndex();
        index.insert(new Sub("_INBOX.>", (s, r, h, p) -> true));
        for (int i = 0; i < 50_000; i++) {
            assertEquals(1, index.match("_INBOX.req." + i).plain().size());
        }
        assertEquals(1, index.match("_INBOX.req.7").plain().size());
    }

    /** One-shot reply inboxes (a pub ack each) neither evict the subjects that repeat nor fill the cache. */
    @Test
    void oneShotInboxesLeaveTheCacheToRepeatedSubjects() {
        SubjectIndex index = new SubjectIndex();
        index.insert(new Sub("orders.*", (s, r, h, p) -> true));
        index.insert(new Sub("_INBOX.client.*", (s, r, h, p) -> true));
        SubjectIndex.Match orders = index.match("orders.new");
        assertSame(orders, index.match("orders.new"));
        for (int i = 0; i < 100_000; i++) {
            assertEquals(1, index.match("_INBOX.client." + i).plain().size());
        }
        assertSame(orders, index.match("orders.new"), "still cached after 100,000 one-shot inboxes");
    }
}
