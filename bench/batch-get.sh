#!/usr/bin/env bash
# Batch direct get against single gets (issue 14), JetKV only: nats-server 2.9.10, the reference installed here,
# has no batch get (2.11+).
#
#   bench/batch-get.sh [KEYS] [REPEATS]      defaults: 1000 5
#
# A fresh JetKV with -js on an empty store; bench/BatchGet.java fills a bucket with KEYS keys, then times KEYS
# single kv.get calls, one multi-last direct get and one range batch direct get (median of REPEATS after a warm-up).
# Needs what bench/servers.sh checks. Well under a minute.
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
keys="${1:-1000}"
repeats="${2:-5}"
# shellcheck source=bench/servers.sh
. "$bench/servers.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/Bench.java" "$bench/BatchGet.java"
start_server jetkv "$root/jetkv" -js -sd "$work/store"
run_client jetkv BatchGet "nats://127.0.0.1:$server_port" "$keys" "$repeats"
stop_server jetkv

single="$(value jetkv single_gets_ms)"
multi="$(value jetkv multi_last_get_ms)"
range="$(value jetkv range_batch_get_ms)"
echo
describe_run
echo "sizes:       $keys keys, 16-byte values, median of $repeats timed runs"
echo
printf '| %-40s | %10s | %22s |\n' "read all $keys keys" "ms" "single gets / this"
printf '| %-40s | %10s | %22s |\n' "$keys x kv.get (single direct gets)" "$single" "1.00"
printf '| %-40s | %10s | %22s |\n' "one multi_last direct get" "$multi" "$(ratio "$multi" "$single")"
printf '| %-40s | %10s | %22s |\n' "one batch direct get (seq 1, batch $keys)" "$range" "$(ratio "$range" "$single")"
