#!/usr/bin/env bash
# nats-server and JetKV running side by side, measured in alternating rounds (A B, B A, ...):
#
#   bench/rounds.sh sync [ROUNDS] [N]        defaults: 10 rounds of 5000 sync requests per scenario and server
#   bench/rounds.sh publish [ROUNDS] [N]     defaults: 10 rounds of 100000 async publishes (1024 acks outstanding)
#   bench/rounds.sh consumers [ROUNDS] [N]   defaults: 10 rounds reading a stream of 100000 messages
#   bench/rounds.sh churn [ROUNDS] [N]       defaults: 10 rounds of 50 watchers and 50 keys() calls on a bucket of N=1000 keys
#   bench/rounds.sh fresh [ROUNDS] [N]       defaults: 5 rounds; the first N=10000 requests of a server started for them
#
# bench/run.sh and bench/consumers.sh measure one server after the other, which compares two different moments
# of this VM: its speed drifts by 2x within a minute, most of all for one request at a time. Here both servers
# run at once (-js, fresh stores, default durability unless SYNC_ALWAYS=1) and one jnats client alternates between them, after an
# untimed round each (fresh: see below). sync (bench/JetStreamRounds.java): N JS publishes, N KV puts and N KV gets (direct get) per
# round; publish (the same client): N async JS publishes and N async KV puts per round. consumers
# (bench/ConsumerRounds.java, bench/ConsumerBench.java's scenarios): ordered push replay and
# pull fetch with explicit and AckPolicy.All acks of an N-message stream, and a pull consumer emptying an
# N-message work-queue stream (refilled before each round, untimed). Prints each server's median rate and
# the spread of its rounds. SYNC_ALWAYS=1 starts JetKV with `jetstream { sync_always: true }` (an fsync before
# every ack) against nats-server's default (no fsync on the request path). fresh (bench/FreshRounds.java): for
# every row and round each server is started anew on an empty store, the row's set-up runs untimed and its
# first N requests are timed (core pub->sub: 10 N messages); the client warms its own JVM up first. Needs: java 17, nats-server on PATH
# (or NATS_SERVER=/path), jnats 2.25.1 in ~/.m2 (or JNATS_JAR). About three minutes for sync, six for consumers, with the defaults.
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
kind="${1:-}"
case "$kind" in
  sync) client=JetStreamRounds default_n=5000 width=26 mode=sync ;;
  publish) client=JetStreamRounds default_n=100000 width=26 mode=async ;;
  consumers) client=ConsumerRounds default_n=100000 width=36 mode="" ;;
  churn) client=ChurnRounds default_n=1000 width=36 mode="" ;;
  fresh) client=FreshRounds default_n=10000 width=42 mode="" ;;
  *)
    echo "usage: bench/rounds.sh sync|publish|consumers|churn|fresh [ROUNDS] [N]" >&2
    exit 2 ;;
esac
default_rounds=10
[ "$kind" = fresh ] && default_rounds=5
rounds="${2:-$default_rounds}"
n="${3:-$default_n}"
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

echo "== building JetKV if stale, compiling the bench clients" >&2
ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/Bench.java" "$bench/Rounds.java" "$bench/JetStreamRounds.java" \
  "$bench/ConsumerBench.java" "$bench/ConsumerRounds.java" "$bench/ChurnRounds.java" "$bench/FreshRounds.java"

table_head() {
  echo
  describe_run
  echo "rounds:      $kind: $rounds alternating rounds per scenario, N = $n (A = nats-server, B = JetKV); $1"
  echo
  printf "| %-${width}s | nats-server |    JetKV | JetKV/nats-server | nats-server rounds | JetKV rounds |\n" scenario
  echo "|---|---:|---:|---:|---:|---:|"
}

if [ "$kind" = fresh ]; then
  # FreshRounds starts every server itself: a new process on an empty store per row and round
  run_client rounds FreshRounds "$(command -v "$nats_server")" "$root/jetkv" "$work" "$rounds" "$n"
  table_head "a fresh server (-js, empty store, default durability) for every row and round"
  grep "^|" "$work/rounds.out"
  exit 0
fi

start_server nats-server "$nats_server" -js -sd "$work/nats-server.store"
reference_pid="$server_pid"
reference_port="$server_port"
server_pid=""
jetkv_conf=()
durability="default durability for both"
if [ "${SYNC_ALWAYS:-0}" = 1 ]; then
  printf 'jetstream {\n  sync_always: true\n}\n' >"$work/sync_always.conf"
  jetkv_conf=(-c "$work/sync_always.conf")
  durability="JetKV with sync_always (fsync before every ack), nats-server with its default"
fi
start_server jetkv "$root/jetkv" -js -sd "$work/jetkv.store" "${jetkv_conf[@]}"
# shellcheck disable=SC2086 # $mode: one word, or none
run_client rounds "$client" "nats://127.0.0.1:$reference_port" "nats://127.0.0.1:$server_port" "$rounds" "$n" $mode

table_head "$durability"
grep "^|" "$work/rounds.out"
