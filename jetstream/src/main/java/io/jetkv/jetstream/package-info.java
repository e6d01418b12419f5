/** JetKV jetstream module. */
package io.jetkv.jetstream;
