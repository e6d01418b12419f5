#!/usr/bin/env bash
# Sync round trips, nats-server and JetKV running side by side, measured in alternating rounds:
#
#   bench/sync-rounds.sh [ROUNDS] [N]      defaults: 10 rounds of 5000 requests per scenario and server
#
# bench/run.sh measures one server after the other; for the sync rows (one request at a time) that compares
# two different moments of this VM, whose round-trip latency drifts by 2x within a minute. Here both servers run
# at once (-js, fresh stores, default durability) and bench/SyncRounds.java alternates between them (A B, B A,
# ...), N JS publishes, N KV puts and N KV gets (direct get) per round, after one untimed round each. It prints
# the median rate per server and the spread of the rounds. Needs: java 17, nats-server on PATH (or
# NATS_SERVER=/path), jnats 2.25.1 in ~/.m2 (or JNATS_JAR). About three minutes with the defaults.
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
rounds="${1:-10}"
n="${2:-5000}"
nats_server="${NATS_SERVER:-nats-server}"
jnats="${JNATS_JAR:-$HOME/.m2/repository/io/nats/jnats/2.25.1/jnats-2.25.1.jar}"

if ! command -v "$nats_server" >/dev/null; then
  echo "sync-rounds.sh: $nats_server not found (apt-get install nats-server, or set NATS_SERVER)" >&2
  exit 1
fi
if [ ! -f "$jnats" ]; then
  echo "sync-rounds.sh: $jnats missing; run 'mvn -q -DskipTests package' once, or set JNATS_JAR" >&2
  exit 1
fi

work="$(mktemp -d)"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck source=bench/servers.sh
. "$bench/servers.sh"
reference_pid=""
cleanup() {
  if [ -n "$reference_pid" ]; then
    kill "$reference_pid" 2>/dev/null || true
    wait "$reference_pid" 2>/dev/null || true
  fi
  bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building JetKV if stale, compiling bench/SyncRounds.java" >&2
ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/SyncRounds.java"

start_server nats-server "$nats_server" -js -sd "$work/nats-server.store"
reference_pid="$server_pid"
reference_port="$server_port"
server_pid=""
start_server jetkv "$root/jetkv" -js -sd "$work/jetkv.store"
run_client rounds SyncRounds "nats://127.0.0.1:$reference_port" "nats://127.0.0.1:$server_port" "$rounds" "$n"

echo
describe_run
echo "rounds:      $rounds alternating rounds of $n requests per server and scenario (A = nats-server, B = JetKV)"
echo
echo "| scenario                   | nats-server |    JetKV | JetKV/nats-server | nats-server rounds | JetKV rounds |"
echo "|----------------------------|---------:|---------:|------:|--------------:|--------------:|"
cat "$work/rounds.out"
