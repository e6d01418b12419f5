#!/usr/bin/env bash
# KV walkthrough in three other client libraries (nats.js, nats.go, nats.c), each run against a fresh
# nats-server 2.9.10 (the reference) and a fresh JetKV; the normalised transcripts must match line for
# line, and the reference transcript must match the client's expected.txt (so a walkthrough that
# silently stops exercising the server is caught too). Installs nothing: install.sh does that.
#
# Environment:
#   CONSUMER_STEPS=0|1   0 skips the consumer part (keys, history, watch) on both servers; default 1
#   CLIENTS="js js-ws go c"  which clients to run (js-ws: nats.js over both servers' websocket listener)
#   JETKV=path           JetKV launcher (default: the repository's ./jetkv, which builds the jar if stale)
#   NATS_SERVER=path     reference server (default: /usr/sbin/nats-server, else nats-server on PATH)
#   KEEP=1               keep the work directory (transcripts, server logs) and print its path
set -uo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(cd "$here/../.." && pwd)"
consumer_steps="${CONSUMER_STEPS:-1}"
clients="${CLIENTS:-js js-ws go c}"
jetkv="${JETKV:-$root/jetkv}"
nats_server="${NATS_SERVER:-}"
if [ -z "$nats_server" ]; then
  if [ -x /usr/sbin/nats-server ]; then nats_server=/usr/sbin/nats-server; else nats_server="$(command -v nats-server || true)"; fi
fi
# The first JetKV start may include the launcher's Maven build.
jetkv_start_timeout="${JETKV_START_TIMEOUT:-600}"
client_timeout=120
gopath_nats=/usr/share/gocode/src/github.com/nats-io/nats.go

case "$consumer_steps" in 0|1) ;; *) echo "run.sh: CONSUMER_STEPS must be 0 or 1, not '$consumer_steps'" >&2; exit 2 ;; esac

work="$(mktemp -d "${TMPDIR:-/tmp}/jetkv-clients.XXXXXX")"
server_pid=""
# SIGTERM, then SIGKILL after 10 s, to the process group of the server this script started (setsid):
# that also reaches a Maven build the JetKV launcher may be running.
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM -- "-$server_pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=""
}

cleanup() {
  stop_server
  if [ "${KEEP:-0}" = 1 ]; then echo "run.sh: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

die() { echo "run.sh: ERROR: $*" >&2; exit 2; }

# --- toolchains: a missing one is an error, never a skip ------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 ($2)"); }
[ -n "$nats_server" ] && [ -x "$nats_server" ] || missing+=("nats-server (apt-get install nats-server)")
[ -x "$jetkv" ] || missing+=("JetKV launcher $jetkv")
need java "JDK 17, to run JetKV"
for c in $clients; do
  case "$c" in
    js|js-ws)
      need node "nodejs"
      [ -d "$here/js/node_modules/@nats-io/kv" ] && [ -d "$here/js/node_modules/@nats-io/obj" ] ||
        missing+=("clients/js/node_modules (run install.sh: npm ci)") ;;
    go)
      need go "apt-get install golang-go"
      [ -d "$gopath_nats" ] || missing+=("nats.go sources in $gopath_nats (apt-get install golang-github-nats-io-go-nats-dev)") ;;
    c)
      need gcc "apt-get install gcc"
      if command -v gcc >/dev/null 2>&1 && ! echo '#include <nats/nats.h>' | gcc -E -x c - >/dev/null 2>&1; then
        missing+=("nats/nats.h (apt-get install libnats-dev)")
      fi ;;
    *) die "unknown client '$c' in CLIENTS (js, js-ws, go, c)" ;;
  esac
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "run.sh: ERROR: missing toolchain pieces; run conformance-tests/clients/install.sh:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi

# --- build ------------------------------------------------------------------------------------------
mkdir -p "$work/bin" "$work/out" "$here/target"
build() {
  case "$1" in
    js|js-ws) node --check "$here/js/walk.test.mjs" ;;
    # GOPATH mode against Debian's packaged sources: no module proxy, no network.
    go) (cd "$here/go" && GO111MODULE=off GOFLAGS= GOPATH=/usr/share/gocode GOCACHE="$here/target/gocache" \
          go build -o "$work/bin/walk-go" .) ;;
    c) gcc -std=c11 -Wall -Wextra -Werror -O1 -o "$work/bin/walk-c" "$here/c/walk.c" -lnats ;;
  esac
}
for c in $clients; do
  build "$c" > "$work/build-$c.log" 2>&1 || { cat "$work/build-$c.log" >&2; die "building the $c walkthrough failed"; }
done

