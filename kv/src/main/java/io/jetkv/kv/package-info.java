/** JetKV kv module. */
package io.jetkv.kv;
