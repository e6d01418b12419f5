package io.jetkv.conformance.faults;

/**
 * One completed (or abandoned) KV operation of a recorded history: what a client asked, when, and what it
 * learnt. Times are {@link System#nanoTime()} of the one test JVM, so every client shares one clock.
 *
 * @param id position in the history, used to name the operation in explanations ({@code #12})
 * @param client the client (worker) that ran it; each client runs one operation at a time
 * @param value the value written (put, create, update); unique per write, so a read names its write
 * @param expectedRevision the revision an update compared against (0 otherwise)
 * @param completedAt {@link Long#MAX_VALUE} when the outcome is indeterminate: it may take effect at any
 *     time after its invocation, or never
 * @param readValue what a successful get returned ({@code null}: no entry, or a delete marker)
 * @param revision the revision a successful write was stored at, or a successful get read (0: none)
 * @param note the error text of a failed or indeterminate operation, for the report
 */
public record KvOp(
        int id,
        int client,
        Kind kind,
        String key,
        String value,
        long expectedRevision,
        long invokedAt,
        long completedAt,
        Outcome outcome,
        String readValue,
        long revision,
        String note) {

    /** The KV calls the model knows. {@code CREATE} succeeds only on an absent key, {@code UPDATE} is CAS. */
    public enum Kind {
        PUT,
        GET,
        CREATE,
        UPDATE,
        DELETE
    }

    /**
     * {@code OK}: the server answered with success. {@code FAILED}: it answered that the operation did not take
     * effect (a create on an existing key, an update on another revision). {@code INDETERMINATE}: no answer, or
     * one that does not say (a timeout, a lost connection). {@code NOT_APPLIED}: it cannot have taken effect for
     * a reason unrelated to the key (the request reached no server), so it constrains nothing.
     */
    public enum Outcome {
        OK,
        FAILED,
        INDETERMINATE,
        NOT_APPLIED
    }

    public boolean writes() {
        return kind != Kind.GET;
    }

    /** A short description: {@code #12 c3 update "c3-7" if rev 40 -> ok rev 45}. */
    public String describe() {
        StringBuilder sb = new StringBuilder("#").append(id).append(" c").append(client).append(' ');
        sb.append(kind.name().toLowerCase());
        switch (kind) {
            case PUT, CREATE -> sb.append(" \"").append(value).append('"');
            case UPDATE -> sb.append(" \"").append(value).append("\" if rev ").append(expectedRevision);
            default -> {}
        }
        sb.append(" -> ");
        switch (outcome) {
            case OK -> {
                if (kind == Kind.GET) {
                    sb.append(readValue == null ? "nothing" : "\"" + readValue + "\" @ rev " + revision);
                } else if (kind == Kind.DELETE) {
                    sb.append("ok");
                } else {
                    sb.append("ok rev ").append(revision);
                }
            }
            case FAILED -> sb.append("failed").append(note == null ? "" : " (" + note + ")");
            case INDETERMINATE -> sb.append("unknown").append(note == null ? "" : " (" + note + ")");
            case NOT_APPLIED -> sb.append("not applied").append(note == null ? "" : " (" + note + ")");
        }
        return sb.toString();
    }
}
