#!/usr/bin/env bash
# JetStream consumer read rates, JetKV against the reference nats-server, one after the other in one run.
#
#   bench/consumers.sh [MESSAGES] [REPEATS]      defaults: 100000 3
#
# Each server starts fresh with -js on an empty store; bench/ConsumerBench.java fills one file-storage stream
# with MESSAGES 128-byte messages, then reads them all back per scenario: once untimed, then REPEATS timed runs,
# median reported. The work-queue scenario fills its own work-queue stream before each run (untimed) and empties
# it by acking. Needs: java 17, nats-server on PATH (or NATS_SERVER=/path), jnats 2.25.1 in ~/.m2 (or
# JNATS_JAR). About two minutes on two cores, mostly JetKV's pull rows. Only public tools: jnats and bash.
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
messages="${1:-100000}"
repeats="${2:-3}"
# shellcheck source=bench/servers.sh
. "$bench/servers.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# measure LABEL CMD...: fresh server on an empty store, ConsumerBench against it, server stopped.
measure() {
  local label="$1"
  shift
  start_server "$label" "$@" -js -sd "$work/$label.store"
  run_client "$label" ConsumerBench "nats://127.0.0.1:$server_port" "$messages" "$repeats"
  stop_server "$label"
}

echo "== building JetKV if stale, compiling bench/ConsumerBench.java" >&2
ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/Bench.java" "$bench/ConsumerBench.java"

measure nats-server "$nats_server"
ensure_jetkv_built
measure jetkv "$root/jetkv"

row() { printf '| %-48s | %11s | %11s | %17s |\n' "$@"; }

echo
describe_run
echo "sizes:       $messages messages of 128 bytes in one stream; each scenario once untimed, then median of"
echo "             $repeats timed runs reading all $messages; fill is one untimed run (async publish, 1024 acks"
echo "             outstanding)"
echo
row "scenario (msgs/s unless noted)" "nats-server" "JetKV" "JetKV/nats-server"
printf '|%s|%s|%s|%s|\n' "--------------------------------------------------" "------------:" "------------:" \
  "------------------:"
for scenario in \
  "ordered:ordered push consumer replay" \
  "pullexplicit:pull fetch(500), AckPolicy.Explicit, ack each" \
  "pullall:pull fetch(500), AckPolicy.All, ack last" \
  "workqueue:work queue: pull fetch(500), ack each (refilled per run)" \
  "fill:fill: async publish (one run)"; do
  key="${scenario%%:*}"
  a="$(value nats-server "$key")"
  b="$(value jetkv "$key")"
  row "${scenario#*:}" "${a:-FAIL}" "${b:-FAIL}" "$(ratio "$a" "$b")"
done
a="$(cat "$work/nats-server.hwm")"
b="$(cat "$work/jetkv.hwm")"
row "server peak RSS, VmHWM at the end (MB)" "$(mb "$a")" "$(mb "$b")" "$(ratio "$a" "$b")"
