# Server handling shared by bench/consumers.sh, bench/kv-scale.sh and bench/rounds.sh; sourced, not run. The
# caller sets root (the repository) and calls bench_cleanup from its EXIT trap. Sourcing checks the tools (nats-server
# on PATH or NATS_SERVER, jnats 2.25.1 in ~/.m2 or JNATS_JAR) and sets nats_server, jnats, work (a scratch
# directory bench_cleanup removes) and load_start. Each server picks its own port (-p -1) and names it in its
# log, as nats-server does, so nothing probes for a free port. KEEP_WORK=1 keeps the scratch directory (the
# servers' logs) for a look after the run.

nats_server="${NATS_SERVER:-nats-server}"
jnats="${JNATS_JAR:-$HOME/.m2/repository/io/nats/jnats/2.25.1/jnats-2.25.1.jar}"
if ! command -v "$nats_server" >/dev/null; then
  echo "$(basename "$0"): $nats_server not found (apt-get install nats-server, or set NATS_SERVER)" >&2
  exit 1
fi
if [ ! -f "$jnats" ]; then
  echo "$(basename "$0"): $jnats missing; run 'mvn -q -DskipTests package' once, or set JNATS_JAR" >&2
  exit 1
fi
work="$(mktemp -d)"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

server_pid=""
server_port=""
child_pid=""
sampler_pid=""

bench_cleanup() {
  if [ -n "$child_pid" ]; then
    kill "$child_pid" 2>/dev/null || true
    wait "$child_pid" 2>/dev/null || true
  fi
  stop_sampler
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "${KEEP_WORK:-}" ]; then
    echo "kept the scratch directory (KEEP_WORK): $work" >&2
  else
    rm -rf "$work"
  fi
}

# ./jetkv --version goes through the launcher's own staleness check, builds if needed, and exits, so the
# measured launch starts the jar at once. Retried once: a launcher racing another one (a rebuild, or unpacking
# the native library) can fail.
ensure_jetkv_built() {
  "$root/jetkv" --version >/dev/null || "$root/jetkv" --version >/dev/null
}

# start_server LABEL CMD...: runs CMD -a 127.0.0.1 -p -1 with its log in $work/LABEL.log; sets server_pid (the
# server itself: ./jetkv execs java) and server_port. Bounded wait: 120 s, because ./jetkv rebuilds first if
# someone touched the sources since ensure_jetkv_built.
start_server() {
  local label="$1" i
  shift
  "$@" -a 127.0.0.1 -p -1 >"$work/$label.log" 2>&1 &
  server_pid=$!
  for ((i = 0; i < 1200; i++)); do
    server_port="$(sed -n 's/.*Listening for client connections on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
      "$work/$label.log" | head -n 1)"
    if [ -n "$server_port" ]; then
      if grep -q 'building the server' "$work/$label.log"; then
        echo "note: ./jetkv rebuilt the jar right before this launch (sources changed during the run)" >&2
      fi
      echo "== $label on port $server_port, pid $server_pid ($(cat "/proc/$server_pid/comm"))" >&2
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  echo "$label did not report a listening port; its log:" >&2
  tail -n 30 "$work/$label.log" >&2
  exit 1
}

# stop_server LABEL: records the server's peak resident set (VmHWM, kB) in $work/LABEL.hwm, then stops it.
stop_server() {
  local label="$1"
  vm_field VmHWM "$server_pid" >"$work/$label.hwm"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# vm_field FIELD PID: one kB figure from /proc/PID/status, empty if the process is gone.
vm_field() {
  awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/status" 2>/dev/null || true
}

# start_sampler LABEL: every 0.5 s, "seconds VmRSS VmHWM" of the running server into $work/LABEL.rss, so the
# peak is known even if the server dies and the curve shows whether memory levels off.
start_sampler() {
  local label="$1" pid="$server_pid"
  (
    t0="$(date +%s.%N)"
    while kill -0 "$pid" 2>/dev/null; do
      line="$(awk '$1 == "VmRSS:" { r = $2 } $1 == "VmHWM:" { h = $2 } END { print r, h }' "/proc/$pid/status" \
        2>/dev/null)" || break
      echo "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') $line"
      sleep 0.5
    done
  ) >"$work/$label.rss" &
  sampler_pid=$!
}

stop_sampler() {
  if [ -n "$sampler_pid" ]; then
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=""
  fi
}

# run_client LABEL CLASS ARGS...: the Java client in the background with wait, so that a signal reaches the
# caller's traps at once rather than after the run; stdout into $work/LABEL.out, stderr passed through.
run_client() {
  local label="$1"
  shift
  # shellcheck disable=SC2086 # CLIENT_JAVA_OPTS: -D options of the client, split on spaces
  java ${CLIENT_JAVA_OPTS:-} -cp "$jnats:$work/classes" "$@" >"$work/$label.out" &
  child_pid=$!
  wait "$child_pid" || echo "$label: client exited with $?" >&2
  child_pid=""
  cat "$work/$label.out" >&2
}

# value LABEL KEY: the figure after KEY in $work/LABEL.out ("FAIL" lines give FAIL).
value() { awk -v k="$2" '$1 == k { print $2 }' "$work/$1.out"; }

# ratio A B: B / A to two places, n/a unless both are positive numbers.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", b / a; else print "n/a" }'
}

mb() { awk -v k="$1" 'BEGIN { if (k + 0 > 0) printf "%.0f", k / 1024; else print "n/a" }'; }

describe_run() {
  echo "date:        $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine:     $(nproc) cores, $(uname -sr), load avg $load_start at start," \
    "$(cut -d' ' -f1-3 /proc/loadavg) at end"
  echo "nats-server: $("$nats_server" --version | sed 's/^nats-server: //')"
  local rev
  rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  git -C "$root" diff --quiet HEAD 2>/dev/null || rev="$rev + uncommitted changes"
  echo "jetkv:       $rev"
  echo "java:        $(java -version 2>&1 | head -n 1), jnats $(basename "$jnats" .jar | sed 's/^jnats-//')"
  echo "store:       file storage on $(df -PT "$work" | awk 'NR == 2 { print $2 " (" $1 ")" }')"
}
