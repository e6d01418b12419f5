#!/usr/bin/env bash
# Core NATS across routes: a 3-node nats-server cluster beside a 3-node JetKV cluster (core NATS, no JetStream),
# measured in alternating rounds by bench/ClusterRounds.java: publisher/requester on node 1, subscriber/responder
# on node 2 of each cluster.
#
#   bench/cluster-rounds.sh [ROUNDS] [N]     defaults: 10 rounds of 200000 publishes (and N/40 requests)
#
# Before the timed rounds, WARM_UPS (default 5) untimed rounds of both scenarios on each cluster, so that JetKV's
# JIT compiler has finished with the hot paths (steady state; a fresh server's first requests are measured by
# bench/rounds.sh fresh).
#
# Needs what bench/rounds.sh needs (java 17, nats-server on PATH, jnats in ~/.m2).
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
rounds="${1:-10}"
n="${2:-200000}"
warm_ups="${WARM_UPS:-5}"
# shellcheck source=bench/servers.sh
. "$bench/servers.sh"
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

route_port() {
  local i p
  for ((i = 0; i < 600; i++)); do
    p="$(sed -n 's/.*Listening for route connections on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/$1.log" | head -n 1)"
    if [ -n "$p" ]; then
      echo "$p"
      return 0
    fi
    sleep 0.1
  done
  echo "$1: no route port in its log" >&2
  exit 1
}

# cluster LABEL CMD...: three nodes, the second and third seeded with the first; sets ports_LABEL to the
# client ports of nodes 1 and 2
cluster() {
  local label="$1" seed
  shift
  start_server "$label-1" "$@" --cluster nats://127.0.0.1:-1 --cluster_name "$label"
  pids+=("$server_pid")
  local p1="$server_port"
  seed="$(route_port "$label-1")"
  start_server "$label-2" "$@" --cluster nats://127.0.0.1:-1 --cluster_name "$label" --routes "nats://127.0.0.1:$seed"
  pids+=("$server_pid")
  local p2="$server_port"
  start_server "$label-3" "$@" --cluster nats://127.0.0.1:-1 --cluster_name "$label" --routes "nats://127.0.0.1:$seed"
  pids+=("$server_pid")
  server_pid=""
  eval "ports_$label=\"$p1 $p2\""
}

echo "== building JetKV if stale, compiling the bench clients" >&2
ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/Bench.java" "$bench/Rounds.java" "$bench/ClusterRounds.java"

cluster natsserver "$nats_server"
cluster jetkv "$root/jetkv"
read -r a1 a2 <<<"$ports_natsserver"
read -r b1 b2 <<<"$ports_jetkv"
run_client rounds ClusterRounds "nats://127.0.0.1:$a1" "nats://127.0.0.1:$a2" "nats://127.0.0.1:$b1" \
  "nats://127.0.0.1:$b2" "$rounds" "$n" "$warm_ups"

echo
describe_run
echo "rounds:      $rounds alternating rounds per scenario after $warm_ups untimed ones, N = $n publishes, $((n / 40)) requests (A = nats-server, B = JetKV), 3 nodes each"
echo
printf "| %-30s | nats-server |    JetKV | JetKV/nats-server | nats-server rounds | JetKV rounds |\n" scenario
echo "|---|---:|---:|---:|---:|---:|"
grep "^|" "$work/rounds.out"
