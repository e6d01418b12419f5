#!/usr/bin/env bash
# Core NATS and JetStream benchmark, JetKV against the reference nats-server, one after the other in one run.
#
#   bench/run.sh [PUB_N] [PUBSUB_N] [REQUESTS]      defaults: 1000000 500000 10000
#
# Needs: java 17, python3, nats-server on PATH (or NATS_SERVER=/path), jnats 2.25.1 in ~/.m2 (any build of
# this repo puts it there). REPEATS (default 3) timed runs per core scenario, median reported; STARTUP_RUNS
# (default 5) launches per start-up median. About two minutes on two cores for core and start-up.
# JetStream (bench/JetStreamBench.java): JS_SYNC_N (20000) sync publishes and KV puts, JS_ASYNC_N (200000)
# async ones, JS_GET_N (20000) KV gets, JS_REPEATS (3) timed runs (the median is reported); nats-server with
# its defaults, JetKV twice (default durability, then sync_always: true from a config file). Several minutes more.
# ONLY=core (core and start-up), ONLY=startup (start-up alone, with and without -js) or ONLY=js runs one part.
# Only public tools: the jnats client (bench/*.java) and python3's socket module (bench/startup.py).
set -euo pipefail

bench="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$bench")"
pub_n="${1:-1000000}"
pubsub_n="${2:-500000}"
requests="${3:-10000}"
repeats="${REPEATS:-3}"
only="${ONLY:-}"
js_sync_n="${JS_SYNC_N:-20000}"
js_async_n="${JS_ASYNC_N:-200000}"
js_get_n="${JS_GET_N:-20000}"
js_repeats="${JS_REPEATS:-3}"
startup_runs="${STARTUP_RUNS:-5}"
nats_server="${NATS_SERVER:-nats-server}"
jnats="${JNATS_JAR:-$HOME/.m2/repository/io/nats/jnats/2.25.1/jnats-2.25.1.jar}"

if ! command -v "$nats_server" >/dev/null; then
  echo "run.sh: $nats_server not found (apt-get install nats-server, or set NATS_SERVER)" >&2
  exit 1
fi
if [ ! -f "$jnats" ]; then
  echo "run.sh: $jnats missing; run 'mvn -q -DskipTests package' once, or set JNATS_JAR" >&2
  exit 1
fi

