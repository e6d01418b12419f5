#!/usr/bin/env bash
# The KV console's key listing on a bucket of N keys (default 1,000,000), JetKV alone (nats-server has no console):
# fills the bucket through jnats, then times the first page (the writer copies the subjects out, console-keys sorts
# them), following pages (a binary search in the kept order), a deep page and a one-key filter.
# Usage: bench/kv-console.sh [N]. Needs java 17, jnats in ~/.m2.
set -euo pipefail
n=${1:-1000000}
bench="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$bench")"
export NATS_SERVER="${NATS_SERVER:-/usr/sbin/nats-server}"
source "$bench/servers.sh"
trap bench_cleanup EXIT
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/ConsoleKeys.java"
ensure_jetkv_built
describe_run
mkdir -p "$work/store"
start_server jetkv "$root/jetkv" -m -1 -js -sd "$work/store"
for _ in $(seq 1 600); do
  mport="$(sed -n 's/.*Starting http monitor on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$work/jetkv.log" | head -n 1)"
  [ -n "$mport" ] && curl -s -o /dev/null "http://127.0.0.1:$mport/healthz" && break
  sleep 0.2
done
java -cp "$jnats:$work/classes" ConsoleKeys "nats://127.0.0.1:$server_port" "$mport" "$n"
stop_server jetkv
echo "jetkv: peak RSS $(mb "$(cat "$work/jetkv.hwm")") MB"
