#!/usr/bin/env bash
# Per-key TTL at scale (issue 14), JetKV only (nats-server 2.9.10 has no TTLs): a KV bucket with limit markers loaded
# with KEYS keys, each with a TTL, then puts of other keys continue while they all expire.
#
#   bench/kv-ttl.sh [KEYS] [TTL_SECONDS]      defaults: 1000000 keys, 90 s (loading must finish within the TTL)
#
# bench/KvTtl.java prints the load rate, the put rate before the first deadline (the baseline: the same puts with no
# expiry running) and while the keys expire, the expiry throughput (keys per second from the first deadline until
# the last marker was written) and the server's VmRSS/VmHWM at each phase. Needs java 17 and jnats 2.26.2 in ~/.m2
# (or JNATS_JAR; the build's tests put it there).
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
keys="${1:-1000000}"
ttl="${2:-90}"
export JNATS_JAR="${JNATS_JAR:-$HOME/.m2/repository/io/nats/jnats/2.26.2/jnats-2.26.2.jar}"
# shellcheck source=bench/servers.sh
. "$bench/servers.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/KvTtl.java"
start_server jetkv "$root/jetkv" -js -sd "$work/jetkv.store"
run_client jetkv KvTtl "nats://127.0.0.1:$server_port" "$keys" "$ttl" "$server_pid"
stop_server jetkv
echo
describe_run
echo "sizes: $keys keys with Nats-TTL ${ttl}s (16-byte values) in bucket ttl (history 1, limit markers ${ttl}s); puts of"
echo "       other keys in rounds of 10,000 async publishes (1024 outstanding)"
cat "$work/jetkv.out"
