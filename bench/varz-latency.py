#!/usr/bin/env python3
"""/varz latency with many connections and streams: starts ./jetkv (or nats-server with SERVER=nats-server),
holds CONNS client connections, creates STREAMS streams, then times GETS requests to /varz over one
keep-alive HTTP connection. Prints median, p90, p99 and mean in ms. A measurement, not a test."""
import http.client, json, os, socket, statistics, subprocess, sys, tempfile, time

CONNS = int(os.environ.get("CONNS", "500"))
STREAMS = int(os.environ.get("STREAMS", "300"))
GETS = int(os.environ.get("GETS", "2000"))
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

port, mport = free_port(), free_port()
store = tempfile.mkdtemp(prefix="varz-bench-")
exe = os.environ.get("SERVER", os.path.join(root, "jetkv"))
proc = subprocess.Popen([exe, "-a", "127.0.0.1", "-p", str(port), "-m", str(mport), "-js", "-sd", store],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.time() + 120
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", mport, timeout=5); c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                break
        except OSError:
            pass
        if time.time() > deadline:
            sys.exit("server did not become healthy")
        time.sleep(0.2)
    held = []
    for i in range(CONNS):
        s = socket.create_connection(("127.0.0.1", port)); s.recv(4096)
        s.sendall(b'CONNECT {"verbose":false}\r\nSUB held.%d 1\r\nPING\r\n' % i); held.append(s)
    for s in held:
        buf = b""
        while b"PONG" not in buf:
            buf += s.recv(4096)
    api = socket.create_connection(("127.0.0.1", port)); api.recv(4096)
    api.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.bench 9\r\n')
    for i in range(STREAMS):
        body = json.dumps({"name": "S%d" % i, "subjects": ["s%d.>" % i], "storage": "memory"}).encode()
        api.sendall(b"PUB $JS.API.STREAM.CREATE.S%d _INBOX.bench %d\r\n%s\r\n" % (i, len(body), body))
        buf = b""
        while b"MSG _INBOX.bench" not in buf:
            buf += api.recv(65536)
    http_conn = http.client.HTTPConnection("127.0.0.1", mport, timeout=10)
    times = []
    for i in range(GETS):
        t = time.perf_counter()
        http_conn.request("GET", "/varz")
        r = http_conn.getresponse(); body = r.read()
        times.append((time.perf_counter() - t) * 1000)
        if i == 0:
            v = json.loads(body)
            assert v["connections"] >= CONNS + 1, v["connections"]
    times = times[len(times) // 10:]  # the first tenth warms up
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(len(times) * p))]
    print("conns=%d streams=%d gets=%d median=%.3fms p90=%.3fms p99=%.3fms mean=%.3fms"
          % (CONNS, STREAMS, GETS, statistics.median(times), q(0.9), q(0.99), statistics.mean(times)))
finally:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