work="$(mktemp -d)"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
server_pid=""
child_pid=""
cleanup() {
  if [ -n "$child_pid" ]; then
    kill "$child_pid" 2>/dev/null || true # Bench, or startup.py, which stops its own server on SIGTERM
    wait "$child_pid" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Bounded poll: up to 120 s, because ./jetkv rebuilds first if someone touched the sources meanwhile.
wait_for_port() {
  local port="$1" pid="$2" i
  for ((i = 0; i < 1200; i++)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# ./jetkv --version goes through the launcher's own staleness check, builds if needed, and exits.
# Retried once: a launcher racing another one (a rebuild, or unpacking the native library) can fail.
ensure_jetkv_built() {
  "$root/jetkv" --version >/dev/null || "$root/jetkv" --version >/dev/null
}

# measure LABEL CMD...: start the server on a fresh port, run "${bench_args[@]}" (class, then arguments after
# the URL) against it, stop it.
measure() {
  local label="$1" port
  shift
  port="$(free_port)"
  "$@" -a 127.0.0.1 -p "$port" >"$work/$label.log" 2>&1 &
  server_pid=$!
  if ! wait_for_port "$port" "$server_pid"; then
    echo "run.sh: $label did not start listening on $port; its log:" >&2
    tail -n 30 "$work/$label.log" >&2
    exit 1
  fi
  echo "== $label on port $port" >&2
  # In the background with wait, so that a signal reaches the traps at once rather than after the run.
  java -cp "$jnats:$work/classes" "${bench_args[0]}" "nats://127.0.0.1:$port" "${bench_args[@]:1}" \
    >"$work/$label.out" &
  child_pid=$!
  wait "$child_pid"
  child_pid=""
  cat "$work/$label.out" >&2
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

echo "== building JetKV if stale, compiling bench/*.java" >&2
ensure_jetkv_built
javac -nowarn -d "$work/classes" -cp "$jnats" "$bench/Bench.java" "$bench/JetStreamBench.java"

if [ "$only" != js ] && [ "$only" != startup ]; then
  bench_args=(Bench "$pub_n" "$pubsub_n" "$requests" "$repeats")
  measure nats-server "$nats_server"
  ensure_jetkv_built
  measure jetkv "$root/jetkv"
fi

if [ "$only" != core ] && [ "$only" != startup ]; then
  # Stores under $work; the summary names its filesystem, since on a tmpfs /tmp fsync would cost nothing.
  printf 'jetstream {\n  sync_always: true\n}\n' >"$work/sync_always.conf"
  bench_args=(JetStreamBench "$js_sync_n" "$js_async_n" "$js_get_n" "$js_repeats")
  measure nats-server-js "$nats_server" -js -sd "$work/nats-server.store"
  ensure_jetkv_built
  measure jetkv-js "$root/jetkv" -js -sd "$work/jetkv.store"
  ensure_jetkv_built
  measure jetkv-js-sync "$root/jetkv" -js -sd "$work/jetkv-sync.store" -c "$work/sync_always.conf"
  grep -h 'Sync:' "$work/jetkv-js.log" "$work/jetkv-js-sync.log" >&2 || true
fi

# startup LABEL [--js] CMD...: median start-up times of CMD into $work/LABEL.startup ("accept_ms info_ms runs",
# and with --js "js_ms" after them: until a $JS.API.INFO request is answered).
startup() {
  local label="$1" js=()
  shift
  if [ "$1" = --js ]; then
    js=(--js)
    shift
  fi
  echo "$label:" >&2
  python3 "$bench/startup.py" "${js[@]}" "$startup_runs" "$@" -a 127.0.0.1 -p '{port}' >"$work/$label.startup" &
  child_pid=$!
  wait "$child_pid"
  child_pid=""
}

if [ "$only" != js ]; then
  echo "== start-up, median of $startup_runs launches each" >&2
  startup nats-server "$nats_server"
  ensure_jetkv_built
  startup jetkv "$root/jetkv"
  # with JetStream on a new empty store directory each launch ({dir})
  startup nats-server-js --js "$nats_server" -js -sd '{dir}'
  ensure_jetkv_built
  startup jetkv-js --js "$root/jetkv" -js -sd '{dir}'
  read -r nats_accept nats_info _ <"$work/nats-server.startup"
  read -r jetkv_accept jetkv_info _ <"$work/jetkv.startup"
  read -r _ nats_js_info _ nats_js_ready <"$work/nats-server-js.startup"
  read -r _ jetkv_js_info _ jetkv_js_ready <"$work/jetkv-js.startup"
fi

value() { awk -v s="$2" '$1 == s { print $2 }' "$work/$1.out"; }
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", b / a; else print "n/a" }'
}
row() { printf '| %-30s | %16s | %16s | %17s |\n' "$@"; }
js_row() { printf '| %-30s | %11s | %11s | %17s | %17s | %23s |\n' "$@"; }

echo
echo "date:        $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:     $(nproc) cores, $(uname -sr), load avg $load_start at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
echo "nats-server: $("$nats_server" --version | sed 's/^nats-server: //')"
rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD 2>/dev/null || rev="$rev + uncommitted changes"
echo "jetkv:       $rev"
echo "java:        $(java -version 2>&1 | head -n 1), jnats $(basename "$jnats" .jar | sed 's/^jnats-//')"
if [ "$only" != js ]; then
  if [ "$only" != startup ]; then
    echo "sizes:       pub $pub_n msgs, pub->sub $pubsub_n msgs, $requests requests, 128-byte payloads"
    echo "             median of $repeats timed runs; start-up median of $startup_runs launches"
  else
    echo "start-up:    median of $startup_runs launches"
  fi
  echo "             start-up -js: a new empty store directory per launch; JS reply: \$JS.API.INFO answered"
  echo
  row "scenario" "nats-server" "JetKV" "JetKV/nats-server"
  printf '|%s|%s|%s|%s|\n' \
    "--------------------------------" "-----------------:" "-----------------:" "------------------:"
  if [ "$only" != startup ]; then
    for scenario in "pub:publish only (msgs/s)" "pubsub:pub -> sub (msgs/s)" "reqrep:request/reply (req/s)"; do
      key="${scenario%%:*}"
      a="$(value nats-server "$key")"
      b="$(value jetkv "$key")"
      row "${scenario#*:}" "${a:-FAIL}" "${b:-FAIL}" "$(ratio "$a" "$b")"
    done
  fi
  row "start-up to accept (ms)" "$nats_accept" "$jetkv_accept" "$(ratio "$nats_accept" "$jetkv_accept")"
  row "start-up to INFO (ms)" "$nats_info" "$jetkv_info" "$(ratio "$nats_info" "$jetkv_info")"
  row "start-up -js to INFO (ms)" "$nats_js_info" "$jetkv_js_info" "$(ratio "$nats_js_info" "$jetkv_js_info")"
  row "start-up -js to JS reply (ms)" "$nats_js_ready" "$jetkv_js_ready" "$(ratio "$nats_js_ready" "$jetkv_js_ready")"
fi
if [ "$only" != core ] && [ "$only" != startup ]; then
  echo
  echo "jetstream:   file storage on $(df -PT "$work" | awk 'NR == 2 { print $2 " (" $1 ")" }'), 128-byte payloads;"
  echo "             sync $js_sync_n, async $js_async_n (window 1024 acks), KV get $js_get_n;"
  echo "             median of $js_repeats timed runs; nats-server default sync (fsync every 2 min)"
  echo
  js_row "scenario" "nats-server" "JetKV" "JetKV/nats-server" "JetKV sync_always" "sync_always/nats-server"
  printf '|%s|%s|%s|%s|%s|%s|\n' "--------------------------------" "------------:" "------------:" \
    "------------------:" "------------------:" "------------------------:"
  for scenario in "jspub:JS publish sync (msgs/s)" "jspubasync:JS publish async (msgs/s)" \
    "kvput:KV put sync (puts/s)" "kvputasync:KV put async (puts/s)" "kvget:KV get (gets/s)"; do
    key="${scenario%%:*}"
    a="$(value nats-server-js "$key")"
    b="$(value jetkv-js "$key")"
    c="$(value jetkv-js-sync "$key")"
    js_row "${scenario#*:}" "${a:-FAIL}" "${b:-FAIL}" "$(ratio "$a" "$b")" "${c:-FAIL}" "$(ratio "$a" "$c")"
  done
fi
