#!/usr/bin/python3
"""Pushing into build/demo from outside, with independent clients: POST /publish signed
(signatures made by `openssl dgst -sha256 -hmac`) and forged, the bearer token, bad bodies,
a flood of POSTs beside WebSocket clients, and examples/push (push.php under php-cli,
push.py, http_push.php, http_push.py) through a private redis-server into a three-node
cluster. Loopback only; every server here is started by this script.

    /usr/bin/python3 tests/integration/test_push.py build/demo [-k=NAME ...]

Prints PASS/FAIL per test and ends with `integration-push: N passed, M failed`."""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wamp_harness as H  # noqa: E402
from wamp_harness import RPC, TOPIC, Demo, Wamp, check, eq  # noqa: E402

R = H.Runner("integration-push", per_test_limit=20.0, budget=50.0)
test = R.test
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUSH = os.path.join(ROOT, "examples", "push")
SECRET = "s3cret-for-tests"
_nonce = [0]


def openssl_sig(secret, ts, nonce, body):
    """base64(HMAC-SHA256) as `openssl dgst -sha256 -hmac SECRET -binary` computes it."""
    out = subprocess.run(["openssl", "dgst", "-sha256", "-hmac", secret, "-binary"],
                         input=b"%s\n%s\n%s" % (ts.encode(), nonce.encode(), body),
                         stdout=subprocess.PIPE, check=True, timeout=5).stdout
    return base64.b64encode(out).decode()


def fresh_nonce():
    _nonce[0] += 1
    return "n%d-%015d" % (os.getpid(), _nonce[0])


def post(demo, body, headers=(), path="/publish", method="POST", timeout=3.0):
    """One raw request; returns (status, headers, body bytes)."""
    if isinstance(body, str):
        body = body.encode()
    s = H._connect(demo, timeout)
    try:
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n%s\r\n" % (
            method, path, demo.hostport, len(body), "".join(h + "\r\n" for h in headers))
        s.sendall(head.encode("latin-1") + body)
        status, hdrs, data, _ = H.read_http_response(s, timeout)
        return status, hdrs, data
    finally:
        s.close()


def signed(demo, msg, secret=SECRET, ts=None, nonce=None, sig=None):
    body = json.dumps(msg).encode() if not isinstance(msg, (bytes, str)) else msg
    body = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time())) if ts is None else str(ts)
    nonce = nonce or fresh_nonce()
    sig = sig or openssl_sig(secret, ts, nonce, body)
    return post(demo, body, ["X-Wamp1-Timestamp: " + ts, "X-Wamp1-Nonce: " + nonce, "X-Wamp1-Signature: " + sig])


def publisher(*extra):
    return Demo("--publisher-secret", SECRET, "--publisher-token", "tok-123", *extra)


def subscribed(demo, topic, n=1):
    cs = [Wamp(demo.url()) for _ in range(n)]
    for c in cs:
        c.send([5, topic])
    for c in cs:
        c.sync()
    return cs


def got(c, duration=0.3):
    return [e[2] for e in c.events(duration)]


# ---- the HTTP publisher ----------------------------------------------------------------------

@test
def test_signed_post_reaches_subscribers():
    with publisher() as d:
        t = TOPIC + "news"
        a, b = subscribed(d, t, 2)
        (other,) = subscribed(d, TOPIC + "other")
        st, hd, body = signed(d, {"topic": t, "event": {"title": "saved", "id": 7}})
        eq(st, 200, "status")
        check(hd.get("content-type", "").startswith("application/json"), "content type %r" % hd)
        eq(json.loads(body), {"delivered": 2})
        eq(got(a), [{"title": "saved", "id": 7}], "a")
        eq(got(b), [{"title": "saved", "id": 7}], "b")
        eq(got(other, 0.1), [], "another topic's subscriber")


