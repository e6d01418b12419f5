/** JetKV config module. */
package io.jetkv.config;
