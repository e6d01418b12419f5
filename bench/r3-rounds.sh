#!/usr/bin/env bash
# Replicated JetStream (R3): a 3-node nats-server cluster and a 3-node JetKV cluster, both with JetStream, run
# at once and measured in alternating rounds by bench/JetStreamRounds.java with -Dbench.replicas=3 (stream and
# bucket on three nodes); the client connects to node 2 of each, so a publish usually crosses a route to the
# stream leader.
#
#   bench/r3-rounds.sh sync [ROUNDS] [N]      defaults: 6 rounds of 1000 sync publishes, puts and gets
#   bench/r3-rounds.sh publish [ROUNDS] [N]   defaults: 6 rounds of 20000 async publishes and puts
#
# nats-server's JetStream cluster needs every node to list its routes, so its three route ports are picked by
# binding port 0 once (a bench, not a test: a port could be taken in between, the run then fails loudly).
# JetKV's nodes 2 and 3 are seeded with node 1, as its README shows. Needs what bench/rounds.sh needs.
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
kind="${1:-sync}"
case "$kind" in
  sync) default_n=1000 mode=sync ;;
  publish) default_n=20000 mode=async ;;
  *)
    echo "usage: bench/r3-rounds.sh sync|publish [ROUNDS] [N]" >&2
    exit 2 ;;
esac
rounds="${2:-6}"
n="${3:-$default_n}"
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

echo "== building JetKV if stale, compiling the bench clients" >&2
ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/Bench.java" "$bench/Rounds.java" "$bench/JetStreamRounds.java"

read -r r1 r2 r3 <<<"$(python3 -c 'import socket
ss=[socket.socket() for _ in range(3)]
[s.bind(("127.0.0.1",0)) for s in ss]
print(*[s.getsockname()[1] for s in ss])')"
routes="nats-route://127.0.0.1:$r1,nats-route://127.0.0.1:$r2,nats-route://127.0.0.1:$r3"
i=0
for r in "$r1" "$r2" "$r3"; do
  i=$((i + 1))
  start_server "nats-$i" "$nats_server" -js -sd "$work/nats-$i.store" -n "N$i" --cluster_name nr3 \
    --cluster "nats://127.0.0.1:$r" --routes "$routes"
  pids+=("$server_pid")
  [ "$i" = 2 ] && a2="$server_port"
done
start_server jetkv-1 "$root/jetkv" -js -sd "$work/jetkv-1.store" -n J1 --cluster nats://127.0.0.1:-1 --cluster_name jr3
pids+=("$server_pid")
seed="$(route_port jetkv-1)"
for i in 2 3; do
  start_server "jetkv-$i" "$root/jetkv" -js -sd "$work/jetkv-$i.store" -n "J$i" --cluster nats://127.0.0.1:-1 \
    --cluster_name jr3 --routes "nats://127.0.0.1:$seed"
  pids+=("$server_pid")
  [ "$i" = 2 ] && b2="$server_port"
done
server_pid=""

# a replicated create needs the meta group of three (JetKV adds members one at a time) and nats-server's meta
# leader: the client retries its set-up until both clusters take an R3 stream
java -Dbench.replicas=3 -cp "$jnats:$work/classes" JetStreamRounds "nats://127.0.0.1:$a2" "nats://127.0.0.1:$b2" \
  "$rounds" "$n" "$mode" >"$work/rounds.out" &
child_pid=$!
wait "$child_pid" || echo "rounds: client exited with $?" >&2
child_pid=""
cat "$work/rounds.out" >&2

echo
describe_run
echo "rounds:      $rounds alternating rounds per scenario, N = $n ($mode), R3 stream and bucket (A = nats-server, B = JetKV), client on node 2"
echo
printf "| %-26s | nats-server |    JetKV | JetKV/nats-server | nats-server rounds | JetKV rounds |\n" scenario
echo "|---|---:|---:|---:|---:|---:|"
grep "^|" "$work/rounds.out"