# --- servers ----------------------------------------------------------------------------------------
# Both take nats-server's flags; port -1 lets the server bind a free port, read back from its log.
start_server() { # server-name client -> sets server_url
  local name="$1" dir="$work/store-$1-$2" log="$work/out/$2-$1.server.log" timeout=20 waited=0 conf=()
  mkdir -p "$dir"
  : > "$log"
  if [ "$2" = js-ws ]; then
    # the same config file for both: a plain-text websocket listener on a free port
    printf 'websocket {\n  listen: "127.0.0.1:-1"\n  no_tls: true\n}\n' > "$work/websocket.conf"
    conf=(-c "$work/websocket.conf")
  fi
  if [ "$name" = jetkv ]; then
    setsid "$jetkv" "${conf[@]}" -js -sd "$dir" -a 127.0.0.1 -p -1 > "$log" 2>&1 &
    timeout="$jetkv_start_timeout"
  else
    setsid "$nats_server" "${conf[@]}" -js -sd "$dir" -a 127.0.0.1 -p -1 > "$log" 2>&1 &
  fi
  server_pid=$!
  # Polled every 0.1 s (waited counts polls); the server logs "Server is ready" once its listener is bound.
  while ! grep -q "Server is ready" "$log"; do
    if ! kill -0 "$server_pid" 2>/dev/null; then cat "$log" >&2; die "$name exited during start-up"; fi
    waited=$((waited + 1))
    [ "$waited" -le $((timeout * 10)) ] || { cat "$log" >&2; die "$name not ready after ${timeout}s"; }
    sleep 0.1
  done
  local port
  port="$(sed -n 's/.*Listening for client connections on [0-9.]*:\([0-9]*\).*/\1/p' "$log" | head -1)"
  [ -n "$port" ] || { cat "$log" >&2; die "$name logged no client port"; }
  server_url="nats://127.0.0.1:$port"
  if [ "$2" = js-ws ]; then
    port="$(sed -n 's/.*Listening for websocket clients on ws:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$log" | head -1)"
    [ -n "$port" ] || { cat "$log" >&2; die "$name logged no websocket port"; }
    server_url="ws://127.0.0.1:$port"
  fi
}

# --- walkthroughs -----------------------------------------------------------------------------------
run_client() { # client server -> transcript in $work/out/<client>-<server>.txt, status returned
  local c="$1" out="$work/out/$1-$2.txt" log="$work/out/$1-$2.client.log" rc
  : > "$out"
  case "$c" in
    js) (cd "$here/js" && NATS_URL="$server_url" WALK_OUT="$out" CONSUMER_STEPS="$consumer_steps" \
          timeout "$client_timeout" node --test --test-reporter=spec walk.test.mjs) > "$log" 2>&1 ;;
    # node 20 has the browser's WebSocket behind a flag (nats.js' wsconnect uses it); node 22 has it on
    js-ws) (cd "$here/js" && NATS_URL="$server_url" WALK_OUT="$out" CONSUMER_STEPS="$consumer_steps" \
          timeout "$client_timeout" node $(node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' \
          || echo --experimental-websocket) --test --test-reporter=spec walk.test.mjs) > "$log" 2>&1 ;;
    go) timeout "$client_timeout" "$work/bin/walk-go" "$server_url" "$consumer_steps" > "$out" 2> "$log" ;;
    c) timeout "$client_timeout" "$work/bin/walk-c" "$server_url" "$consumer_steps" > "$out" 2> "$log" ;;
  esac
  rc=$?
  normalise < "$out" > "${out%.txt}.norm"
  return "$rc"
}

# Volatile fields: entry creation times (ISO-8601 in nats.go/nats.js, Unix nanoseconds in nats.c) and
# generated inbox/consumer names. A zero or implausible time is left alone so that it shows as a diff.
normalise() {
  sed -E \
    -e 's/created=20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9:.]+Z/created=<ts>/g' \
    -e 's/created=1[0-9]{18}/created=<ts>/g' \
    -e 's/_INBOX\.[A-Za-z0-9.]+/_INBOX.<id>/g' \
    -e 's/KV_WATCHER_[A-Za-z0-9]+/KV_WATCHER_<id>/g'
}

# expected.txt without the consumer part when it is skipped.
expected() {
  local dir="${1%-ws}" # the websocket run of a client has the same walkthrough
  if [ "$consumer_steps" = 1 ]; then cat "$here/$dir/expected.txt"; else grep -v '^consumer ' "$here/$dir/expected.txt"; fi
}

