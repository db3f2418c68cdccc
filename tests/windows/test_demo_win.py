#!/usr/bin/python3
"""The Windows demo (build/demo-win.exe) under wine, driven by a Linux client (python3-websocket)
over loopback: the listening line, WELCOME, calls, CURIEs, an asynchronous call, pub/sub, plain
HTTP, the handshake refusal, bad options, a port in use, and the shutdown on Ctrl+C, which is
what wine makes of SIGINT (close 1001 to every client, exit 0 within 2 s).

    /usr/bin/python3 tests/windows/test_demo_win.py build/demo-win.exe

The program is started as `wine build/demo-win.exe` (set WINE to use another loader); run it
from tests/windows/run.sh, which sets up the wine prefix. Prints PASS/FAIL per test and ends
with `win-demo: N passed, M failed`."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import websocket  # Debian python3-websocket

RPC = "http://wamp1.dev/rpc#"
TOPIC = "http://wamp1.dev/topic/"
SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{16,}$")
WINE = os.environ.get("WINE", "wine")
os.environ.setdefault("WINEDEBUG", "-all")  # wine's own notes would land on stderr
EXE = sys.argv[1] if len(sys.argv) > 1 else "build/demo-win.exe"
START_TIMEOUT = 30.0  # the first start in a fresh wine prefix is slow

passed = failed = 0


def result(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS %s" % name, flush=True)
    else:
        failed += 1
        print("FAIL %s%s" % (name, ": " + detail if detail else ""), flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Demo:
    """wine EXE --port 0 ARGS; stdout is a pipe, stderr a file."""

    def __init__(self, *args, host="127.0.0.1"):
        self.host = host
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([WINE, EXE, "--port", "0", "--host", host] + list(args), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.err)
        self.out = b""
        deadline = time.monotonic() + START_TIMEOUT
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.out:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.kill()
                raise AssertionError("no listening line (stdout %r, stderr %r)" % (self.out, self.stderr()))
            import select
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    continue
                self.out += chunk
        self.line = self.out.split(b"\n", 1)[0]
        m = re.fullmatch(rb"listening on " + re.escape(host.encode()) + rb":(\d+)", self.line)
        if not m:
            self.kill()
            raise AssertionError("first stdout line %r" % self.line)
        self.port = int(m.group(1))

    def url(self):
        return "ws://127.0.0.1:%d/" % self.port

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def rest_of_stdout(self):
        data = self.proc.stdout.read()
        return self.out + (data or b"")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def ctrl_c(self):
        self.proc.send_signal(signal.SIGINT)


class Client:
    def __init__(self, demo):
        self.ws = websocket.create_connection(demo.url(), subprotocols=["wamp"], timeout=10)
        self.welcome = self.recv()
        self.n = 0

    def send(self, msg):
        self.ws.send(json.dumps(msg))

    def recv(self, timeout=10.0):
        self.ws.settimeout(timeout)
        return json.loads(self.ws.recv())

    def call(self, uri, *args):
        self.n += 1
        cid = "c%d" % self.n
        self.send([2, cid, uri] + list(args))
        while True:
            m = self.recv()
            if m[0] in (3, 4) and m[1] == cid:
                return m

    def quiet(self, duration):
        """Messages that arrive within duration seconds."""
        got = []
        end = time.monotonic() + duration
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return got
            try:
                got.append(self.recv(left))
            except websocket.WebSocketTimeoutException:
                return got

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


def run_expect_exit(args, timeout=20.0):
    """Runs the exe expecting it to end by itself: (status, stdout, stderr). Files, not pipes:
    a wineserver started by this run must not hold the pipes open."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([WINE, EXE] + args, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise AssertionError("%r still running after %.0f s" % (args, timeout))
        out.seek(0)
        err.seek(0)
        return rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")


