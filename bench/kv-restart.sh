#!/usr/bin/env bash
# Restart time of a JetKV holding one KV bucket of KEYS keys: load it, stop the server (SIGTERM), start it again on
# the same store and time, from the launch, the log line "stream KV_scale: restored" and the first getStatus()
# answered by a client that connects once the port is known. With BASE=/path/to/another/checkout, the same is done
# with that checkout's ./jetkv first (a build from before a change), and then this checkout opens the store that
# build wrote, which times a one-off conversion when the layout changed.
#
#   bench/kv-restart.sh [KEYS]    default 1000000
#
# Also prints the live heap after the load (jcmd GC.class_histogram). Needs java 17 (jcmd), jnats in ~/.m2, nats-server on PATH only because bench/servers.sh checks for it.
set -euo pipefail
bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
keys="${1:-1000000}"
# shellcheck source=bench/servers.sh
. "$bench/servers.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/Bench.java" "$bench/KvScale.java" "$bench/KvRestart.java"

now_ms() { date +%s%3N; }
rss_mb() { awk '$1 == "VmRSS:" { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# restart LABEL JETKV STORE: one timed launch on STORE; prints the figures.
restart() {
  local label="$1" jetkv="$2" store="$3" t0 restored="" i
  t0="$(now_ms)"
  start_server "$label" "$jetkv" -js -sd "$store"
  for ((i = 0; i < 60000; i++)); do
    if grep -q 'stream KV_scale: restored' "$work/$label.log"; then
      restored="$(now_ms)"
      break
    fi
    sleep 0.01
  done
  java -cp "$jnats:$work/classes" KvRestart status "nats://127.0.0.1:$server_port" >"$work/$label.out"
  echo "$label: restored after $((restored - t0)) ms, first getStatus answered after $(($(now_ms) - t0)) ms" \
    "(includes the client JVM's start), $(awk '$1 == "values" { print $2 }' "$work/$label.out") values," \
    "RSS $(rss_mb "$server_pid") MB"
  grep -h 'converted' "$work/$label.log" || true
  stop_server "$label"
}

# run LABEL JETKV: load KEYS keys into a new store, then restart twice on it.
run() {
  local label="$1" jetkv="$2"
  "$jetkv" --version >/dev/null
  start_server "$label-load" "$jetkv" -js -sd "$work/$label.store"
  java -cp "$jnats:$work/classes" KvRestart load "nats://127.0.0.1:$server_port" "$keys"
  # live heap after the load: the class histogram runs a full GC first
  echo "$label: after the load, RSS $(rss_mb "$server_pid") MB, live heap" \
    "$(jcmd "$server_pid" GC.class_histogram | awk '$1 == "Total" { printf "%.0f MB", $3 / 1048576 }')," \
    "RSS after that GC $(rss_mb "$server_pid") MB"
  stop_server "$label-load"
  restart "$label-restart1" "$jetkv" "$work/$label.store"
  restart "$label-restart2" "$jetkv" "$work/$label.store"
}

describe_run
if [ -n "${BASE:-}" ]; then
  run base "$BASE/jetkv"
  "$root/jetkv" --version >/dev/null
  restart "this-on-base-store" "$root/jetkv" "$work/base.store"
  restart "this-on-base-store-again" "$root/jetkv" "$work/base.store"
fi
run this "$root/jetkv"
