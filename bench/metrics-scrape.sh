#!/usr/bin/env bash
# Scrape cost of /metrics beside /varz and /jsz?streams=true&consumers=true, on one ./jetkv holding N streams
# (each with a message and a durable consumer): five timed scrapes of each after a warm-up, with curl.
# Usage: bench/metrics-scrape.sh [N]   (default 1000). Needs java 17, curl, jnats in ~/.m2.
set -euo pipefail
n=${1:-1000}
bench="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$bench")"
jnats="$(ls ~/.m2/repository/io/nats/jnats/*/jnats-*.jar | grep -v sources | sort -V | head -1)"
work="$(mktemp -d)"
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/StreamsLoad.java"
"$root/jetkv" -a 127.0.0.1 -p -1 -m -1 -js -sd "$work/store" >"$work/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q "Server is ready" "$work/log" && break; sleep 0.2; done
port=$(grep -o "Listening for client connections on [^ ]*" "$work/log" | sed 's/.*://')
mport=$(grep -o "Starting http monitor on [^ ]*" "$work/log" | sed 's/.*://')
start=$(date +%s)
java -cp "$jnats:$work/classes" StreamsLoad "nats://127.0.0.1:$port" "$n"
echo "loaded $n streams in $(( $(date +%s) - start ))s"
for path in /metrics /varz "/jsz?streams=true&consumers=true"; do
  curl -s -o /dev/null "http://127.0.0.1:$mport$path"
  for _ in 1 2 3 4 5; do
    curl -s -o /dev/null -w "$path %{time_total}s %{size_download}B\n" "http://127.0.0.1:$mport$path"
  done
done
