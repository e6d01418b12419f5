/** JetKV protocol module. */
package io.jetkv.protocol;
