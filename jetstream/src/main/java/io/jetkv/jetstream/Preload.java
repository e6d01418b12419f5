package io.jetkv.jetstream;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.rocksdb.RocksDB;

/**
 * Start-up helper: loads RocksDB's native library and the JSON machinery ahead of need. The server calls
 * it on a spare thread while the main thread parses flags, so that opening the store later is quicker.
 * Safe to call more than once, from any thread.
 */
public final class Preload {
    private Preload() {}

    public static void run() {
        RocksDB.loadLibrary();
        try {
            new ObjectMapper().readTree("{\"name\":\"x\",\"subjects\":[\"a.>\"],\"max_age\":0}");
        } catch (java.io.IOException ignored) {
            // only loading classes
        }
    }
}