def raw_request(port, request):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(request.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode("latin-1")


# ---- the tests -------------------------------------------------------------------------------

def t_welcome_and_calls(d):
    a = Client(d)
    w = a.welcome
    check(isinstance(w, list) and len(w) == 4 and w[0] == 0 and w[2] == 1 and isinstance(w[3], str),
          "WELCOME %r" % (w,))
    check(isinstance(w[1], str) and SESSION_RE.match(w[1]), "sessionId %r" % (w[1],))
    check(a.ws.subprotocol == "wamp", "subprotocol %r" % a.ws.subprotocol)
    check(a.call(RPC + "add", 1, 2, 3)[2] == 6, "add")
    check(a.call(RPC + "add", [1.5, 2])[2] == 3.5, "add of an array")
    m = a.call(RPC + "add", "x")
    check(m[0] == 4 and m[2] == "http://api.wamp.ws/error#invalid_argument", "add('x') %r" % (m,))
    args = [None, True, "\u00e9\U0001F600", {"k": [1, 2.5, {}]}, []]
    check(a.call(RPC + "echo", *args) == [3, "c%d" % a.n, args], "echo")
    m = a.call(RPC + "fail", 7)
    check(m == [4, "c%d" % a.n, "http://wamp1.dev/error#fail", "requested failure", [7]], "fail %r" % (m,))
    check(a.call(RPC + "session")[2] == w[1], "session")
    m = a.call("http://wamp1.dev/rpc#nope")
    check(m[0] == 4 and m[2] == "http://api.wamp.ws/error#NoSuchRPCEndpoint" and "nope" in m[3],
          "unknown RPC %r" % (m,))
    a.send([1, "calc", RPC])
    check(a.call("calc:add", 40, 2)[2] == 42, "CURIE call")
    b = Client(d)
    check(b.welcome[1] != w[1], "two clients, one sessionId")
    st = a.call(RPC + "stats")[2]
    check(st["connections"] == 2 and st["connections_max"] == 1000, "stats %r" % (st,))
    a.close()
    b.close()


def t_async_call(d):
    a = Client(d)
    a.send([2, "slow", RPC + "sleep", 400])
    t0 = time.monotonic()
    a.send([2, "fast", RPC + "add", 1, 1])
    first = a.recv()
    second = a.recv()
    took = time.monotonic() - t0
    check(first == [3, "fast", 2], "the fast call first: %r" % (first,))
    check(second == [3, "slow", 400], "then the sleep: %r" % (second,))
    check(0.35 <= took < 3.0, "sleep 400 ms took %.2f s" % took)
    a.close()


def t_pubsub(d):
    a, b, c = Client(d), Client(d), Client(d)
    t = TOPIC + "news"
    for x in (a, b):
        x.send([5, t])
        x.call(RPC + "echo")  # the SUBSCRIBE is handled before the answer
    a.send([7, t, {"n": 1}, True])  # excludeMe
    check(b.recv() == [8, t, {"n": 1}], "b gets the event")
    a.send([7, t, "two", False])
    check(a.recv() == [8, t, "two"] and b.recv() == [8, t, "two"], "excludeMe false")
    a.send([7, t, "three", [], [b.welcome[1]]])  # eligible: b only
    check(b.recv() == [8, t, "three"], "eligible")
    check(a.quiet(0.3) == [] and c.quiet(0.1) == [], "no stray events")
    m = c.call(RPC + "publish", t, [1, 2])
    check(m[2] is None, "rpc#publish answer %r" % (m,))
    check(a.recv() == [8, t, [1, 2]] and b.recv() == [8, t, [1, 2]], "rpc#publish reaches every subscriber")
    b.send([6, t])
    b.call(RPC + "echo")
    a.send([7, t, "four", False])
    check(a.recv() == [8, t, "four"], "a still subscribed")
    check(b.quiet(0.3) == [], "b unsubscribed")
    a.send([7, TOPIC + "other", "x", False])
    check(a.quiet(0.3) == [], "a topic nobody subscribed to")
    for x in (a, b, c):
        x.close()


def t_http(d):
    r = raw_request(d.port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    check(r.startswith("HTTP/1.1 200"), "GET / %r" % r[:40])
    r = raw_request(d.port, "GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    check(r.startswith("HTTP/1.1 404"), "GET /nothing %r" % r[:40])
    r = raw_request(d.port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    check(r.startswith("HTTP/1.1 426"), "no subprotocol %r" % r[:40])


def t_shutdown():
    d = Demo()
    clients = [Client(d) for _ in range(3)]
    clients[0].call(RPC + "echo", 1)
    t0 = time.monotonic()
    d.ctrl_c()
    codes = []
    for x in clients:
        x.ws.settimeout(5)
        try:
            op, frame = x.ws.recv_data_frame(control_frame=True)
            codes.append(int.from_bytes(frame.data[:2], "big") if op == 8 else ("op", op))
        except Exception as e:  # noqa: BLE001
            codes.append(repr(e))
    try:
        rc = d.proc.wait(5)
    except subprocess.TimeoutExpired:
        rc = None
    took = time.monotonic() - t0
    for x in clients:
        x.close()
    if rc is None:
        d.kill()
    check(codes == [1001, 1001, 1001], "close codes %r" % (codes,))
    check(rc == 0, "exit status %r" % rc)
    check(took < 2.0, "exit after %.2f s" % took)
    out = d.rest_of_stdout()
    check(out == d.line + b"\n", "stdout must be the one line, got %r" % out)


def t_shutdown_silent_client():
    """A client that never answers the close: the process still ends within 2 s."""
    d = Demo()
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
              b"Sec-WebSocket-Protocol: wamp\r\n\r\n")
    time.sleep(0.3)
    t0 = time.monotonic()
    d.ctrl_c()
    try:
        rc = d.proc.wait(5)
    except subprocess.TimeoutExpired:
        rc = None
    took = time.monotonic() - t0
    data = b""
    s.settimeout(1)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    if rc is None:
        d.kill()
    check(rc == 0, "exit status %r" % rc)
    check(took < 2.0, "exit after %.2f s" % took)
    check(b"\x88\x16\x03\xe9" in data or re.search(rb"\x88.\x03\xe9", data) is not None,
          "close 1001 in what the client received")


def t_bad_options():
    for args in (["--bogus", "1"], ["--port", "x"], ["--port", "65536"], ["--keepalive", "-1"], ["--port"],
                 ["--tls-cert", "a", "--tls-key", "b"]):
        rc, out, err = run_expect_exit(args)
        check(rc == 2 and out == "" and err.count("\n") == 1 and err.endswith("\n"),
              "%r: status %r, stdout %r, stderr %r" % (args, rc, out, err))


def t_port_in_use():
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.bind((host, 0))
            s.listen(1)
            rc, out, err = run_expect_exit(["--host", host, "--port", str(s.getsockname()[1])])
            check(rc == 2 and out == "" and err.count("\n") == 1, "%s: status %r, stderr %r" % (host, rc, err))
        finally:
            s.close()


def t_ipv6():
    d = Demo(host="::1")
    try:
        ws = websocket.create_connection("ws://[::1]:%d/" % d.port, subprotocols=["wamp"], timeout=10)
        w = json.loads(ws.recv())
        check(w[0] == 0, "WELCOME over IPv6")
        ws.close()
    finally:
        d.ctrl_c()
        try:
            d.proc.wait(5)
        except subprocess.TimeoutExpired:
            d.kill()


def main():
    if not os.path.exists(EXE):
        print("FAIL setup: %s does not exist (run tests/windows/build.sh)" % EXE)
        print("win-demo: 0 passed, 1 failed")
        return 1
    start = time.monotonic()
    d = None
    try:
        d = Demo()
        result("listening_line", True)
    except Exception as e:  # noqa: BLE001
        result("listening_line", False, str(e))
    if d is not None:
        for fn in (t_welcome_and_calls, t_async_call, t_pubsub, t_http):
            try:
                fn(d)
                result(fn.__name__[2:], True)
            except Exception as e:  # noqa: BLE001
                result(fn.__name__[2:], False, "%s\n%s" % (e, traceback.format_exc(limit=2)))
        d.ctrl_c()
        try:
            d.proc.wait(5)
        except subprocess.TimeoutExpired:
            d.kill()
    for fn in (t_shutdown, t_shutdown_silent_client, t_bad_options, t_port_in_use, t_ipv6):
        try:
            fn()
            result(fn.__name__[2:], True)
        except Exception as e:  # noqa: BLE001
            result(fn.__name__[2:], False, str(e))
    print("runtime %.1f s" % (time.monotonic() - start))
    print("win-demo: %d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
