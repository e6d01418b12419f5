#!/usr/bin/env bash
# Installs what run.sh needs for the three client walkthroughs: Go with Debian's nats.go sources (built
# in GOPATH mode, no module proxy), nats.c, gcc, the reference nats-server, node/npm, and the pinned
# nats.js packages (npm ci from js/package-lock.json); and Chromium, for the web console's browser test. Safe to run again: installs only what is missing.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"

pkgs=()
command -v go >/dev/null 2>&1 || pkgs+=(golang-go)
[ -d /usr/share/gocode/src/github.com/nats-io/nats.go ] || pkgs+=(golang-github-nats-io-go-nats-dev)
[ -f /usr/include/nats/nats.h ] || pkgs+=(libnats-dev)
command -v gcc >/dev/null 2>&1 || pkgs+=(gcc)
[ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null 2>&1 || pkgs+=(nats-server)
# nats.js 3.x needs node 18 or later; the machine image ships node 20 with npm.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
# the monitoring port's KV console is tested in a real browser (server module, ConsoleIT)
[ -x /usr/bin/chromium ] || pkgs+=(chromium)

if [ "${#pkgs[@]}" -gt 0 ]; then
  echo "install.sh: apt-get install ${pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

# Exactly the versions in package-lock.json.
(cd "$here/js" && npm ci --no-audit --no-fund --loglevel=error)
