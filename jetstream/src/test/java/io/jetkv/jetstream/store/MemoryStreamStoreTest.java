package io.jetkv.jetstream.store;

class MemoryStreamStoreTest extends StreamStoreContract {
    @Override
    protected StreamStore newStore() {
        return new MemoryStreamStore();
    }
}