@test
def test_exclude_and_eligible():
    with publisher() as d:
        t = TOPIC + "rules"
        a, b, c = subscribed(d, t, 3)
        st, _, body = signed(d, {"topic": t, "event": 1, "exclude": [a.session, "nobody-at-all-xx"]})
        eq([st, json.loads(body)], [200, {"delivered": 2}])
        eq([got(a, 0.1), got(b), got(c)], [[], [1], [1]], "exclude")
        st, _, body = signed(d, {"topic": t, "event": 2, "eligible": [a.session, c.session], "exclude": [c.session]})
        eq([st, json.loads(body)], [200, {"delivered": 1}])
        eq([got(a), got(b, 0.1), got(c, 0.1)], [[2], [], []], "eligible less exclude")
        st, _, body = signed(d, {"topic": t, "event": 3, "eligible": []})
        eq([st, json.loads(body)], [200, {"delivered": 0}])
        eq([got(a, 0.1), got(b, 0.1), got(c, 0.1)], [[], [], []], "eligible []")


@test
def test_forged_requests_get_401_and_deliver_nothing():
    with publisher() as d:
        t = TOPIC + "forged"
        (a,) = subscribed(d, t)
        msg = json.dumps({"topic": t, "event": "x"}).encode()
        now = int(time.time())
        nonce = fresh_nonce()
        eq(signed(d, msg, nonce=nonce)[0], 200, "the genuine request")
        eq(got(a), ["x"])
        results = {
            "wrong secret": signed(d, msg, secret="not-the-secret")[0],
            "signature of another body": signed(d, msg, sig=openssl_sig(SECRET, str(now), "x" * 16, b"{}"))[0],
            "old timestamp": signed(d, msg, ts=now - 120)[0],
            "future timestamp": signed(d, msg, ts=now + 120)[0],
            "replayed nonce": signed(d, msg, nonce=nonce)[0],
            "short nonce": signed(d, msg, nonce="abc")[0],
            "no auth": post(d, msg)[0],
            "wrong token": post(d, msg, ["Authorization: Bearer tok-124"])[0],
        }
        eq(results, {k: 401 for k in results}, "statuses")
        eq(got(a, 0.3), [], "nothing delivered")
        st, _, _ = post(d, msg, ["Authorization: Bearer tok-123"])
        eq(st, 200, "the bearer token")
        eq(got(a), ["x"])


@test
def test_bad_requests():
    with publisher() as d:
        t = TOPIC + "bad"
        (a,) = subscribed(d, t)
        tok = ["Authorization: Bearer tok-123"]
        big = json.dumps({"topic": t, "event": "y" * 70000})
        eq(post(d, big, tok)[0], 413, "a body over the limit")
        eq(post(d, '{"topic": "' + t + '", "event": ', tok)[0], 400, "malformed JSON")
        eq(post(d, '{"event": 1}', tok)[0], 400, "no topic")
        eq(post(d, '{"topic": "http://example.com/unrouted", "event": 1}', tok)[0], 404, "unrouted topic")
        eq(post(d, "", tok, method="GET")[0], 405, "GET /publish")
        eq(post(d, "{}", tok, method="PUT")[0], 405, "PUT /publish")
        eq(signed(d, '{"topic": 1}')[0], 400, "a signed request with a bad topic")
        eq(got(a, 0.2), [], "nothing delivered")
        # a body of 10 KB (beyond the first 4 KiB buffer) is fine
        st, _, body = post(d, json.dumps({"topic": t, "event": "z" * 10000}), tok)
        eq([st, json.loads(body)], [200, {"delivered": 1}])
        eq(got(a), ["z" * 10000])


@test
def test_off_without_options_and_blocked_first():
    with Demo() as d:
        st, _, _ = post(d, '{"topic": "%s"}' % (TOPIC + "x"), ["Authorization: Bearer tok-123"])
        eq(st, 404, "POST /publish without --publisher-*")
        eq(H.http_get(d, "/publish")[0], 404, "GET /publish without --publisher-*")
    with publisher("--block", "127.0.0.1") as d:
        eq(signed(d, {"topic": TOPIC + "x", "event": 1})[0], 403, "a blocked address")


