#!/usr/bin/env bash
# Scrape cost, JetKV beside nats-server (issue 15): with N streams (one message and one durable consumer each) and
# C idle client connections, the latency and size of /varz, /jsz?streams=true&consumers=true and (JetKV only)
# /metrics, five timed curls each after a warm-up; then core publish throughput (after one uncounted warm-up round:
# a fresh server's publish path is still being compiled) in alternating rounds without and
# with a scraper fetching those endpoints every 100 ms (target: at most 2% lower while scraping).
# Usage: bench/scrape-cost.sh [N] [C] [seconds per round] [rounds]   (defaults 1000 10000 10 3)
# Needs java 17, curl, nats-server on PATH (or NATS_SERVER), jnats in ~/.m2; ulimit -n above C + 1000.
set -euo pipefail
n=${1:-1000}
c=${2:-10000}
secs=${3:-10}
rounds=${4:-3}
bench="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$bench")"
source "$bench/servers.sh"
holder_pid=""
cleanup() {
  if [ -n "$holder_pid" ]; then kill "$holder_pid" 2>/dev/null || true; wait "$holder_pid" 2>/dev/null || true; fi
  bench_cleanup
}
trap cleanup EXIT
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/StreamsLoad.java" "$bench/ScrapeLoad.java"
ensure_jetkv_built
describe_run

measure() {
  local label="$1" mport
  shift
  mkdir -p "$work/$label-store"
  start_server "$label" "$@" -m -1 -js -sd "$work/$label-store"
  for _ in $(seq 1 600); do
    mport="$(sed -n 's/.*Starting http monitor on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$work/$label.log" | head -n 1)"
    [ -n "$mport" ] && curl -s -o /dev/null "http://127.0.0.1:$mport/healthz" && break
    sleep 0.2
  done
  local t0
  t0=$(date +%s)
  java -cp "$jnats:$work/classes" StreamsLoad "nats://127.0.0.1:$server_port" "$n"
  echo "$label: $n streams in $(( $(date +%s) - t0 ))s"
  mkfifo "$work/$label.hold"
  java -Xss256k -cp "$jnats:$work/classes" ScrapeLoad conns 127.0.0.1 "$server_port" "$c" <"$work/$label.hold" \
    >"$work/$label.conns" &
  holder_pid=$!
  exec 9>"$work/$label.hold"
  for _ in $(seq 1 1200); do grep -q '^ready' "$work/$label.conns" && break; sleep 0.1; done
  echo "$label: $(cat "$work/$label.conns") connections; /varz says $(curl -s "http://127.0.0.1:$mport/varz" \
    | sed -n 's/.*"connections": *\([0-9]*\).*/\1/p' | head -n 1)"
  for path in /varz "/jsz?streams=true&consumers=true" /metrics; do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport$path")" != 200 ]; then
      echo "$label $path: not served"
      continue
    fi
    for _ in 1 2 3 4 5; do
      curl -s -o /dev/null -w "$label $path %{time_total}s %{size_download}B\n" "http://127.0.0.1:$mport$path"
    done
  done
  java -cp "$jnats:$work/classes" ScrapeLoad pub "nats://127.0.0.1:$server_port" "$mport" "$secs" "$rounds" \
    | sed "s/^/$label /"
  exec 9>&-
  wait "$holder_pid" 2>/dev/null || true
  holder_pid=""
  stop_server "$label"
  echo "$label: peak RSS $(mb "$(cat "$work/$label.hwm")") MB"
}

measure jetkv "$root/jetkv"
measure nats-server "$nats_server"
