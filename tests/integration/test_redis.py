#!/usr/bin/python3
"""Several build/demo nodes joined through a private redis-server (--redis): the WAMP v1
PUBLISH rules across nodes, server-side publish, subscription churn against Redis's own
view (PUBSUB CHANNELS / NUMSUB), a Redis restart in the middle, AUTH (password, ACL user),
and a hostile fake Redis. Loopback only; every Redis here is started by this script.

    /usr/bin/python3 tests/integration/test_redis.py build/demo [-k=NAME ...]

Prints PASS/FAIL per test and ends with `integration-redis: N passed, M failed`."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wamp_harness as H  # noqa: E402
from wamp_harness import RPC, TOPIC, Demo, Wamp, check, eq  # noqa: E402

R = H.Runner("integration-redis", per_test_limit=25.0, budget=90.0)
test = R.test
REDIS = shutil.which("redis-server")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Redis:
    """A private redis-server on 127.0.0.1 (no persistence)."""

    def __init__(self, *extra, port=None):
        self.port = port or free_port()
        self.extra = list(extra)
        self.dir = tempfile.mkdtemp(prefix="wamp1-redis-")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir, "--protected-mode", "no",
                                      "--loglevel", "warning"] + self.extra,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("redis-server did not start on port %d" % self.port)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def cmd(self, *args, auth=None):
        """One command over a fresh RESP2 connection; returns the parsed reply."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=3)
        f = s.makefile("rb")
        try:
            if auth:
                s.sendall(enc(["AUTH"] + list(auth)))
                read_reply(f)
            s.sendall(enc(list(args)))
            return read_reply(f)
        finally:
            f.close()
            s.close()

    def addr(self):
        return "127.0.0.1:%d" % self.port

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def enc(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_reply(f):
    line = f.readline()
    if not line:
        raise AssertionError("redis closed the connection")
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b"-"):
        return rest.decode() if t == b"+" else Exception(rest.decode())
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        d = f.read(n + 2)
        return d[:-2].decode()
    if t == b"*":
        return [read_reply(f) for _ in range(int(rest))]
    raise AssertionError("unexpected reply %r" % line)


def numsub(r, chans, auth=None):
    rep = r.cmd("PUBSUB", "NUMSUB", *chans, auth=auth)
    return {rep[i]: rep[i + 1] for i in range(0, len(rep), 2)}


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.03)


def stats(c):
    return c.call_ok(RPC + "stats")


def redis_stats(c):
    st = stats(c)
    check("redis" in st, "rpc#stats has no redis object: %r" % st)
    return st["redis"]


def node(r, *extra):
    return Demo("--redis", r.addr(), *extra)


def verbose_node(r, *extra):
    """A node whose error hook prints (WAMP1_DEMO_VERBOSE): what the hook was told."""
    os.environ["WAMP1_DEMO_VERBOSE"] = "1"
    try:
        return Demo("--redis", r.addr(), *extra)
    finally:
        del os.environ["WAMP1_DEMO_VERBOSE"]


def joined(clients, topic, r, nodes, prefix="wamp1:", auth=None):
    """Subscribe clients to topic and wait until Redis counts `nodes` node subscriptions."""
    for c in clients:
        c.send([5, topic])
    for c in clients:
        c.sync()
    wait_until(lambda: numsub(r, [prefix + topic], auth).get(prefix + topic) == nodes, 5,
               "%d nodes subscribed to %s" % (nodes, topic))


def got(c, duration=0.4):
    return [e[2] for e in c.events(duration)]


# ---- the PUBLISH table across nodes -----------------------------------------------------------

@test
def test_cross_node_exactly_once():
    with Redis() as r, node(r) as a, node(r) as b, node(r) as c:
        pa, a2, cb, cc = Wamp(a.url()), Wamp(a.url()), Wamp(b.url()), Wamp(c.url())
        t = TOPIC + "once"
        joined([pa, a2, cb, cc], t, r, 3)
        pa.send([7, t, {"n": 1}])
        eq(got(a2), [{"n": 1}], "same-node subscriber")
        eq(got(cb), [{"n": 1}], "node B")
        eq(got(cc), [{"n": 1}], "node C")
        eq(got(pa, 0.1), [], "the publisher (excluded by default)")
        # one Redis PUBLISH per event: B and C each received one message, A ignored its own
        sa, sb, sc = redis_stats(pa), redis_stats(cb), redis_stats(cc)
        eq([sa["published"], sb["received"], sc["received"], sa["own"], sa["received"]], [1, 1, 1, 1, 0])
        eq(sa["state"], "up")
        eq(sa["channels"], 1)


