#!/usr/bin/env bash
# Memcheck: the unit tests (plain builds, no sanitizers) and the example servers run under
# valgrind. A step passes when it passes on its own and valgrind reports no error and no
# leak; the servers must also exit 0 after SIGTERM.
#   1. every build/test_* under valgrind --leak-check=full
#   2. the conformance suite (--quick) against build/echo started under valgrind
#   3. a WAMP session (two clients: calls, a deferred call, CURIEs, pub/sub, a web session
#      read from a PHP session file, plain HTTP, a malformed message) against build/demo
# Logs: build/valgrind/. Prints "valgrind: N passed, M failed".
set -u
cd "$(dirname "$0")/.."
out=build/valgrind
mkdir -p "$out"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind: valgrind is not installed (Debian: apt-get install valgrind)"
  echo "valgrind: 0 passed, 1 failed"
  exit 1
fi
VG=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible
    --track-fds=no)

pass=0
fail=0
result() { # result NAME OK DETAIL
  if [ "$2" = 1 ]; then
    printf 'ok   %-22s %s\n' "$1" "$3"
    pass=$((pass + 1))
  else
    printf 'FAIL %-22s %s\n' "$1" "$3"
    fail=$((fail + 1))
  fi
}

# "ERROR SUMMARY: 0 errors" and no lost bytes in every log given
vg_clean() {
  local f ok=1
  for f in "$@"; do
    [ -s "$f" ] || { ok=0; continue; }
    grep -q 'ERROR SUMMARY: 0 errors' "$f" || ok=0
    grep -qE '(definitely|indirectly|possibly) lost: [1-9]' "$f" && ok=0
  done
  [ "$ok" = 1 ]
}

# "valgrind: N errors" summed over the logs given
vg_summary() {
  local n
  n=$(grep -h 'ERROR SUMMARY' "$@" 2>/dev/null | sed -E 's/.*ERROR SUMMARY: ([0-9]+) errors.*/\1/' |
      awk '{ s += $1 } END { print s + 0 }')
  echo "memcheck: $n errors"
}

# ---- 1. unit tests ------------------------------------------------------------------------
for t in tests/test_*.c; do
  n=$(basename "$t" .c)
  log=$out/$n.log
  if ! make -s "build/$n" >"$out/$n.build.log" 2>&1; then
    result "$n" 0 "does not build (see $out/$n.build.log)"
    continue
  fi
  rm -f "$log"
  timeout 600 "${VG[@]}" --log-file="$log" "./build/$n" >"$out/$n.out" 2>&1
  rc=$?
  summary=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$out/$n.out" | tail -n 1)
  if [ "$rc" = 0 ] && vg_clean "$log"; then
    result "$n" 1 "$summary; $(vg_summary "$log")"
  else
    result "$n" 0 "exit $rc; ${summary:-no summary}; $(vg_summary "$log") (log $log)"
    grep -m 8 -E 'Invalid|uninitialised|Uninitialised|lost:|Mismatched|overlap' "$log" | sed 's/^/    /'
  fi
done

make -s build/echo build/demo >"$out/examples.build.log" 2>&1 || true

# ---- 2. conformance against build/echo under valgrind ----------------------------------
if [ -x build/echo ] && [ -f tests/conformance/ws_conformance.py ]; then
  rm -f "$out"/echo.*.log
  # the suite appends "--port 0" to the command and sends SIGTERM at the end
  "$PY" tests/conformance/ws_conformance.py --quick --timeout-scale 4 \
    --server "${VG[*]} --log-file=$out/echo.%p.log build/echo" >"$out/conformance.out" 2>&1
  rc=$?
  summary=$(grep -E 'conformance: [0-9]+ passed' "$out/conformance.out" | tail -n 1)
  logs=("$out"/echo.*.log)
  ok=1
  [ "$rc" = 0 ] || ok=0
  grep -q 'server exit status after SIGTERM' "$out/conformance.out" && ok=0 # printed when not 0
  grep -q 'server process died' "$out/conformance.out" && ok=0
  vg_clean "${logs[@]}" || ok=0
  result "echo-conformance" "$ok" "${summary#conformance: }; ${#logs[@]} server run(s): $(vg_summary "${logs[@]}")"
  if [ "$ok" = 0 ]; then
    grep -E 'FAIL|exit status|died' "$out/conformance.out" | head -n 10 | sed 's/^/    /'
    grep -h -m 8 -E 'Invalid|uninitialised|Uninitialised|lost:' "${logs[@]}" 2>/dev/null | sed 's/^/    /'
  fi
