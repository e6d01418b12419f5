#!/usr/bin/env bash
# What one file stream costs at rest: one ./jetkv -js, N streams created by bench/StreamsLoad.java (each with one
# message and one durable consumer), then the server's RSS, its live heap by class (jcmd GC.class_histogram, which
# runs a full GC first) and the JVM's native memory summary (NMT). Divide by N for the per-stream cost; run twice
# with different N to separate the per-stream part from the fixed one.
#
#   bench/streams-mem.sh [N]      default 2000
#
# Needs java 17 (jcmd), jnats in ~/.m2. JetKV only: nats-server's figure comes from its RSS alone (NATS=1 adds it).
set -euo pipefail
n="${1:-2000}"
bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
# shellcheck source=bench/servers.sh
. "$bench/servers.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/StreamsLoad.java"

rss_mb() { awk '$1 == "VmRSS:" { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

if [ -n "${NATS:-}" ]; then
  start_server nats-server "$nats_server" -js -sd "$work/nats.store"
  echo "nats-server: RSS at start $(rss_mb "$server_pid") MB" >&2
  t0="$SECONDS"
  java -cp "$jnats:$work/classes" StreamsLoad "nats://127.0.0.1:$server_port" "$n"
  echo "nats-server: $n streams in $((SECONDS - t0)) s, RSS $(rss_mb "$server_pid") MB" >&2
  stop_server nats-server
fi

JETKV_JAVA_OPTS="${JETKV_JAVA_OPTS:-} -XX:NativeMemoryTracking=summary" \
  start_server jetkv "$root/jetkv" -js -sd "$work/jetkv.store"
echo "jetkv: RSS at start $(rss_mb "$server_pid") MB" >&2
t0="$SECONDS"
java -cp "$jnats:$work/classes" StreamsLoad "nats://127.0.0.1:$server_port" "$n"
echo "jetkv: $n streams in $((SECONDS - t0)) s, RSS $(rss_mb "$server_pid") MB" >&2
jcmd "$server_pid" GC.class_histogram | head -n 30
echo "jetkv: RSS after the full GC $(rss_mb "$server_pid") MB" >&2
jcmd "$server_pid" VM.native_memory summary | grep -E '^-|Total|committed=' | grep -E 'Total|^-' | head -n 30
echo "threads: $(ls "/proc/$server_pid/task" | wc -l)" >&2
stop_server jetkv
