#!/usr/bin/env bash
# The floor under a replicated (R3) publish: a bare Ratis group of three servers in one JVM, configured by JetKV's
# own RaftTuning, a state machine that only counts, entries submitted one at a time to the leader, then
# linearizable reads (bench/RatisFloor.java). Compare with `bench/r3-rounds.sh sync`: what JetKV's R3 sync publish
# costs beyond this floor is JetKV's own; what nats-server's costs below it is out of reach of Ratis as configured.
#
#   bench/ratis-floor.sh [N] [ROUNDS]     defaults: 2000 entries and 2000 reads per round, 3 rounds
#   RATIS_OPTS='-Djetkv.ratis.raft.server.log.log-metadata.enabled=false' bench/ratis-floor.sh
#                                         the same with any Ratis key set over JetKV's (a variant under study)
#   RATIS_OPTS=-Dsync_always=true bench/ratis-floor.sh    every replica fsyncs before it acknowledges
#
# Prints latency percentiles and the process CPU time per operation (all three servers); the CPU figure is the
# steadier one on a loaded machine. Well under a minute.
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
n="${1:-2000}"
rounds="${2:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$root/jetkv" --version >/dev/null
jar="$root/server/target/jetkv.jar"
javac -nowarn -d "$work/classes" -cp "$jar" "$bench/RatisFloor.java"
echo "date:        $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:     $(nproc) cores, load avg $(cut -d' ' -f1-3 /proc/loadavg) at start"
settings="${RATIS_OPTS:-as the server sets them}"
echo "jetkv:       $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), Ratis settings: $settings"
echo "java:        $(java -version 2>&1 | head -n 1)"
# shellcheck disable=SC2086
java ${RATIS_OPTS:-} -cp "$work/classes:$jar" RatisFloor "$n" "$rounds" "$work/raft" 2>/dev/null
echo "load avg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