else
  result "echo-conformance" 0 "build/echo or tests/conformance/ws_conformance.py missing"
fi

# ---- 3. a WAMP session against build/demo under valgrind --------------------------------
if [ -x build/demo ]; then
  rm -f "$out"/demo.*.log
  sessdir=$(mktemp -d)
  printf 'user|s:5:"alice";visits|i:3;' >"$sessdir/sess_vgsession1"
  "$PY" - "$out" "$sessdir" "${VG[@]}" >"$out/demo.out" 2>&1 <<'PYEOF'
import base64, json, os, re, select, signal, socket, struct, subprocess, sys, time

out, sessdir, vg = sys.argv[1], sys.argv[2], sys.argv[3:]
RPC, TOPIC = "http://wamp1.dev/rpc#", "http://wamp1.dev/topic/"
checks = [0, 0]

def check(cond, what):
    checks[0 if cond else 1] += 1
    if not cond:
        print("FAIL " + what)

cmd = vg + ["--log-file=%s/demo.%%p.log" % out, "build/demo", "--port", "0", "--session-dir", sessdir]
proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
line = b""
deadline = time.monotonic() + 30
while not line.endswith(b"\n") and time.monotonic() < deadline:
    if select.select([proc.stdout], [], [], 1)[0]:
        ch = os.read(proc.stdout.fileno(), 1)
        if not ch:
            break
        line += ch
m = re.match(rb"listening on (.+):(\d+)", line)
if not m:
    print("FAIL demo did not start: %r" % line)
    proc.kill()
    sys.exit(1)
host, port = m.group(1).decode(), int(m.group(2))


