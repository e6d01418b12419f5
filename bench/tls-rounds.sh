#!/usr/bin/env bash
# Core NATS over TLS, nats-server and JetKV side by side with the same certificate (made here with openssl),
# measured in alternating rounds (bench/Rounds.java):
#
#   bench/tls-rounds.sh [ROUNDS] [MESSAGES] [CONNECTS]      defaults: 6 rounds, 200000 messages, no connects
#
# Scenarios (bench/TlsRounds.java, jnats with tls://): publish throughput, publish to a subscriber (both
# connections TLS), and with CONNECTS > 0 TLS connects per second (jnats itself takes about 1 s per TLS connect
# against either server, so that row measures the client). Needs: java 17, openssl, nats-server
# on PATH (or NATS_SERVER=/path), jnats 2.25.1 in ~/.m2 (or JNATS_JAR).
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
rounds="${1:-6}"
messages="${2:-200000}"
connects="${3:-0}"
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

echo "== certificates (EC P-256), building JetKV if stale, compiling the bench client" >&2
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=bench CA" \
  -keyout "$work/ca-key.pem" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
  -keyout "$work/key.pem" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" -CAcreateserial -days 1 \
  -extfile "$work/san.ext" -out "$work/cert.pem" 2>/dev/null
printf 'tls {\n  cert_file: "%s"\n  key_file: "%s"\n}\n' "$work/cert.pem" "$work/key.pem" >"$work/tls.conf"
ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/Rounds.java" "$bench/TlsRounds.java"

start_server nats-server "$nats_server" -c "$work/tls.conf"
reference_pid="$server_pid"
reference_port="$server_port"
server_pid=""
start_server jetkv "$root/jetkv" -c "$work/tls.conf"
run_client rounds TlsRounds "tls://127.0.0.1:$reference_port" "tls://127.0.0.1:$server_port" "$work/ca.pem" \
  "$rounds" "$messages" "$connects"

echo
describe_run
echo "rounds:      $rounds alternating rounds per scenario (A = nats-server, B = JetKV), same certificate; JetKV: $(grep -o 'TLS required for client connections ([^)]*)*' "$work/jetkv.log" | head -n 1)"
echo
printf "| %-30s | nats-server |    JetKV | JetKV/nats-server | nats-server rounds | JetKV rounds |\n" scenario
echo "|---|---:|---:|---:|---:|---:|"
grep "^|" "$work/rounds.out"
