#!/usr/bin/env bash
# KV at scale, JetKV against the reference nats-server, one after the other in one run: time and memory for a
# bucket of KEYS keys.
#
#   bench/kv-scale.sh [KEYS]      default: 1000000
#   VALUE_SIZE=1024 bench/kv-scale.sh [KEYS]      values of 1,024 bytes instead of 16
#
# Each server starts fresh with -js on an empty store; bench/KvScale.java loads KEYS keys with 16-byte values
# (async publishes to $KV.scale.<key>, at most 1024 pub acks outstanding), then times keys(), watchAll's initial
# replay (until the end-of-data call) and getStatus(), once each. The server's VmRSS/VmHWM come from
# /proc/<pid>/status, sampled every 0.5 s and between phases. A phase still running after PHASE_LIMIT seconds
# (default 300) is abandoned and reported as FAIL, so a server that does not scale costs minutes, not hours.
# Needs: java 17, nats-server on PATH (or NATS_SERVER=/path), jnats 2.25.1 in ~/.m2 (or JNATS_JAR). About
# three minutes per server at 1,000,000 keys on two cores, plus up to PHASE_LIMIT per slow phase; 200000 keys
# take about a minute each. Only public tools: jnats and bash.
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
keys="${1:-1000000}"
phase_limit="${PHASE_LIMIT:-300}"
value_size="${VALUE_SIZE:-16}"
export CLIENT_JAVA_OPTS="${CLIENT_JAVA_OPTS:-} -Dkvscale.valueSize=$value_size"
# shellcheck source=bench/servers.sh
. "$bench/servers.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# measure LABEL CMD...: fresh server on an empty store, KvScale against it with the RSS sampler running, server
# stopped, store size recorded (the bucket is left in place for that).
measure() {
  local label="$1" t0
  shift
  start_server "$label" "$@" -js -sd "$work/$label.store"
  start_sampler "$label"
  t0="$SECONDS"
  run_client "$label" KvScale "nats://127.0.0.1:$server_port" "$keys" "$server_pid" "$phase_limit"
  echo "$label: client run took $((SECONDS - t0)) s" >&2
  stop_server "$label"
  stop_sampler
  du -sk "$work/$label.store" | awk '{ print $1 }' >"$work/$label.du"
  # The RSS curve every 10 s: enough to see whether memory levels off or keeps climbing.
  awk 'NR % 20 == 1 { printf "  t=%ss rss=%.0fMB hwm=%.0fMB\n", $1, $2 / 1024, $3 / 1024 }' "$work/$label.rss" >&2
}

echo "== building JetKV if stale, compiling bench/KvScale.java" >&2
ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/Bench.java" "$bench/KvScale.java"

measure nats-server "$nats_server"
ensure_jetkv_built
measure jetkv "$root/jetkv"

row() { printf '| %-44s | %11s | %11s | %17s |\n' "$@"; }
# peak LABEL: the highest VmHWM the sampler saw, or the one read at shutdown if that is higher.
peak() {
  { awk '{ print $3 }' "$work/$1.rss"; cat "$work/$1.hwm"; } | sort -n | tail -n 1
}

echo
describe_run
echo "sizes:       $keys keys (k0, k1, ...), $value_size-byte values, one bucket (history 1); each phase run once,"
echo "             FAIL after $phase_limit s (PHASE_LIMIT)"
heap="$(java -XX:+PrintFlagsFinal -version 2>/dev/null | awk '$2 == "MaxHeapSize" { printf "%.1f GB", $4 / 2^30 }')"
echo "             JetKV with its launcher's JVM defaults (max heap $heap on this machine)"
echo
row "phase" "nats-server" "JetKV" "JetKV/nats-server"
printf '|%s|%s|%s|%s|\n' "----------------------------------------------" "------------:" "------------:" \
  "------------------:"
for phase in \
  "load:load: async puts (puts/s)" \
  "keys_s:keys(): all keys listed (s)" \
  "watch_s:watchAll: initial replay to end of data (s)" \
  "status_ms:getStatus(): median of 5 (ms)"; do
  key="${phase%%:*}"
  a="$(value nats-server "$key")"
  b="$(value jetkv "$key")"
  row "${phase#*:}" "${a:-FAIL}" "${b:-FAIL}" "$(ratio "$a" "$b")"
done
for phase in load keys watch status; do
  a="$(value nats-server "rss_$phase")"
  b="$(value jetkv "rss_$phase")"
  row "server RSS after $phase (MB)" "$(mb "$a")" "$(mb "$b")" "$(ratio "$a" "$b")"
done
a="$(peak nats-server)"
b="$(peak jetkv)"
row "server peak RSS, VmHWM (MB)" "$(mb "$a")" "$(mb "$b")" "$(ratio "$a" "$b")"
a="$(cat "$work/nats-server.du")"
b="$(cat "$work/jetkv.du")"
row "store on disk after the run (MB)" "$(mb "$a")" "$(mb "$b")" "$(ratio "$a" "$b")"