@test
def test_publish_rules_across_nodes():
    """Each row of the PUBLISH table with publisher and receivers on other nodes."""
    with Redis() as r, node(r) as a, node(r) as b, node(r) as c:
        p, a2, b1, b2, c1 = Wamp(a.url()), Wamp(a.url()), Wamp(b.url()), Wamp(b.url()), Wamp(c.url())
        t = TOPIC + "rules"
        everyone = [p, a2, b1, b2, c1]
        joined(everyone, t, r, 3)
        rows = [
            ("[7,T,E]", [7, t, "e1"], {a2, b1, b2, c1}),
            ("excludeMe true", [7, t, "e2", True], {a2, b1, b2, c1}),
            ("excludeMe false", [7, t, "e3", False], {p, a2, b1, b2, c1}),
            ("exclude [b1, a2]", [7, t, "e4", [b1.session, a2.session]], {p, b2, c1}),
            ("exclude [] eligible [b2, p]", [7, t, "e5", [], [b2.session, p.session]], {p, b2}),
            ("exclude [c1] eligible [c1, b1]", [7, t, "e6", [c1.session], [c1.session, b1.session]], {b1}),
            ("eligible []", [7, t, "e7", [], []], set()),
            ("exclude an unknown id", [7, t, "e8", ["nobody-at-all-xx"]], {p, a2, b1, b2, c1}),
            ("eligible of another node only", [7, t, "e9", [], [c1.session]], {c1}),
            ("[7,T,E,null]", [7, t, "e10", None], {a2, b1, b2, c1}),
            ("exclude []", [7, t, "e11", []], {p, a2, b1, b2, c1}),
            ("exclude everyone", [7, t, "e12", [cl.session for cl in everyone]], set()),
        ]
        names = {id(p): "publisher(A)", id(a2): "a2(A)", id(b1): "b1(B)", id(b2): "b2(B)", id(c1): "c1(C)"}
        out = []
        for what, msg, want in rows:
            p.send(msg)
            ev = msg[2]
            bad = []
            time.sleep(0.25)
            for cl in everyone:
                n = sum(1 for e in got(cl, 0.05) if e == ev)
                if n != (1 if cl in want else 0):
                    bad.append("%s got it %d times" % (names[id(cl)], n))
            out.append((what, not bad, "; ".join(bad)))
        return out


@test
def test_server_side_publish_across_nodes():
    with Redis() as r, node(r) as a, node(r) as b:
        caller, a1, b1 = Wamp(a.url()), Wamp(a.url()), Wamp(b.url())
        t = TOPIC + "server"
        joined([a1, b1], t, r, 2)
        eq(caller.call_ok(RPC + "publish", t, {"from": "server"}), None)
        eq(got(a1), [{"from": "server"}], "same node")
        eq(got(b1), [{"from": "server"}], "other node")
        # and the other way round, with a string event
        eq(Wamp(b.url()).call_ok(RPC + "publish", t, "s"), None)
        eq(got(a1), ["s"])
        eq(got(b1), ["s"])


# ---- subscriptions follow local topics ----------------------------------------------------------

@test
def test_subscription_churn_matches_pubsub_channels():
    with Redis() as r, node(r) as a, node(r) as b:
        ca, cb = Wamp(a.url()), Wamp(b.url())
        topics = [TOPIC + "churn%d" % i for i in range(6)]
        local = {id(ca): set(), id(cb): set()}
        import random
        rnd = random.Random(7)
        for step in range(40):
            cl = rnd.choice([ca, cb])
            tp = rnd.choice(topics)
            if tp in local[id(cl)]:
                cl.send([6, tp])
                local[id(cl)].discard(tp)
            else:
                cl.send([5, tp])
                local[id(cl)].add(tp)
        ca.sync()
        cb.sync()
        want = {"wamp1:" + t: (t in local[id(ca)]) + (t in local[id(cb)]) for t in topics}

        def same():
            return numsub(r, list(want)) == want
        wait_until(same, 5, "PUBSUB NUMSUB to match the local topics %r (got %r)"
                   % (want, numsub(r, list(want))))
        chans = set(r.cmd("PUBSUB", "CHANNELS", "wamp1:*"))
        eq(sorted(chans), sorted(k for k, v in want.items() if v), "PUBSUB CHANNELS")
        # each node's own subscriptions, as Redis counts them for its connection
        for cl in (ca, cb):
            n = len(local[id(cl)])
            wait_until(lambda: redis_stats(cl)["channels"] == n, 3, "a node's channel count %d" % n)
            eq(stats(cl)["topics"], len(local[id(cl)]), "a node's topics")
        # the last local subscriber leaves: the node unsubscribes, events stop coming there
        t = topics[0]
        ca.send([5, t])
        cb.send([5, t])
        ca.sync()
        cb.sync()
        wait_until(lambda: numsub(r, ["wamp1:" + t])["wamp1:" + t] == 2, 5, "both nodes on " + t)
        cb.send([6, t])
        cb.sync()
        wait_until(lambda: numsub(r, ["wamp1:" + t])["wamp1:" + t] == 1, 5, "B to UNSUBSCRIBE " + t)
        before = redis_stats(cb)["received"]
        Wamp(a.url()).send([7, t, "after"])
        eq(got(ca), ["after"])
        eq(got(cb, 0.2), [])
        eq(redis_stats(cb)["received"], before, "B received a message for a topic it left")
        # a client that goes away takes its topics with it
        cb.send([5, t])
        cb.sync()
        wait_until(lambda: numsub(r, ["wamp1:" + t])["wamp1:" + t] == 2, 5, "B back on " + t)
        cb.close()
        wait_until(lambda: numsub(r, ["wamp1:" + t])["wamp1:" + t] == 1, 5, "B to UNSUBSCRIBE on close")


