#!/usr/bin/env python3
"""Start-up probe: time from launching a server until its client port accepts a TCP connection, and until the
server's INFO line arrives on it; with --js also until it answers a $JS.API.INFO request (JetStream is up).
Called by bench/run.sh; standard library only.

usage: startup.py [--js] RUNS CMD... ({port} in CMD is replaced by a port the OS picked, {dir} by a new empty
       directory for each launch)
prints: "<median ms to accept> <median ms to INFO> <runs>" and with --js " <median ms to the JetStream reply>";
        each sample goes to stderr.
"""
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

DEADLINE_S = 120  # bounded wait per launch; generous because ./jetkv may have to rebuild first
POLL_S = 0.001  # short sleep rather than a spin: a busy loop would steal one of the two cores from the server
REBUILD_MARKER = b"building the server"  # ./jetkv's notice; such a launch measures Maven, not start-up
MAX_REBUILDS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


JS_REQUEST = b"CONNECT {\"verbose\":false}\r\nSUB _INBOX.startup 1\r\nPUB $JS.API.INFO _INBOX.startup 0\r\n\r\n"


def launch_once(cmd, js):
    """Returns (ms to accept, ms to INFO, ms to the JetStream reply or None, rebuilt?)."""
    port = free_port()
    store = tempfile.mkdtemp(prefix="startup-")
    try:
        return launch_in(cmd, js, port, store)
    finally:
        shutil.rmtree(store, ignore_errors=True)


def launch_in(cmd, js, port, store):
    argv = [a.replace("{port}", str(port)).replace("{dir}", store) for a in cmd]
    with tempfile.TemporaryFile() as log:
        t0 = time.perf_counter_ns()
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + DEADLINE_S
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{argv[0]} exited with {proc.returncode}: {log.read()[-2000:]!r}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not listen on {port} within {DEADLINE_S}s")
                try:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
                    break
                except OSError:
                    time.sleep(POLL_S)
            t_accept = time.perf_counter_ns()
            with sock:
                buf = b""
                while b"\r\n" not in buf:
                    chunk = sock.recv(4096)
                    if not chunk:
                        raise RuntimeError(f"{argv[0]} closed the connection before INFO")
                    buf += chunk
                t_info = time.perf_counter_ns()
                if not buf.startswith(b"INFO"):
                    raise RuntimeError(f"{argv[0]} sent {buf[:80]!r} instead of INFO")
                t_js = None
                if js:
                    # a server that listens before JetStream is up answers once it is
                    sock.sendall(JS_REQUEST)
                    buf = b""
                    while b"MSG _INBOX.startup" not in buf:
                        chunk = sock.recv(4096)
                        if not chunk:
                            raise RuntimeError(f"{argv[0]} closed the connection before its JetStream reply")
                        buf += chunk
                    t_js = time.perf_counter_ns()
        finally:
            stop(proc)
        log.seek(0)
        rebuilt = REBUILD_MARKER in log.read()
    js_ms = None if t_js is None else (t_js - t0) / 1e6
    return (t_accept - t0) / 1e6, (t_info - t0) / 1e6, js_ms, rebuilt


def stop(proc):
    # The whole process group: ./jetkv execs java, but if it is still inside Maven, Maven is a child.
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def main():
    # SIGTERM (run.sh's cleanup) unwinds like Ctrl-C, so launch_once's finally stops the server it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = sys.argv[1:]
    js = args[0] == "--js"
    if js:
        args = args[1:]
    runs = int(args[0])
    cmd = args[1:]
    accepts, infos, jss, rebuilds = [], [], [], 0
    while len(accepts) < runs:
        accept_ms, info_ms, js_ms, rebuilt = launch_once(cmd, js)
        if rebuilt:
            rebuilds += 1
            print(f"  discarded a launch that rebuilt the jar ({accept_ms:.0f} ms)", file=sys.stderr)
            if rebuilds > MAX_REBUILDS:
                raise SystemExit("sources keep changing; start-up not measured")
            continue
        js_note = "" if js_ms is None else f", JetStream reply {js_ms:.1f} ms"
        print(f"  accept {accept_ms:.1f} ms, INFO {info_ms:.1f} ms{js_note}", file=sys.stderr)
        accepts.append(accept_ms)
        infos.append(info_ms)
        if js_ms is not None:
            jss.append(js_ms)
    line = f"{statistics.median(accepts):.1f} {statistics.median(infos):.1f} {runs}"
    if js:
        line += f" {statistics.median(jss):.1f}"
    print(line)


if __name__ == "__main__":
    main()
