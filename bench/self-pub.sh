#!/usr/bin/env bash
# One connection publishing to its own subscription (issue 18), JetKV beside nats-server in alternating rounds.
# Each round starts each server anew and runs two client JVMs against it, one after the other: the first meets a
# cold server (its publish path not compiled yet), the second a warm one. Per client: msgs/s of each of its
# rounds, and from /proc/PID/task/*/schedstat the server's CPU time and the time its threads spent runnable but
# waiting for a CPU (the run queue): on a loaded machine that wait, not the server, sets the pace.
# Usage: bench/self-pub.sh [ROUNDS] [N per client round]   (defaults 2 300000; three client rounds each)
# Needs java 17, nats-server on PATH (or NATS_SERVER), jnats in ~/.m2.
set -euo pipefail
rounds=${1:-2}
n=${2:-300000}
bench="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$bench")"
source "$bench/servers.sh"
trap bench_cleanup EXIT
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/SelfPub.java"
ensure_jetkv_built
describe_run

# milliseconds of CPU and of run-queue wait, summed over the server's threads
sched() { cat /proc/"$server_pid"/task/*/schedstat 2>/dev/null | awk '{ r += $1; w += $2 } END { printf "%d %d", r / 1e6, w / 1e6 }'; }

measure() {
  local label="$1" k r0 w0 r1 w1 t0 t1
  shift
  start_server "$label" "$@"
  for k in cold warm; do
    read -r r0 w0 <<<"$(sched)"
    t0=$(date +%s%N)
    java -cp "$jnats:$work/classes" SelfPub "nats://127.0.0.1:$server_port" "$n" 3 | sed "s/^/$label $k /"
    t1=$(date +%s%N)
    read -r r1 w1 <<<"$(sched)"
    echo "$label $k: $(( (t1 - t0) / 1000000 )) ms wall, server CPU $((r1 - r0)) ms, server threads waiting for a CPU" \
      "$((w1 - w0)) ms, load $(cut -d' ' -f1 /proc/loadavg)"
  done
  stop_server "$label"
}

for ((i = 1; i <= rounds; i++)); do
  if ((i % 2)); then
    measure jetkv "$root/jetkv"
    measure nats-server "$nats_server"
  else
    measure nats-server "$nats_server"
    measure jetkv "$root/jetkv"
  fi
done