# ---- failures ---------------------------------------------------------------------------------------

@test
def test_redis_restart():
    with Redis() as r, verbose_node(r) as a, node(r) as b:
        pa, a2, b1 = Wamp(a.url()), Wamp(a.url()), Wamp(b.url())
        t = TOPIC + "restart"
        joined([a2, b1], t, r, 2)
        pa.send([7, t, "before"])
        eq(got(b1), ["before"])
        eq(got(a2), ["before"])
        r.kill()
        wait_until(lambda: redis_stats(pa)["state"] != "up", 5, "A to see Redis gone")
        # local delivery goes on; the events are counted as not sent
        for i in range(3):
            pa.send([7, t, "down%d" % i])
        eq(got(a2), ["down0", "down1", "down2"], "local delivery while Redis is down")
        eq(got(b1, 0.1), [])
        sa = redis_stats(pa)
        check(sa["dropped"] >= 3, "dropped %r" % sa)
        check(sa["failures"] >= 1 and sa["last_error"].startswith("redis: "), "failure not reported: %r" % sa)
        r.start()
        wait_until(lambda: redis_stats(pa)["state"] == "up" and redis_stats(b1)["state"] == "up", 8,
                   "both nodes to reconnect")
        wait_until(lambda: numsub(r, ["wamp1:" + t])["wamp1:" + t] == 2, 5, "re-subscription after restart")
        pa.send([7, t, "after"])
        eq(got(b1), ["after"], "delivery after the restart")
        eq(got(a2), ["after"])
        check(redis_stats(pa)["connects"] == 2, "connects %r" % redis_stats(pa))
        err = a.stderr()
        check("redis: connection closed by the server" in err and "redis: cannot connect" in err,
              "the error hook was not told: %r" % err[-400:])


@test
def test_redis_down_at_start():
    port = free_port()
    with Demo("--redis", "127.0.0.1:%d" % port) as a:
        c, c2 = Wamp(a.url()), Wamp(a.url())
        c2.send([5, TOPIC + "x"])
        c2.sync()
        c.send([7, TOPIC + "x", 1])
        eq(got(c2), [1])
        st = redis_stats(c)
        check(st["state"] != "up" and st["dropped"] == 1 and st["failures"] >= 1, "stats %r" % st)
        with Redis(port=port) as r:
            wait_until(lambda: redis_stats(c)["state"] == "up", 6, "the node to connect")
            wait_until(lambda: numsub(r, ["wamp1:" + TOPIC + "x"])["wamp1:" + TOPIC + "x"] == 1, 3,
                       "subscription once up")


@test
def test_password():
    with Redis("--requirepass", "s3cret") as r:
        with node(r, "--redis-password", "s3cret") as a, node(r, "--redis-password", "s3cret") as b:
            pa, b1 = Wamp(a.url()), Wamp(b.url())
            joined([b1], TOPIC + "pw", r, 1, auth=("s3cret",))
            pa.send([7, TOPIC + "pw", "ok"])
            eq(got(b1), ["ok"])
        with verbose_node(r, "--redis-password", "wrong") as bad, node(r) as nopw:
            for d in (bad, nopw):
                c, c2 = Wamp(d.url()), Wamp(d.url())
                st = wait_until(lambda: (lambda s: s if s["auth_failures"] >= 1 else None)(redis_stats(c)),
                                3, "an AUTH failure")
                check(st["state"] != "up", "state %r" % st)
                check("refused" in st["last_error"], "last_error %r" % st["last_error"])
                # the node still works locally
                c2.send([5, TOPIC + "pw"])
                c2.sync()
                c.send([7, TOPIC + "pw", "local"])
                eq(got(c2), ["local"])
            check("redis: HELLO/AUTH refused: WRONGPASS" in bad.stderr(), "error hook: %r" % bad.stderr()[-300:])


