#!/usr/bin/env bash
# An atomic batch of 100 puts against 100 sync puts (issue 14), JetKV only: nats-server 2.9.10, the reference installed
# here, has no atomic batches (2.12+).
#
#   bench/atomic-batch.sh [ROUNDS]      default: 50
#
# A fresh JetKV with -js on an empty store; bench/AtomicBatch.java stores 100 16-byte messages per round three ways
# (100 sync publishes, 100 async publishes, one atomic batch of 100 committed by its last message) and prints the
# median of each over ROUNDS rounds after a warm-up round. Needs what bench/servers.sh checks. Under a minute.
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
rounds="${1:-50}"
# shellcheck source=bench/servers.sh
. "$bench/servers.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/Bench.java" "$bench/AtomicBatch.java"
start_server jetkv "$root/jetkv" -js -sd "$work/store"
run_client jetkv AtomicBatch "nats://127.0.0.1:$server_port" "$rounds"
stop_server jetkv

sync="$(value jetkv sync_100_ms)"
async="$(value jetkv async_100_ms)"
batch="$(value jetkv batch_100_ms)"
echo
describe_run
echo "sizes:       100 messages of 16 bytes per way and round, file stream with allow_atomic, median of $rounds rounds"
echo
printf '| %-50s | %10s | %20s |\n' "store 100 messages" "ms" "sync puts / this"
printf '| %-50s | %10s | %20s |\n' "100 sync puts (js.publish, one pub ack each)" "$sync" "1.00"
printf '| %-50s | %10s | %20s |\n' "100 async puts (publishAsync, then the 100 acks)" "$async" "$(ratio "$async" "$sync")"
printf '| %-50s | %10s | %20s |\n' "one atomic batch of 100 (one pub ack)" "$batch" "$(ratio "$batch" "$sync")"
