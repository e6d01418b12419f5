package io.jetkv.jetstream.stream;

import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;

/** The enums of a stream configuration with their JSON spellings; an unknown spelling is 10025. */
public final class StreamEnums {
    private StreamEnums() {}

    public enum Retention {
        LIMITS("limits"), INTEREST("interest"), WORKQUEUE("workqueue");

        public final String json;

        Retention(String json) {
            this.json = json;
        }

        static Retention parse(String s) {
            for (Retention r : values()) {
                if (r.json.equals(s)) {
                    return r;
                }
            }
            throw new JsApiException(JsError.INVALID_JSON);
        }
    }

    public enum Discard {
        OLD("old"), NEW("new");

        public final String json;

        Discard(String json) {
            this.json = json;
        }

        static Discard parse(String s) {
            // nats-server lower-cases the discard policy before matching
            for (Discard d : values()) {
                if (d.json.equalsIgnoreCase(s)) {
                    return d;
                }
            }
            throw new JsApiException(JsError.INVALID_JSON);
        }
    }

    public enum Storage {
        FILE("file"), MEMORY("memory");

        public final String json;

        Storage(String json) {
            this.json = json;
        }

        static Storage parse(String s) {
            for (Storage st : values()) {
                if (st.json.equals(s)) {
                    return st;
                }
            }
            throw new JsApiException(JsError.INVALID_JSON);
        }
    }

    public enum Compression {
        NONE("none"), S2("s2");

        public final String json;

        Compression(String json) {
            this.json = json;
        }

        static Compression parse(String s) {
            for (Compression c : values()) {
                if (c.json.equals(s)) {
                    return c;
                }
            }
            throw new JsApiException(JsError.INVALID_JSON);
        }
    }
}