@test
def test_acl_user():
    with Redis("--user", "default", "off", "--user", "alice", "on", ">pa55", "~*", "&*", "+@all") as r:
        auth = ("alice", "pa55")
        with node(r, "--redis-user", "alice", "--redis-password", "pa55", "--redis-prefix", "app1/") as a, \
                node(r, "--redis-user", "alice", "--redis-password", "pa55", "--redis-prefix", "app1/") as b, \
                node(r, "--redis-user", "alice", "--redis-password", "pa55", "--redis-prefix", "app2/") as other:
            pa, b1, o1 = Wamp(a.url()), Wamp(b.url()), Wamp(other.url())
            joined([b1], TOPIC + "acl", r, 1, prefix="app1/", auth=auth)
            joined([o1], TOPIC + "acl", r, 1, prefix="app2/", auth=auth)
            pa.send([7, TOPIC + "acl", "hi"])
            eq(got(b1), ["hi"])
            eq(got(o1, 0.1), [], "another prefix is another cluster")
        with node(r, "--redis-user", "alice", "--redis-password", "nope") as bad:
            c = Wamp(bad.url())
            wait_until(lambda: redis_stats(c)["auth_failures"] >= 1, 3, "an AUTH failure")


# ---- a hostile Redis ---------------------------------------------------------------------------

class FakeRedis:
    """Accepts connections and answers each with the next script: a list of byte strings
    (sent with a pause between them) and then either "close" or "stall"."""

    def __init__(self, scripts):
        self.scripts = scripts
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.conns = 0
        self.stop = False
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        held = []
        while not self.stop:
            self.ls.settimeout(0.1)
            try:
                s, _ = self.ls.accept()
            except OSError:
                continue
            script = self.scripts[min(self.conns, len(self.scripts) - 1)]
            self.conns += 1
            try:
                s.settimeout(0.5)
                try:
                    s.recv(65536)  # HELLO
                except OSError:
                    pass
                for part in script[:-1]:
                    s.sendall(part)
                    time.sleep(0.02)
                if script[-1] == "close":
                    s.close()
                else:
                    held.append(s)
            except OSError:
                s.close()
        for s in held:
            s.close()

    def close(self):
        self.stop = True
        self.th.join(2)
        self.ls.close()


HELLO_OK = b"%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n"


def push_message(chan, payload):
    return b">3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(chan), chan, len(payload), payload)


@test
def test_hostile_redis():
    t = (TOPIC + "h").encode()
    ch = b"wamp1:" + t
    scripts = [
        [b"garbage without a type\r\n", "close"],
        [b"$5\r\nab", "close"],                                   # truncated
        [b"*3\r\n$999999999\r\n" + b"x" * 20000, "close"],         # oversized
        [b"+" + b"A" * 20000, "stall"],                           # a line that never ends
        [b"*99\r\n" * 12, "close"],                               # nested too deep
        [b":12x\r\n", "close"],                                   # bad integer
        [HELLO_OK, push_message(ch, b"1 other 16 0 - {bad json"),  # well-formed RESP, bad payloads
         push_message(ch, b"2 other 16 0 - 1"), push_message(ch, b"1 other 16 5 - {}"),
         push_message(b"nope:" + t, b"1 other 16 0 - 1"),
         push_message(ch, b"1 other 16 0 - " + b"[" * 5000 + b"]" * 5000),
         push_message(ch, b"1 other 16 0 - \"fine\""), "stall"],
    ]
    fake = FakeRedis(scripts)
    try:
        with Demo("--redis", "127.0.0.1:%d" % fake.port) as d:
            c, c2 = Wamp(d.url()), Wamp(d.url())
            c2.send([5, TOPIC + "h"])
            c2.sync()
            t0 = time.monotonic()
            while fake.conns < len(scripts) and time.monotonic() - t0 < 15:
                s0 = time.monotonic()
                c.call_ok(RPC + "echo", "alive")  # the loop never waits for the fake
                check(time.monotonic() - s0 < 0.5, "a call took %.2f s" % (time.monotonic() - s0))
                time.sleep(0.05)
            check(fake.conns >= len(scripts), "only %d connections in 15 s" % fake.conns)
            wait_until(lambda: redis_stats(c)["state"] == "up", 5, "the last script's HELLO reply")
            eq(wait_until(lambda: got(c2, 0.2), 3, "the one good event"), ["fine"])
            st = redis_stats(c)
            check(st["malformed"] >= 5 and st["received"] == 1, "stats %r" % st)
            check(st["failures"] >= 6, "failures %r" % st)
            check(d.alive(), "the demo died")
    finally:
        fake.close()


def main():
    if not REDIS:
        print("SKIP: redis-server is not installed")
        print("integration-redis: 0 passed, 0 failed")
        return 0
    return H.main(R)


if __name__ == "__main__":
    sys.exit(main())