class Client:
    def __init__(self, cookie=None):
        self.s = socket.create_connection((host, port), timeout=20)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp\r\n"
               % (host, port, key))
        if cookie:
            req += "Cookie: PHPSESSID=%s\r\n" % cookie
        self.s.sendall((req + "\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise RuntimeError("handshake: connection closed")
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        check(head.startswith(b"HTTP/1.1 101 "), "handshake: %r" % head[:40])
        welcome = self.recv()
        check(welcome[0] == 0 and len(welcome[1]) >= 16 and welcome[2] == 1, "WELCOME %r" % welcome)
        self.sid = welcome[1]

    def send_frame(self, op, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | op])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.s.sendall(head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload)))

    def send(self, msg):
        self.send_frame(1, json.dumps(msg).encode())

    def frame(self):
        while True:
            if len(self.buf) >= 2:
                n, h = self.buf[1] & 127, 2
                if n == 126 and len(self.buf) >= 4:
                    n, h = struct.unpack(">H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, h = struct.unpack(">Q", self.buf[2:10])[0], 10
                if n < 126 or h > 2:
                    if len(self.buf) >= h + n:
                        op, payload = self.buf[0] & 15, self.buf[h:h + n]
                        self.buf = self.buf[h + n:]
                        return op, payload
            d = self.s.recv(65536)
            if not d:
                raise RuntimeError("connection closed")
            self.buf += d

    def recv(self):
        while True:
            op, payload = self.frame()
            if op == 1:
                return json.loads(payload)
            if op == 9:
                self.send_frame(10, payload)
            elif op == 8:
                raise RuntimeError("close frame %r" % payload)

    def call(self, cid, proc_uri, *args):
        self.send([2, cid, proc_uri] + list(args))
        return self.recv()


try:
    a = Client()
    b = Client(cookie="vgsession1")
    r = a.call("c1", RPC + "add", 1, 2, 3.5)
    check(r == [3, "c1", 6.5], "add: %r" % r)
    r = a.call("c2", RPC + "echo", "héllo", [1, {"k": None}], True)
    check(r == [3, "c2", ["héllo", [1, {"k": None}], True]], "echo: %r" % r)
    r = a.call("c3", RPC + "fail", 7)
    check(r[0] == 4 and r[1] == "c3", "fail: %r" % r)
    r = a.call("c4", RPC + "nosuch")
    check(r[0] == 4 and r[1] == "c4", "no such procedure: %r" % r)
    a.send([1, "rpc", RPC])
    r = a.call("c5", "rpc:session")
    check(r == [3, "c5", a.sid], "CURIE call: %r" % r)
    r = b.call("c6", RPC + "websession")
    check(r == [3, "c6", {"user": "alice", "visits": 3}], "websession: %r" % r)
    r = a.call("c7", RPC + "sleep", 50)
    check(r == [3, "c7", 50], "deferred sleep: %r" % r)
    b.send([5, TOPIC + "news"])
    a.send([5, TOPIC + "news"])
    # each connection's SUBSCRIBE is handled before its next call is answered; nothing
    # orders one connection's messages against another's
    a.call("c7a", RPC + "echo")
    r = b.call("c8", RPC + "stats")
    check(r[0] == 3 and r[2]["subscriptions"] == 2, "stats: %r" % r)
    a.send([7, TOPIC + "news", {"n": 1}])
    r = b.recv()
    check(r == [8, TOPIC + "news", {"n": 1}], "event: %r" % r)
    b.send([7, TOPIC + "news", "all", False])
    check(a.recv() == [8, TOPIC + "news", "all"], "event to a")
    check(b.recv() == [8, TOPIC + "news", "all"], "event to b (not excluded)")
    a.send([2, "c9", RPC + "publish", TOPIC + "news", [1, 2]])
    r = [a.recv(), a.recv()]  # the event is queued before the answer
    check(r == [[8, TOPIC + "news", [1, 2]], [3, "c9", None]], "rpc#publish: %r" % r)
    check(b.recv() == [8, TOPIC + "news", [1, 2]], "event from rpc#publish")
    a.send([6, TOPIC + "news"])
    a.send_frame(1, b"[2, not json")
    r = a.call("c10", RPC + "echo", "x" * 20000)
    check(r == [3, "c10", ["x" * 20000]], "large echo")
    # a plain HTTP request
    h = socket.create_connection((host, port), timeout=20)
    h.sendall(("GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode())
    resp = b""
    while True:
        d = h.recv(4096)
        if not d:
            break
        resp += d
    check(resp.startswith(b"HTTP/1.1 200 "), "plain GET: %r" % resp[:30])
    h.close()
    # a closing handshake, and a client that just vanishes
    a.send_frame(8, struct.pack(">H", 1000))
    op, payload = a.frame()
    check(op == 8, "close answered")
    a.s.close()
    b.s.close()
    time.sleep(0.5)
except Exception as e:  # a client error is a failed check, the server still gets stopped
    check(False, "client error: %r" % e)

proc.send_signal(signal.SIGTERM)
try:
    rc = proc.wait(60)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = "killed after 60 s"
check(rc == 0, "demo exit status after SIGTERM: %r" % rc)
print("demo: %d passed, %d failed" % tuple(checks))
sys.exit(1 if checks[1] else 0)
PYEOF
  rc=$?
  rm -rf "$sessdir"
  logs=("$out"/demo.*.log)
  summary=$(grep -E 'demo: [0-9]+ passed' "$out/demo.out" | tail -n 1)
  ok=1
  [ "$rc" = 0 ] || ok=0
  vg_clean "${logs[@]}" || ok=0
  result "demo-wamp-session" "$ok" "${summary#demo: } checks; $(vg_summary "${logs[@]}")"
  if [ "$ok" = 0 ]; then
    grep -E 'FAIL|Error' "$out/demo.out" | head -n 10 | sed 's/^/    /'
    grep -h -m 8 -E 'Invalid|uninitialised|Uninitialised|lost:' "${logs[@]}" 2>/dev/null | sed 's/^/    /'
  fi
else
  result "demo-wamp-session" 0 "build/demo missing"
fi

echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