# score PART WANT GOT: "<matching> <failed>" for the lines of one part. Lines match when diff pairs them
# (so one missing step does not shift the rest); surplus lines in GOT count as failures too.
score() {
  local want got same
  want="$(grep -c "^$1 " "$2")" got="$(grep -c "^$1 " "$3")"
  same="$(diff --unchanged-line-format='=%L' --old-line-format='' --new-line-format='' \
    <(grep "^$1 " "$2") <(grep "^$1 " "$3") | grep -c '^=')"
  echo "$same $(( (want > got ? want : got) - same ))"
}

parts="base"; [ "$consumer_steps" = 1 ] && parts="base consumer"
total_pass=0 total_fail=0 total_skip=0 status=0
summary=()
for c in $clients; do
  exp="$work/out/$c-expected.norm" ref="$work/out/$c-nats-server.norm" got="$work/out/$c-jetkv.norm"
  expected "$c" > "$exp"
  start_server nats-server "$c"; run_client "$c" nats-server; ref_rc=$?; stop_server
  start_server jetkv "$c"; run_client "$c" jetkv; got_rc=$?; stop_server

  verdict=ok ref_summary="" got_summary=""
  if [ "$ref_rc" != 0 ] || ! diff -q "$exp" "$ref" >/dev/null; then
    verdict=FAILED status=1
    echo "=== $c: nats-server transcript differs from $c/expected.txt (exit $ref_rc): walkthrough or reference broken"
    diff -u --label "$c/expected.txt" --label "$c vs nats-server" "$exp" "$ref"
    [ "$ref_rc" = 0 ] || grep -v '^ *at ' "$work/out/$c-nats-server.client.log" | tail -40
  fi
  if [ "$got_rc" != 0 ] || ! diff -q "$ref" "$got" >/dev/null; then
    verdict=FAILED status=1
    echo "=== $c: JetKV diverges from nats-server (exit $got_rc)"
    diff -u --label "$c vs nats-server" --label "$c vs JetKV" "$ref" "$got"
    [ "$got_rc" = 0 ] || grep -v '^ *at ' "$work/out/$c-jetkv.client.log" | tail -40
  fi
  # Step by step: nats-server against expected.txt, JetKV against nats-server.
  for part in $parts; do
    read -r same bad < <(score "$part" "$exp" "$ref")
    total_pass=$((total_pass + same)) total_fail=$((total_fail + bad))
    ref_summary+=" $part $same/$((same + bad))"
    read -r same bad < <(score "$part" "$ref" "$got")
    total_pass=$((total_pass + same)) total_fail=$((total_fail + bad))
    got_summary+=" $part $same/$((same + bad))"
  done
  if [ "$consumer_steps" = 0 ]; then
    skipped="$(grep -c '^consumer ' "$here/${c%-ws}/expected.txt")"
    total_skip=$((total_skip + 2 * skipped))
    got_summary+=", consumer part skipped"
  fi
  summary+=("$(printf '%-5s %-6s nats-server:%s; JetKV:%s' "$c" "$verdict" "$ref_summary" "$got_summary")")
done

# --- JetKV only: features nats-server 2.9.10 lacks, so there is no reference transcript to diff ------------
# Each nats.js test file asserts by itself (node's test runner fails on any failure), against a fresh JetKV.
jetkv_only() { # FILE LABEL
  local name="${1%.test.mjs}" log="$work/out/js-${1%.test.mjs}-jetkv.client.log" rc tests
  node --check "$here/js/$1" || die "js/$1 does not parse"
  start_server jetkv "js-$name"
  (cd "$here/js" && NATS_URL="$server_url" timeout "$client_timeout" node --test --test-reporter=spec "$1") \
    > "$log" 2>&1
  rc=$?
  stop_server
  tests="$(grep -c '^✔\|^✖' "$log")"
  if [ "$rc" = 0 ]; then
    total_pass=$((total_pass + tests))
    summary+=("js  ok     JetKV only: $2, $tests tests")
  else
    status=1 total_fail=$((total_fail + 1))
    echo "=== js: $2 failed against JetKV (exit $rc)"
    grep -v '^ *at ' "$log" | tail -40
    summary+=("js  FAILED JetKV only: $2")
  fi
}
for c in $clients; do
  [ "$c" = js ] || continue
  jetkv_only ttl.test.mjs "per-key TTL and limit markers"
  jetkv_only schedules.test.mjs "message schedules"
  # multi-MB objects, links, seal; a bucket with allowBatched (needs api_lvl 4) stores through fast-ingest batches
  jetkv_only obj.test.mjs "object store"
done

echo "--- KV walkthrough per client, steps matching (CONSUMER_STEPS=$consumer_steps)"
printf '%s\n' "${summary[@]}"
echo "clients: $total_pass passed, $total_fail failed, $total_skip skipped"
exit "$status"
