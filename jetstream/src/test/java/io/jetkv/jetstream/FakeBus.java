package io.jetkv.jetstream;

import io.jetkv.protocol.Subject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * In-process {@link MessageBus} for tests: delivers synchronously, on the publishing thread, to every
 * subscription whose pattern matches (the test thread plays the event loop).
 */
public final class FakeBus implements MessageBus {
    private record Sub(String pattern, InboundHandler handler) {}

    /** A message JetStream published. */
    public record Published(String subject, String reply, byte[] headers, byte[] payload) {}

    private final List<Sub> subs = new CopyOnWriteArrayList<>();
    private final List<Published> published = new CopyOnWriteArrayList<>();

    @Override
    public Subscription subscribe(String subject, InboundHandler handler) {
        Sub s = new Sub(subject, handler);
        subs.add(s);
        return () -> subs.remove(s);
    }

    @Override
    public void publish(String subject, String reply, byte[] headers, byte[] payload) {
        published.add(new Published(subject, reply, headers, payload));
        deliver(subject, reply, headers, payload);
    }

    @Override
    public void deliver(String deliverTo, String subject, String reply, byte[] headers, byte[] payload) {
        published.add(new Published(subject, reply, headers, payload));
        for (Sub s : subs) {
            if (Subject.matches(s.pattern, deliverTo)) {
                s.handler.onMessage(subject, reply, headers, payload == null ? new byte[0] : payload);
            }
        }
    }

    /** A client publish: routed like {@link #publish} but not recorded as JetStream output. */
    public void clientPublish(String subject, String reply, byte[] headers, byte[] payload) {
        deliver(subject, reply, headers, payload);
    }

    private void deliver(String subject, String reply, byte[] headers, byte[] payload) {
        for (Sub s : subs) {
            if (Subject.matches(s.pattern, subject)) {
                s.handler.onMessage(subject, reply, headers, payload == null ? new byte[0] : payload);
            }
        }
    }

    @Override
    public boolean hasInterest(String subject) {
        return subs.stream().anyMatch(s -> Subject.matches(s.pattern, subject));
    }

    /** Everything JetStream published so far. */
    public List<Published> published() {
        return published;
    }

    public int subscriptionCount() {
        return subs.size();
    }
}
