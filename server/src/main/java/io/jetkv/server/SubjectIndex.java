package io.jetkv.server;

import io.jetkv.protocol.Subject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The subscription index (nats-server's sublist): a trie of subject tokens with {@code *} and {@code >}
 * branches, and a cache of match results per literal subject.
 *
 * <p>Threading: safe from any thread. Lookups take the read lock only on a cache miss; changes take the
 * write lock and clear the cache. Cache entries are only inserted while the read lock is held, so a
 * result computed before a change can never be cached after it.
 */
final class SubjectIndex {
    private static final int CACHE_MAX = 8192;
    private static final int INBOX_SLOTS = 8192; // a power of two
    /** Where clients put their reply subjects, by convention: each is matched once and not cached. */
    private static final String INBOX_PREFIX = "_INBOX.";

    private final Node root = new Node();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final ConcurrentHashMap<String, Match> cache = new ConcurrentHashMap<>();
    /**
     * Inbox subjects matched once so far, by hash, one per slot (slot = low bits of the hash): the second match of
     * one caches it (see {@link #match}). Lossy on purpose: a slot taken by another inbox only delays caching, and
     * reads and writes race harmlessly (an int is never torn). No allocation, nothing to clear.
     */
    private final int[] inboxesSeen = new int[INBOX_SLOTS];
    private int count;
    private volatile InterestListener listener;

    /**
     * Told about every local subscription, client or internal (JetStream's API, stream subjects, acks), that enters
     * or leaves the index (not remote ones), after the change and outside the index lock: the cluster turns these
     * into {@code RS+}/{@code RS-}, so that other servers route JetStream traffic here as nats-server's do.
     */
    interface InterestListener {
        void added(Sub sub);

        void removed(Sub sub);
    }

    void setInterestListener(InterestListener l) {
        listener = l;
    }

    /** What a subject matched: plain subscriptions, and each queue group's members. */
    record Match(List<Sub> plain, List<List<Sub>> queues) {
        static final Match EMPTY = new Match(List.of(), List.of());

        boolean isEmpty() {
            return plain.isEmpty() && queues.isEmpty();
        }
    }

    void insert(Sub sub) {
        lock.writeLock().lock();
        try {
            Node node = root;
            for (String token : sub.subject.split("\\.", -1)) {
                node = node.child(token, true);
            }
            if (sub.queue == null) {
                node.plain.add(sub);
            } else {
                node.queues.computeIfAbsent(sub.queue, q -> new ArrayList<>()).add(sub);
            }
            count++;
            cache.clear();
        } finally {
            lock.writeLock().unlock();
        }
        InterestListener l = listener;
        if (l != null && sub.route == null && !sub.localOnly) {
            l.added(sub);
        }
    }

    void remove(Sub sub) {
        boolean wasRemoved = false;
        lock.writeLock().lock();
        try {
            String[] tokens = sub.subject.split("\\.", -1);
            Node[] path = new Node[tokens.length + 1];
            path[0] = root;
            Node node = root;
            for (int i = 0; i < tokens.length; i++) {
                node = node.child(tokens[i], false);
                if (node == null) {
                    return;
                }
                path[i + 1] = node;
            }
            boolean removed;
            if (sub.queue == null) {
                removed = node.plain.remove(sub);
            } else {
                List<Sub> members = node.queues.get(sub.queue);
                removed = members != null && members.remove(sub);
                if (members != null && members.isEmpty()) {
                    node.queues.remove(sub.queue);
                }
            }
            if (!removed) {
                return;
            }
            wasRemoved = true;
            count--;
            // prune empty nodes bottom-up so the trie does not keep dead inbox branches
            for (int i = tokens.length; i > 0; i--) {
                if (!path[i].isEmpty()) {
                    break;
                }
                path[i - 1].removeChild(tokens[i - 1]);
            }
            cache.clear();
        } finally {
            lock.writeLock().unlock();
        }
        InterestListener l = listener;
        if (wasRemoved && l != null && sub.route == null && !sub.localOnly) {
            l.removed(sub);
        }
    }

    int size() {
        lock.readLock().lock();
        try {
            return count;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Subscriptions matching the literal {@code subject}. */
    Match match(String subject) {
        // a request's reply inbox (each pub ack, each API reply) is used once: it is neither looked up in the cache
        // nor put there, where it would only evict the subjects that do repeat. A push consumer's deliver inbox
        // (every KV watcher's) gets each of its messages: it is cached from its second match on.
        boolean oneShot = subject.startsWith(INBOX_PREFIX) && firstSight(subject);
        if (!oneShot) {
            Match cached = cache.get(subject);
            if (cached != null) {
                return cached;
            }
        }
        if (Subject.hasEmptyToken(subject)) {
            // as nats-server's sublist: a subject with an empty token matches nothing, not even '>'
            return Match.EMPTY;
        }
        lock.readLock().lock();
        try {
            Match m = collectMatch(subject);
            if (!oneShot) {
                if (cache.size() >= CACHE_MAX) {
                    cache.clear();
                }
                cache.put(subject, m);
            }
            return m;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** True the first time an inbox is seen (as far as its slot remembers), and marks it seen. */
    private boolean firstSight(String inbox) {
        int h = inbox.hashCode();
        if (h == 0) {
            h = 1; // 0 marks an empty slot
        }
        int slot = (h ^ (h >>> 16)) & (INBOX_SLOTS - 1);
        if (inboxesSeen[slot] == h) {
            return false;
        }
        inboxesSeen[slot] = h;
        return true;
    }

    /** The subscriptions matching a literal subject with no empty token. Under the read lock. */
    private Match collectMatch(String subject) {
        List<Sub> plain = new ArrayList<>(2);
        Map<String, List<Sub>> queues = new LinkedHashMap<>(2);
        collect(root, subject, 0, plain, queues);
        if (queues.isEmpty()) {
            // the usual miss: a reply inbox with one subscriber, no queue groups
            return plain.isEmpty() ? Match.EMPTY : new Match(List.copyOf(plain), List.of());
        }
        List<List<Sub>> groups = new ArrayList<>(queues.size());
        for (List<Sub> g : queues.values()) {
            groups.add(List.copyOf(g));
        }
        return new Match(List.copyOf(plain), List.copyOf(groups));
    }

    /** True when anything matches {@code subject}. */
    boolean hasInterest(String subject) {
        return !match(subject).isEmpty();
    }

    private static void collect(
            Node node, String subject, int from, List<Sub> plain, Map<String, List<Sub>> queues) {
        int dot = subject.indexOf('.', from);
        int end = dot < 0 ? subject.length() : dot;
        String token = subject.substring(from, end);
        if (node.fwc != null) {
            node.fwc.addTo(plain, queues);
        }
        Node literal = node.literals == null ? null : node.literals.get(token);
        if (dot < 0) {
            if (literal != null) {
                literal.addTo(plain, queues);
            }
            if (node.pwc != null) {
                node.pwc.addTo(plain, queues);
            }
            return;
        }
        if (literal != null) {
            collect(literal, subject, dot + 1, plain, queues);
        }
        if (node.pwc != null) {
            collect(node.pwc, subject, dot + 1, plain, queues);
        }
    }

    /** For SUB validation only: whether a pattern is well formed. */
    static boolean validPattern(String subject) {
        return Subject.isValid(subject);
    }

    private static final class Node {
        Map<String, Node> literals;
        Node pwc;
        Node fwc;
        final List<Sub> plain = new ArrayList<>(1);
        final Map<String, List<Sub>> queues = new HashMap<>(1);

        Node child(String token, boolean create) {
            if (token.equals("*")) {
                if (pwc == null && create) {
                    pwc = new Node();
                }
                return pwc;
            }
            if (token.equals(">")) {
                if (fwc == null && create) {
                    fwc = new Node();
                }
                return fwc;
            }
            if (literals == null) {
                if (!create) {
                    return null;
                }
                literals = new HashMap<>();
            }
            return create ? literals.computeIfAbsent(token, t -> new Node()) : literals.get(token);
        }

        void removeChild(String token) {
            if (token.equals("*")) {
                pwc = null;
            } else if (token.equals(">")) {
                fwc = null;
            } else if (literals != null) {
                literals.remove(token);
            }
        }

        boolean isEmpty() {
            return plain.isEmpty() && queues.isEmpty() && pwc == null && fwc == null
                    && (literals == null || literals.isEmpty());
        }

        void addTo(List<Sub> plainOut, Map<String, List<Sub>> queuesOut) {
            plainOut.addAll(plain);
            if (queues.isEmpty()) {
                return;
            }
            for (Map.Entry<String, List<Sub>> e : queues.entrySet()) {
                queuesOut.computeIfAbsent(e.getKey(), q -> new ArrayList<>()).addAll(e.getValue());
            }
        }
    }
}