@test
def test_flood_does_not_disturb_websocket_clients():
    with publisher() as d:
        t = TOPIC + "flood"
        a, b = subscribed(d, t, 2)
        caller = Wamp(d.url())
        stop = threading.Event()
        counts = {"ok": 0, "other": 0}
        lock = threading.Lock()

        def flood():
            while not stop.is_set():
                try:
                    st = post(d, json.dumps({"topic": t, "event": 0}), ["Authorization: Bearer tok-123"])[0]
                    bad = post(d, '{"topic": ', ["Authorization: Bearer tok-123"])[0]
                except OSError:
                    st = bad = 0
                with lock:
                    counts["ok" if st == 200 and bad == 400 else "other"] += 1

        threads = [threading.Thread(target=flood, daemon=True) for _ in range(4)]
        for th in threads:
            th.start()
        worst = 0.0
        try:
            for i in range(60):
                t0 = time.monotonic()
                eq(caller.call_ok(RPC + "add", i, 1), i + 1, "rpc#add during the flood")
                worst = max(worst, time.monotonic() - t0)
        finally:
            stop.set()
            for th in threads:
                th.join(5)
        check(counts["ok"] >= 50 and counts["other"] == 0, "POSTs answered %r" % counts)
        check(worst < 1.0, "an RPC took %.3f s during the flood" % worst)
        # every accepted POST reached both subscribers, in order, nothing lost
        n = counts["ok"]
        ea, eb = [], []
        deadline = time.monotonic() + 5
        while (len(ea) < n or len(eb) < n) and time.monotonic() < deadline:
            ea += a.events(0.1)
            eb += b.events(0.1)
        eq([len(ea), len(eb)], [n, n], "events received by the two subscribers")
        eq(a.call_ok(RPC + "echo", "still"), ["still"], "subscriber a still works")


