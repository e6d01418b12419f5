#!/usr/bin/env python3
"""Start-up probe: time from launching a server until its client port accepts a TCP connection, and until the
server's INFO line arrives on it. Called by bench/run.sh; standard library only.

usage: startup.py RUNS CMD... ({port} in CMD is replaced by a port the OS picked)
prints: "<median ms to accept> <median ms to INFO> <runs>"; each sample goes to stderr.
"""
import os
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


def launch_once(cmd):
    """Returns (ms to accept, ms to INFO, rebuilt?)."""
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in cmd]
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
        finally:
            stop(proc)
        log.seek(0)
        rebuilt = REBUILD_MARKER in log.read()
    return (t_accept - t0) / 1e6, (t_info - t0) / 1e6, rebuilt


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
    runs = int(sys.argv[1])
    cmd = sys.argv[2:]
    accepts, infos, rebuilds = [], [], 0
    while len(accepts) < runs:
        accept_ms, info_ms, rebuilt = launch_once(cmd)
        if rebuilt:
            rebuilds += 1
            print(f"  discarded a launch that rebuilt the jar ({accept_ms:.0f} ms)", file=sys.stderr)
            if rebuilds > MAX_REBUILDS:
                raise SystemExit("sources keep changing; start-up not measured")
            continue
        print(f"  accept {accept_ms:.1f} ms, INFO {info_ms:.1f} ms", file=sys.stderr)
        accepts.append(accept_ms)
        infos.append(info_ms)
    print(f"{statistics.median(accepts):.1f} {statistics.median(infos):.1f} {runs}")


if __name__ == "__main__":
    main()
