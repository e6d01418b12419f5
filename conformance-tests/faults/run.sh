#!/usr/bin/env bash
# Long run of the KV fault suite: a 3-node cluster (nats-server 2.9.10 or ./jetkv) with an R3 bucket, six jnats
# clients on five keys, random faults for N minutes, then the linearizability check (KvFaultSoakIT).
#   conformance-tests/faults/run.sh [--minutes 10] [--kind nats-server|jetkv] [--seed N]
# The history summary and any violation, explained, are printed at the end; the exit code says pass or fail.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
minutes=10 kind=NATS_SERVER seed="$(date +%s)"
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --kind) case "$2" in
              nats-server) kind=NATS_SERVER ;;
              jetkv) kind=JETKV ;;
              *) echo "--kind nats-server|jetkv" >&2; exit 2 ;;
            esac; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    *) echo "usage: $0 [--minutes N] [--kind nats-server|jetkv] [--seed N]" >&2; exit 2 ;;
  esac
done
cd "$root"
exec mvn -B -o verify -pl conformance-tests -am -Dclients.skip=true -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test=KvFaultSoakIT -Dfaults.minutes="$minutes" -Dfaults.kind="$kind" \
  -Dfaults.seed="$seed" -Dfailsafe.redirectTestOutputToFile=false
