/** JetKV server module. */
package io.jetkv.server;