@test
def test_examples_http_push():
    if not shutil.which("php"):
        return "SKIP: php-cli is not installed"
    with publisher() as d:
        t = TOPIC + "examples"
        a, b = subscribed(d, t, 2)
        url = "http://%s/publish" % d.hostport
        out = subprocess.run(["php", os.path.join(PUSH, "http_push.php"), "--url", url, "--secret", SECRET,
                              "--exclude", b.session, t, '{"via": "php"}'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        eq([out.returncode, json.loads(out.stdout)], [0, {"delivered": 1}], "http_push.php (%r)" % out.stderr)
        out = subprocess.run([sys.executable, os.path.join(PUSH, "http_push.py"), "--url", url, "--token", "tok-123",
                              t, '{"via": "python"}'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        eq([out.returncode, json.loads(out.stdout)], [0, {"delivered": 2}], "http_push.py (%r)" % out.stderr)
        out = subprocess.run([sys.executable, os.path.join(PUSH, "http_push.py"), "--url", url, "--secret", "wrong",
                              t, "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        eq(out.returncode, 1, "http_push.py with a wrong secret")
        eq(got(a), [{"via": "php"}, {"via": "python"}], "a")
        eq(got(b), [{"via": "python"}], "b (excluded from the first)")
        # curl as in the README, body over 1 KiB: curl's Expect: 100-continue gets its go-ahead
        if shutil.which("curl"):
            body = json.dumps({"topic": t, "event": "c" * 2000})
            ts, nonce = str(int(time.time())), fresh_nonce()
            t0 = time.monotonic()
            out = subprocess.run(["curl", "-s", "-X", "POST", url, "-H", "X-Wamp1-Timestamp: " + ts,
                                  "-H", "X-Wamp1-Nonce: " + nonce, "-H",
                                  "X-Wamp1-Signature: " + openssl_sig(SECRET, ts, nonce, body.encode()),
                                  "--data-binary", body], stdout=subprocess.PIPE, timeout=10)
            eq(json.loads(out.stdout), {"delivered": 2}, "curl")
            check(time.monotonic() - t0 < 0.9, "curl waited for 100-continue (%.2f s)" % (time.monotonic() - t0))


# ---- Redis: outside publishers into a cluster -------------------------------------------------

REDIS = shutil.which("redis-server")


def redis_cluster_test(fn):
    def run():
        if not REDIS:
            return "SKIP: redis-server is not installed"
        import test_redis as TR
        with TR.Redis() as r, Demo("--redis", r.addr()) as n1, Demo("--redis", r.addr()) as n2, \
                publisher("--redis", r.addr()) as n3:
            return fn(TR, r, [n1, n2, n3])
    run.__name__ = fn.__name__
    return run


def cluster_subscribers(TR, r, nodes, topic):
    cs = [Wamp(n.url()) for n in nodes]
    TR.joined(cs, topic, r, len(nodes))
    return cs


@test
@redis_cluster_test
def test_php_through_redis_into_three_nodes(TR, r, nodes):
    if not shutil.which("php"):
        return "SKIP: php-cli is not installed"
    if subprocess.run(["php", "-r", "exit(class_exists('Redis') ? 0 : 1);"], timeout=10).returncode != 0:
        return "SKIP: php-redis is not installed (Debian: php-redis)"
    t = TOPIC + "php"
    cs = cluster_subscribers(TR, r, nodes, t)
    extra = Wamp(nodes[1].url())
    extra.send([5, t])
    extra.sync()
    out = subprocess.run(["php", os.path.join(PUSH, "push.php"), "--redis", r.addr(), t, '{"saved": 42}'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    eq([out.returncode, out.stdout.strip()], [0, b"3"], "push.php (%r)" % out.stderr)
    eq([got(c) for c in cs + [extra]], [[{"saved": 42}]] * 4, "every node's subscribers")
    # with an exclude list naming a session on node 2
    out = subprocess.run(["php", os.path.join(PUSH, "push.php"), "--redis", r.addr(), "--exclude",
                          extra.session, t, '"second"'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    eq(out.returncode, 0, "push.php --exclude (%r)" % out.stderr)
    eq([got(c) for c in cs + [extra]], [["second"]] * 3 + [[]], "exclude across nodes")
    st = TR.redis_stats(cs[0])
    eq([st["external"], st["malformed"], st["published"]], [2, 0, 0], "node 1's redis stats")


@test
@redis_cluster_test
def test_python_push_and_http_publisher_in_a_cluster(TR, r, nodes):
    t = TOPIC + "py"
    cs = cluster_subscribers(TR, r, nodes, t)
    try:
        import redis  # noqa: F401
        have_redis_py = True
    except ImportError:
        have_redis_py = False
    if have_redis_py:
        out = subprocess.run([sys.executable, os.path.join(PUSH, "push.py"), "--redis", r.addr(), "--eligible",
                              cs[0].session + "," + cs[2].session, t, "[1, 2]"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        eq(out.returncode, 0, "push.py (%r)" % out.stderr)
        eq([got(c) for c in cs], [[[1, 2]], [], [[1, 2]]], "eligible across nodes")
    # the HTTP publisher on node 3 publishes through the bridge: every node delivers, the
    # exclude list (a session on node 1) applies there too
    st, _, body = signed(nodes[2], {"topic": t, "event": "http", "exclude": [cs[0].session]})
    eq([st, json.loads(body)], [200, {"delivered": 1}], "POST on node 3")
    eq([got(c) for c in cs], [[], ["http"], ["http"]], "the POST across nodes")
    # a malformed outside message is dropped and counted, the link stays up
    r.cmd("PUBLISH", "wamp1:" + t, '{"event": }')
    TR.wait_until(lambda: TR.redis_stats(cs[1])["malformed"] == 1, 3, "the malformed message counted")
    eq(TR.redis_stats(cs[1])["state"], "up")
    if not have_redis_py:
        return "SKIP: python3-redis is not installed (push.py not run; the rest passed)"


def main():
    return H.main(R)


if __name__ == "__main__":
    sys.exit(main())
