#!/usr/bin/python3
"""Integration tests of build/demo (the WAMP v1 demo server) over loopback, with independent
clients: websocket-client (module `websocket`, sync), websockets (asyncio) and raw sockets.

    /usr/bin/python3 tests/integration/test_demo.py build/demo [-k=NAME ...]

Prints PASS/FAIL per test and ends with `integration-demo: N passed, M failed`."""
import asyncio
import json
import os
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websocket  # noqa: E402  Debian python3-websocket
import websockets  # noqa: E402  Debian python3-websockets

import wamp_harness as H  # noqa: E402
from wamp_harness import (RPC, TOPIC, ERR_INVALID, ERR_NOSUCH, SESSION_RE, Demo, Wamp, Closed,  # noqa: E402
                          check, eq)

R = H.Runner("integration-demo", per_test_limit=20.0)
test = R.test


def connect(d, **kw):
    return Wamp(d.url(), **kw)


# ---- startup, handshake, WELCOME -------------------------------------------------------------

@test
def test_stdout_single_line():
    d = Demo()
    c = connect(d)
    c.call_ok(RPC + "echo", 1)
    c.close()
    check(d.line == "listening on 127.0.0.1:%d" % d.port, "first line %r" % d.line)
    rc = d.stop()
    out = d.read_rest_of_stdout().decode("utf-8", "replace")
    check(out == d.line + "\n", "stdout must be exactly one line, got %r" % out)
    check(rc == 0, "exit status %r after SIGTERM" % rc)


@test
def test_welcome():
    with Demo() as d:
        a, b = connect(d), connect(d)
        for c in (a, b):
            w = c.welcome
            check(isinstance(w, list) and len(w) == 4, "WELCOME must have 4 elements: %r" % (w,))
            check(w[0] == 0, "type %r" % w[0])
            check(isinstance(w[1], str) and SESSION_RE.match(w[1]), "bad sessionId %r" % (w[1],))
            check(w[2] == 1 and not isinstance(w[2], bool), "protocolVersion %r" % (w[2],))
            check(isinstance(w[3], str), "serverIdent must be a string: %r" % (w[3],))
            check(c.subprotocol() == "wamp", "selected subprotocol %r" % c.subprotocol())
        check(a.session != b.session, "two sessions share the id %s" % a.session)


@test
def test_welcome_with_websockets_asyncio():
    async def run(url):
        async with websockets.connect(url, subprotocols=["wamp"], open_timeout=3, close_timeout=1) as ws:
            check(ws.subprotocol == "wamp", "subprotocol %r" % ws.subprotocol)
            w = json.loads(await asyncio.wait_for(ws.recv(), 3))
            check(w[0] == 0 and SESSION_RE.match(w[1]) and w[2] == 1, "WELCOME %r" % (w,))
            await ws.send(json.dumps([2, "a1", RPC + "add", 2, 3]))
            eq(json.loads(await asyncio.wait_for(ws.recv(), 3)), [3, "a1", 5])
            await ws.send(json.dumps([2, "s1", RPC + "session"]))
            eq(json.loads(await asyncio.wait_for(ws.recv(), 3)), [3, "s1", w[1]])
    with Demo() as d:
        asyncio.run(asyncio.wait_for(run(d.url()), 10))


@test
def test_subprotocol_required_426():
    with Demo() as d:
        check(H.handshake_status(d, protocols=None) == 426, "no subprotocol offered: expected 426")
        check(H.handshake_status(d, protocols="foo") == 426, "subprotocol foo only: expected 426")
        check(H.handshake_status(d, protocols="wamp2.json, mqtt") == 426, "other subprotocols: expected 426")
        try:
            websocket.create_connection(d.url(), timeout=3)
            raise AssertionError("websocket-client without subprotocol was accepted")
        except websocket.WebSocketBadStatusException as e:
            check(e.status_code == 426, "websocket-client: status %r" % e.status_code)

        async def aio():
            try:
                async with websockets.connect(d.url(), open_timeout=3):
                    raise AssertionError("websockets without subprotocol was accepted")
            except websockets.exceptions.InvalidStatusCode as e:
                check(e.status_code == 426, "websockets: status %r" % e.status_code)
        asyncio.run(asyncio.wait_for(aio(), 5))
        # offered among others: selected
        st, hd, _ = H.raw_handshake(d, protocols="foo, wamp")
        check(st == 101 and hd.get("sec-websocket-protocol") == "wamp",
              "offered 'foo, wamp': %r %r" % (st, hd.get("sec-websocket-protocol")))
        c = connect(d, subprotocols=("bar", "wamp"))
        check(c.subprotocol() == "wamp", "selected %r" % c.subprotocol())
        c.call_ok(RPC + "echo")


@test
def test_plain_http():
    with Demo() as d:
        st, hd, body = H.http_get(d, "/")
        check(st == 200, "GET / without Upgrade: status %d" % st)
        check(len(body) > 0, "GET /: empty body")
        check("text/html" in hd.get("content-type", ""), "GET /: content-type %r" % hd.get("content-type"))
        for path in ("/nope", "/index.html.bak", "/rpc", "/x/y?z=1"):
            st, _, _ = H.http_get(d, path)
            check(st == 404, "GET %s: status %d, expected 404" % (path, st))
        # the server still accepts WAMP after plain requests
        connect(d).call_ok(RPC + "echo")


# ---- the routes ------------------------------------------------------------------------------

@test
def test_add_integers():
    with Demo() as d:
        c = connect(d)
        eq(c.call_ok(RPC + "add", 2, 3, 4), 9, "add(2,3,4)")
        eq(c.call_ok(RPC + "add", -7, 7, 100), 100, "add(-7,7,100)")
        eq(c.call_ok(RPC + "add", 5), 5, "add(5)")
        eq(c.call_ok(RPC + "add"), 0, "add()")
        r = c.call_ok(RPC + "add", 9007199254740993, 1)
        check(r == 9007199254740994 and isinstance(r, int),
              "add(2^53+1, 1) should be exact: %r" % r)


@test
def test_add_floats():
    with Demo() as d:
        c = connect(d)
        eq(c.call_ok(RPC + "add", 1.5, 2.25), 3.75, "add(1.5,2.25)")
        eq(c.call_ok(RPC + "add", 1, 0.5), 1.5, "add(1,0.5)")
        eq(c.call_ok(RPC + "add", -0.25, -0.25), -0.5, "add(-0.25,-0.25)")
        c.send('[2,"f1","%sadd",1e2,2.5E-1]' % RPC)
        eq(c.answer("f1"), [3, "f1", 100.25], "add(1e2,2.5E-1)")


@test
def test_add_single_array():
    with Demo() as d:
        c = connect(d)
        eq(c.call_ok(RPC + "add", [1, 2, 3]), 6, "add([1,2,3])")
        eq(c.call_ok(RPC + "add", [0.5, 0.25, 10]), 10.75, "add([0.5,0.25,10])")
        eq(c.call_ok(RPC + "add", []), 0, "add([])")


@test
def test_add_invalid_argument():
    with Demo() as d:
        c = connect(d)
        for args in (["x"], [1, "2"], [None], [True], [{"a": 1}], [1, [2]], [[1, "a"]], [[1], [2]],
                     [[[1]]]):
            m = c.call_err(RPC + "add", *args)
            check(m[2] == ERR_INVALID, "add%r: error URI %r" % (tuple(args), m[2]))
            check(len(m) in (4, 5) and isinstance(m[3], str), "add%r: CALLERROR shape %r" % (tuple(args), m))
        eq(c.call_ok(RPC + "add", 1, 1), 2, "add after errors")


ECHO_SHAPES = [
    '1', '-0', '0', '1.5', '-2.75e-3', '1E300', '12345678901234567890', '-9223372036854775808',
    '"x"', '""', '"h\\u00e9llo \\u20ac \\ud834\\udd1e"', '"tab\\t nl\\n quote\\" bs\\\\ sl\\/ nul\\u0000"',
    'true', 'false', 'null', '[]', '{}', '[[]]', '[{}]', '{"a":{}}',
    '[1,"two",3.5,null,true,false,[],{}]',
    '{"k":[1,{"n":null,"t":true}],"s":"v","e":[],"o":{"x":{"y":{"z":[0]}}}}',
    '{"dup":1,"other":2}', '{"":0}', '["a","b",{"c":["d",{"e":"f"}]}]',
    '[' * 20 + ']' * 20,
]


@test
def test_echo_json_shapes():
    with Demo() as d:
        c = connect(d)
        for i, text in enumerate(ECHO_SHAPES):
            cid = "e%d" % i
            c.send('[2,"%s","%secho",%s]' % (cid, RPC, text))
            m = c.answer(cid)
            check(m[0] == 3, "echo %s: %r" % (text, m))
            eq(m[2], [json.loads(text)], "echo %s" % text)
        # many arguments in one call, sent with raw UTF-8 (no \\u escapes)
        args = [json.loads(t) for t in ECHO_SHAPES] + ["héllo € 𝄞 中文"]
        c.send(json.dumps([2, "many", RPC + "echo"] + args, ensure_ascii=False))
        m = c.answer("many")
        eq(m, [3, "many", args], "echo of %d arguments" % len(args))
        # a larger payload
        big, many = "abcdefgh" * 5000, list(range(1000))
        eq(c.call_ok(RPC + "echo", big, many), [big, many], "echo of a 45 kB message")


@test
def test_echo_no_args():
    with Demo() as d:
        c = connect(d)
        c.send('[2,"n0","%secho"]' % RPC)
        m = c.answer("n0")
        check(m == [3, "n0", []], "echo with no arguments: %r" % (m,))


@test
def test_callid_is_opaque():
    with Demo() as d:
        c = connect(d)
        for cid in ("0.bvhz8xq1yh", "with space", "é€𝄞", 'q"uote\\', "x" * 200, "[2,\"nested\"]"):
            c.send(json.dumps([2, cid, RPC + "echo", 1]))
            m = c.wait_for(lambda m, cid=cid: m[0] in (3, 4) and m[1] == cid, 3, "answer to %r" % cid)
            eq(m, [3, cid, [1]], "call id %r" % cid)
        c.send('[2,"\\u0061b\\u00e9","%secho"]' % RPC)
        m = c.wait_for(lambda m: m[0] in (3, 4) and m[1] == "ab\u00e9", 3, "answer to escaped id")
        eq(m[2], [], "escaped call id")


@test
def test_fail_details():
    with Demo() as d:
        c = connect(d)
        args = [1, "two", {"three": [3, None]}, None, 2.5]
        m = c.call(RPC + "fail", *args)
        eq(m, [4, m[1], "http://wamp1.dev/error#fail", "requested failure", args], "fail(...)")
        m = c.call(RPC + "fail")
        eq(m, [4, m[1], "http://wamp1.dev/error#fail", "requested failure", []], "fail()")


@test
def test_session_rpc():
    with Demo() as d:
        a, b = connect(d), connect(d)
        eq(a.call_ok(RPC + "session"), a.session, "session of A")
        eq(b.call_ok(RPC + "session"), b.session, "session of B")
        check(a.session != b.session, "same session ids")


@test
def test_publish_rpc():
    with Demo() as d:
        a, b, c = connect(d), connect(d), connect(d)
        t = TOPIC + "rpcpub"
        a.send([5, t])
        b.send([5, t])
        c.send([5, TOPIC + "other"])
        for x in (a, b, c):
            x.sync()
        for ev in ({"k": [1, 2, {"x": None}]}, "text", None, 42, [], 1.5):
            r = a.call_ok(RPC + "publish", t, ev)
            check(r is None, "publish returned %r, expected null" % (r,))
            for who, x in (("A (the caller)", a), ("B", b)):
                m = x.wait_for(lambda m: m[0] == 8, 2, "EVENT at %s" % who)
                eq(m, [8, t, ev], "EVENT at %s" % who)
        check(not c.events(0.2), "a subscriber of another topic received an event")
        check(not a.events(0.05) and not b.events(0.05), "duplicate events")
        # CURIE topic in the publish arguments
        a.send([1, "tp", TOPIC])
        eq(a.call_ok(RPC + "publish", "tp:rpcpub", "via curie"), None, "publish via CURIE")
        eq(b.wait_for(lambda m: m[0] == 8, 2, "EVENT"), [8, t, "via curie"], "publish via CURIE at B")
        m = a.call(RPC + "publish", t)
        check(m[0] == 4 and m[2] == ERR_INVALID, "publish with one argument: %r" % (m,))


@test
def test_sleep_ordering():
    with Demo() as d:
        a, b = connect(d), connect(d)
        t0 = time.monotonic()
        ids = {a.call_start(RPC + "sleep", ms): ms for ms in (600, 200, 400, 0)}
        e = a.call_start(RPC + "echo", "meanwhile")
        # another client is answered at once while the sleeps are pending
        tb = time.monotonic()
        eq(b.call_ok(RPC + "add", 1, 2), 3, "B's call during A's sleeps")
        check(time.monotonic() - tb < 0.25, "B waited %.3f s during A's sleeps" % (time.monotonic() - tb))
        order, times = [], {}
        want_ids = set(ids) | {e}
        while want_ids:
            m = a.wait_for(lambda m: m[0] in (3, 4) and m[1] in want_ids, 2, "sleep results")
            want_ids.discard(m[1])
            order.append(m[1])
            times[m[1]] = time.monotonic() - t0
            if m[1] in ids:
                eq(m, [3, m[1], ids[m[1]]], "sleep(%d)" % ids[m[1]])
            else:
                eq(m, [3, e, ["meanwhile"]], "echo during sleeps")
        by_ms = {v: k for k, v in ids.items()}
        check(order.index(e) < order.index(by_ms[200]), "echo answered after sleep(200): %r" % order)
        check(times[e] < 0.25, "echo during sleeps took %.3f s" % times[e])
        got = [ids[i] for i in order if i in ids]
        check(got == [0, 200, 400, 600], "sleep results in order %r, expected by duration" % got)
        for ms in (200, 400, 600):
            t = times[by_ms[ms]]
            check(ms / 1000.0 - 0.02 <= t <= ms / 1000.0 + 0.35, "sleep(%d) answered after %.3f s" % (ms, t))


@test
def test_sleep_invalid_argument():
    with Demo() as d:
        c = connect(d)
        for args in ([5001], [-1], [-1000], [100000], ["100"], [None], [True], [[100]], [{"ms": 1}]):
            m = c.call_err(RPC + "sleep", *args)
            check(m[2] == ERR_INVALID, "sleep%r: error URI %r" % (tuple(args), m[2]))
        eq(c.call_ok(RPC + "sleep", 1), 1, "sleep(1) after errors")


def _find_key(stats, *words):
    for k in stats:
        if all(w in k.lower() for w in words):
            return k
    return None


@test
def test_stats():
    with Demo() as d:
        a = connect(d)
        s = a.call_ok(RPC + "stats")
        check(isinstance(s, dict), "stats is not an object: %r" % (s,))
        for k in ("connections", "topics", "subscriptions", "pending_calls"):
            for key in (k, k + "_max"):
                check(key in s, "stats lacks %s: %r" % (key, sorted(s)))
                check(isinstance(s[key], int) and not isinstance(s[key], bool) and s[key] >= 0,
                      "stats %s = %r" % (key, s[key]))
            check(s[k + "_max"] >= max(1, s[k]), "%s_max %r < %s %r" % (k, s[k + "_max"], k, s[k]))
        dk, sk = _find_key(s, "dropped"), _find_key(s, "slow")
        check(dk is not None, "no counter of dropped messages in %r" % sorted(s))
        check(sk is not None, "no counter of closed slow consumers in %r" % sorted(s))
        check(isinstance(s[dk], int) and isinstance(s[sk], int), "counters %r %r" % (s[dk], s[sk]))
        check(s["connections"] == 1, "connections %r with one client" % s["connections"])
        b = connect(d)
        a.send([5, TOPIC + "s1"])
        a.send([5, TOPIC + "s2"])
        b.send([5, TOPIC + "s1"])
        b.sync()
        a.sync()
        s2 = a.call_ok(RPC + "stats")
        eq(s2["connections"], 2, "connections with two clients")
        eq(s2["topics"] - s["topics"], 2, "topics added by subscribing to 2 topics")
        eq(s2["subscriptions"] - s["subscriptions"], 3, "subscriptions added by 3 subscribes")
        cid = b.call_start(RPC + "sleep", 500)
        b.call_ok(RPC + "echo")  # the sleep call has reached the server
        s3 = a.call_ok(RPC + "stats")
        check(s3["pending_calls"] >= 1, "pending_calls %r during a sleep" % s3["pending_calls"])
        eq(b.answer(cid), [3, cid, 500], "sleep result")
        b.close()
        deadline = time.monotonic() + 2
        while True:
            s4 = a.call_ok(RPC + "stats")
            if s4["connections"] == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        eq(s4["connections"], 1, "connections after one client left")
        eq(s4["subscriptions"] - s["subscriptions"], 2, "subscriptions after B left")
        eq(s4["pending_calls"], 0, "pending calls after the sleep answered")


@test
def test_websession_without_session_dir():
    with Demo() as d:
        eq(connect(d).call_ok(RPC + "websession"), None, "websession without cookie")
        c = connect(d, header=["Cookie: PHPSESSID=abcdef0123456789"])
        eq(c.call_ok(RPC + "websession"), None, "websession with a cookie but no --session-dir")


@test
def test_no_such_rpc_endpoint():
    with Demo() as d:
        c = connect(d)
        for uri in (RPC + "nope", RPC + "ad", RPC + "addx", "http://wamp1.dev/rpc", TOPIC + "x",
                    "urn:x", "nope:add", ""):
            m = c.call_err(uri, 1)
            check(m[2] == ERR_NOSUCH, "CALL %r: error URI %r" % (uri, m[2]))
            check(len(m) in (4, 5) and isinstance(m[3], str) and uri in m[3],
                  "CALL %r: description should name the URI: %r" % (uri, m))
        eq(c.call_ok(RPC + "add", 1, 2), 3, "call after errors")


@test
def test_curie_call():
    with Demo() as d:
        a, b = connect(d), connect(d)
        a.send([1, "calc", RPC])
        eq(a.call_ok("calc:add", 1, 2), 3, "calc:add")
        eq(a.call_ok("calc:echo", "x"), ["x"], "calc:echo")
        a.send([1, "w", "http://wamp1.dev/"])
        eq(a.call_ok("w:rpc#add", 4, 4), 8, "plain concatenation w:rpc#add")
        eq(a.call_ok(RPC + "add", 1, 1), 2, "full URI after PREFIX")
        # PREFIX is per connection
        m = b.call_err("calc:add", 1, 2)
        check(m[2] == ERR_NOSUCH, "undefined prefix on another connection: %r" % (m,))
        # a later PREFIX replaces the earlier one
        a.send([1, "calc", RPC + "e"])
        eq(a.call_ok("calc:cho", "y"), ["y"], "redefined prefix calc:cho")
        m = a.call_err("calc:add", 1)
        check(m[2] == ERR_NOSUCH and (RPC + "eadd" in m[3] or "calc:add" in m[3]),
              "old mapping must be gone: %r" % (m,))
        # split at the first colon only
        a.send([1, "p", "http://wamp1.dev/rpc#s"])
        eq(a.call_ok("p:ession"), a.session, "p:ession")
        m = a.call_err("zz:add", 1)
        check(m[2] == ERR_NOSUCH, "undefined prefix zz: %r" % (m,))


@test
def test_curie_pubsub():
    with Demo() as d:
        a, b = connect(d), connect(d)
        full = TOPIC + "news"
        a.send([1, "t", TOPIC])
        a.send([5, "t:news"])
        a.sync()
        b.send([7, full, {"n": 1}])
        eq(a.wait_for(lambda m: m[0] == 8, 2, "EVENT"), [8, full, {"n": 1}], "EVENT for a CURIE subscription")
        b.send([1, "p", "http://wamp1.dev/topic"])
        b.send([7, "p:/news", {"n": 2}])
        eq(a.wait_for(lambda m: m[0] == 8, 2, "EVENT"), [8, full, {"n": 2}], "EVENT of a CURIE PUBLISH")
        b.send([5, "p:/news"])
        b.sync()
        a.send([7, "t:news", {"n": 3}, False])
        for who, x in (("A", a), ("B", b)):
            eq(x.wait_for(lambda m: m[0] == 8, 2, "EVENT"), [8, full, {"n": 3}], "EVENT at %s" % who)
        # unsubscribe with the full URI what was subscribed with a CURIE
        a.send([6, full])
        a.sync()
        b.send([7, full, {"n": 4}, False])
        eq(b.wait_for(lambda m: m[0] == 8, 2, "EVENT"), [8, full, {"n": 4}], "EVENT at B")
        check(not a.events(0.2), "A got an event after UNSUBSCRIBE by full URI")


PUBLISH_VECTORS = [
    ('[7,T,E]', {"S1"}),
    ('[7,T,E,null]', {"S1"}),
    ('[7,T,E,false]', {"S0", "S1"}),
    ('[7,T,E,true]', {"S1"}),
    ('[7,T,E,[]]', {"S0", "S1"}),
    ('[7,T,E,["S0"]]', {"S1"}),
    ('[7,T,E,["S1"]]', {"S0"}),
    ('[7,T,E,["S0","S1"]]', set()),
    ('[7,T,E,[],[]]', set()),
    ('[7,T,E,[],["S0"]]', {"S0"}),
    ('[7,T,E,[],["S1"]]', {"S1"}),
    ('[7,T,E,[],["S0","S1"]]', {"S0", "S1"}),
    ('[7,T,E,["S0"],["S0","S1"]]', {"S1"}),
    ('[7,T,E,["S1"],["S0"]]', {"S0"}),
    ('[7,T,E,["S0","S1"],["S0","S1"]]', set()),
    ('[7,T,E,["S0"],[]]', set()),
    # a fourth element that is neither a boolean nor an array counts as absent
    ('[7,T,E,1]', {"S1"}),
    ('[7,T,E,"S0"]', {"S1"}),
    ('[7,T,E,{}]', {"S1"}),
    # unknown session ids
    ('[7,T,E,["nobody-0000000000000"]]', {"S0", "S1"}),
    ('[7,T,E,[],["nobody-0000000000000"]]', set()),
]


def test_publish_vectors():
    results = []
    with Demo() as d:
        s0, s1 = connect(d), connect(d)
        t = TOPIC + "vectors"
        s0.send([5, t])
        s1.send([5, t])
        s0.sync()
        s1.sync()
        for i, (row, _) in enumerate(PUBLISH_VECTORS):
            # T and E first: the session ids may contain the letters T and E
            text = (row.replace("T", json.dumps(t)).replace("E", json.dumps({"row": i}))
                    .replace('"S0"', json.dumps(s0.session)).replace('"S1"', json.dumps(s1.session)))
            s0.send(text)
        s0.sync()
        got = {"S0": s0.events(0.25), "S1": s1.events(0.05)}
        per_row = {i: [] for i in range(len(PUBLISH_VECTORS))}
        bad = []
        for who, evs in got.items():
            for m in evs:
                if (len(m) == 3 and m[1] == t and isinstance(m[2], dict) and m[2].get("row") in per_row):
                    per_row[m[2]["row"]].append(who)
                else:
                    bad.append((who, m))
        for i, (row, want) in enumerate(PUBLISH_VECTORS):
            rcv = per_row[i]
            ok = set(rcv) == want and len(rcv) == len(set(rcv))
            results.append((row, ok, "receivers %s, expected %s" % (sorted(rcv) or "none",
                                                                    sorted(want) or "none")))
        results.append(("no stray events", not bad, "unexpected messages %r" % bad[:3]))
        # S1 publishes: the roles swap (the default excludes the publisher, S1)
        s1.send([7, t, "from S1"])
        s1.sync()
        e0, e1 = s0.events(0.25), s1.events(0.05)
        results.append(("[7,T,E] from S1", [m[2] for m in e0] == ["from S1"] and not e1,
                        "S0 got %r, S1 got %r" % (e0, e1)))
    return results


test(test_publish_vectors)


@test
def test_subscribe_is_a_set():
    with Demo() as d:
        a, b = connect(d), connect(d)
        t, u, v = TOPIC + "set", TOPIC + "never", TOPIC + "v"
        base = a.call_ok(RPC + "stats")["subscriptions"]
        a.send([5, t])
        a.send([5, t])
        a.send([5, v])
        a.sync()
        eq(a.call_ok(RPC + "stats")["subscriptions"] - base, 2, "subscriptions after SUBSCRIBE t twice and v")
        b.send([7, t, 1])
        b.sync()
        ev = a.events(0.2)
        eq([m[2] for m in ev], [1], "events after subscribing twice")
        a.send([6, u])  # never subscribed: changes nothing
        a.sync()
        b.send([7, t, 2])
        eq([m[2] for m in a.events(0.2)], [2], "events after unsubscribing another topic")
        a.send([6, t])  # one UNSUBSCRIBE undoes the two SUBSCRIBEs
        a.sync()
        b.send([7, t, 3])
        b.send([7, v, 4])
        b.sync()
        eq([m[2] for m in a.events(0.2)], [4], "events after UNSUBSCRIBE t")
        a.send([6, t])
        a.sync()
        eq(a.call_ok(RPC + "stats")["subscriptions"] - base, 1, "subscriptions after UNSUBSCRIBE t twice")
        a.send([5, t])
        a.sync()
        b.send([7, t, 5])
        eq([m[2] for m in a.events(0.2)], [5], "events after subscribing again")


@test
def test_unrouted_topic_ignored():
    with Demo() as d:
        a, b = connect(d), connect(d)
        base = a.call_ok(RPC + "stats")
        for t in ("http://example.com/topic/x", "http://wamp1.dev/other/x", "http://wamp1.dev/rpc#add",
                  "nope:x"):
            a.send([5, t])
            b.send([5, t])
            a.sync()
            b.sync()
            b.send([7, t, "e", False])
            a.send([7, t, "e"])
            eq(b.call_ok(RPC + "publish", t, "r"), None, "rpc#publish to %s" % t)
            check(not a.events(0.1) and not b.events(0.1), "event delivered on unrouted topic %s" % t)
        s = a.call_ok(RPC + "stats")
        eq(s["topics"], base["topics"], "topics after subscribing to unrouted topics")
        eq(s["subscriptions"], base["subscriptions"], "subscriptions after subscribing to unrouted topics")
        # a routed topic still works on both connections
        a.send([5, TOPIC + "ok"])
        a.sync()
        b.send([7, TOPIC + "ok", "fine"])
        eq(a.wait_for(lambda m: m[0] == 8, 2, "EVENT"), [8, TOPIC + "ok", "fine"], "routed topic")


@test
def test_twenty_clients_concurrently():
    N, K = 20, 25
    topic = TOPIC + "crowd"

    async def client(url, idx, ready, go):
        async with websockets.connect(url, subprotocols=["wamp"], open_timeout=5, close_timeout=1,
                                      max_queue=None) as ws:
            w = json.loads(await ws.recv())
            check(w[0] == 0, "no WELCOME")
            await ws.send(json.dumps([5, topic]))
            await ws.send(json.dumps([2, "ready", RPC + "echo"]))
            m = json.loads(await ws.recv())
            check(m[:2] == [3, "ready"], "sync answer %r" % (m,))
            ready.append(idx)
            await go.wait()
            for k in range(K):
                await ws.send(json.dumps([2, "c%d" % k, RPC + "add", idx, k, 0.5 if k % 5 == 0 else 0]))
                if k % 2:
                    await ws.send(json.dumps([7, topic, {"from": idx, "seq": k}]))
                else:  # through the RPC, which excludes nobody
                    await ws.send(json.dumps([2, "p%d" % k, RPC + "publish", topic, {"from": idx, "seq": k}]))
            results, pubres, seqs = {}, 0, {}
            want_events = (N - 1) * K + K // 2 + K % 2  # + own RPC-published events (even k)
            events = 0
            while len(results) < K or pubres < (K + 1) // 2 or events < want_events:
                m = json.loads(await ws.recv())
                if m[0] == 3 and m[1].startswith("c"):
                    results[m[1]] = m[2]
                elif m[0] == 3 and m[1].startswith("p"):
                    check(m[2] is None, "publish result %r" % (m,))
                    pubres += 1
                elif m[0] == 8:
                    check(m[1] == topic, "EVENT topic %r" % m[1])
                    src, seq = m[2]["from"], m[2]["seq"]
                    check(src != idx or seq % 2 == 0, "client %d got its own PUBLISH (seq %d)" % (idx, seq))
                    last = seqs.get(src, -1)
                    check(seq > last, "client %d: events of %d out of order (%d after %d)" % (idx, src, seq, last))
                    seqs[src] = seq
                    events += 1
                else:
                    raise AssertionError("client %d: unexpected %r" % (idx, m))
            for k in range(K):
                eq(results["c%d" % k], idx + k + (0.5 if k % 5 == 0 else 0), "client %d add %d" % (idx, k))
            check(events == want_events, "client %d: %d events, expected %d" % (idx, events, want_events))
            # nothing more arrives
            try:
                extra = await asyncio.wait_for(ws.recv(), 0.2)
                raise AssertionError("client %d: unexpected extra message %r" % (idx, extra))
            except asyncio.TimeoutError:
                pass
            return events

    async def run(url):
        ready, go = [], asyncio.Event()
        tasks = [asyncio.create_task(client(url, i, ready, go)) for i in range(N)]
        deadline = time.monotonic() + 5
        while len(ready) < N:
            if time.monotonic() > deadline:
                for t in tasks:
                    if t.done() and t.exception():
                        raise t.exception()
                raise AssertionError("only %d of %d clients connected" % (len(ready), N))
            await asyncio.sleep(0.01)
        go.set()
        return await asyncio.gather(*tasks)

    with Demo() as d:
        counts = asyncio.run(asyncio.wait_for(run(d.url()), 15))
        check(len(counts) == N, "clients finished: %d" % len(counts))


@test
def test_max_connections():
    with Demo("--max-connections", "3") as d:
        cs = [connect(d) for _ in range(3)]
        st, hd, _ = H.raw_handshake(d)
        check(st == 503, "4th connection: status %d, expected 503" % st)
        try:
            websocket.create_connection(d.url(), subprotocols=["wamp"], timeout=3)
            raise AssertionError("websocket-client: 4th connection accepted")
        except websocket.WebSocketBadStatusException as e:
            check(e.status_code == 503, "websocket-client: 4th connection status %r" % e.status_code)
        for i, c in enumerate(cs):
            eq(c.call_ok(RPC + "add", i, 1), i + 1, "client %d after the refusal" % i)
        cs[0].send([5, TOPIC + "mc"])
        cs[0].sync()
        cs[1].send([7, TOPIC + "mc", "still here"])
        eq(cs[0].wait_for(lambda m: m[0] == 8, 2, "EVENT"), [8, TOPIC + "mc", "still here"], "pub/sub")
        eq(cs[2].call_ok(RPC + "stats")["connections"], 3, "connections")
        # a slot freed is usable again
        cs[2].close()
        deadline = time.monotonic() + 2
        while True:
            try:
                c = connect(d)
                break
            except websocket.WebSocketBadStatusException:
                if time.monotonic() > deadline:
                    raise AssertionError("a freed slot was not reused within 2 s")
                time.sleep(0.05)
        eq(c.call_ok(RPC + "echo", 1), [1], "connection in the freed slot")


@test
def test_keepalive_closes_silent_client():
    with Demo("--keepalive", "1") as d:
        good = connect(d)
        silent = websocket.create_connection(d.url(), subprotocols=["wamp"], timeout=5)
        H._clients.append(silent)
        t0 = time.monotonic()
        state = {"pings": 0, "closed_at": None, "code": None, "error": None}

        def reader():  # reads raw frames and never answers a ping
            try:
                while time.monotonic() - t0 < 6:
                    silent.settimeout(0.5)
                    try:
                        f = silent.recv_frame()
                    except websocket.WebSocketTimeoutException:
                        continue
                    if f.opcode == websocket.ABNF.OPCODE_PING:
                        state["pings"] += 1
                    elif f.opcode == websocket.ABNF.OPCODE_CLOSE:
                        state["closed_at"] = time.monotonic() - t0
                        state["code"] = int.from_bytes(f.data[:2], "big") if len(f.data) >= 2 else None
                        return
            except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError) as e:
                state["closed_at"] = time.monotonic() - t0
                state["error"] = repr(e)
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        # the normal client keeps reading (websocket-client answers pings while it reads)
        n = 0
        while time.monotonic() - t0 < 3.6:
            eq(good.call_ok(RPC + "add", n, 1), n + 1, "normal client during keepalive")
            good.collect(0.2)
            n += 1
        th.join(3)
        ca = state["closed_at"]
        check(ca is not None, "the client that ignores pings was not closed within 3.6 s (pings seen: %d)"
              % state["pings"])
        check(0.8 <= ca <= 3.3, "silent client closed after %.2f s, expected ~2-3 s" % ca)
        check(state["pings"] >= 1, "the silent client saw no ping before being closed")
        eq(good.call_ok(RPC + "echo", "alive"), ["alive"], "normal client after 3.6 s")


def _signal_test(sig):
    d = Demo()
    answering = connect(d)
    mute = websocket.create_connection(d.url(), subprotocols=["wamp"], timeout=3)
    mute.recv()  # WELCOME
    answering.send([5, TOPIC + "x"])
    answering.sync()
    t0 = time.monotonic()
    d.signal(sig)
    codes = {}
    try:
        answering.collect(2.5)
    except Closed as e:
        codes["answering"] = e.code
    mute.settimeout(2.5)
    try:
        while True:
            f = mute.recv_frame()  # reads frames, never answers the close
            if f.opcode == websocket.ABNF.OPCODE_CLOSE:
                codes["mute"] = int.from_bytes(f.data[:2], "big") if len(f.data) >= 2 else None
                break
    except Exception as e:
        codes.setdefault("mute", "no close frame (%s)" % type(e).__name__)
    rc = d.wait(max(0.05, t0 + 2.0 - time.monotonic()))
    elapsed = time.monotonic() - t0
    if rc is None:
        rc = d.wait(3)
        d.kill()
        raise AssertionError("still running %.1f s after %s (then status %r)" % (elapsed, sig.name, rc))
    d.stopped = True
    check(codes.get("answering") == 1001, "client that answers: close code %r" % codes.get("answering"))
    check(codes.get("mute") == 1001, "client that does not answer: close code %r" % codes.get("mute"))
    check(rc == 0, "exit status %r after %s" % (rc, sig.name))
    out = d.read_rest_of_stdout().decode("utf-8", "replace")
    check(out == d.line + "\n", "stdout %r" % out)


@test
def test_sigterm():
    _signal_test(signal.SIGTERM)


@test
def test_sigint():
    _signal_test(signal.SIGINT)


@test
def test_sigterm_idle():
    d = Demo()
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.wait(2.0)
    check(rc == 0, "exit status %r within 2 s of SIGTERM with no clients (%.2f s)" % (rc, time.monotonic() - t0))
    d.stopped = True


BAD_OPTIONS = [
    ["--bogus", "1"], ["--bogus"], ["--port"], ["--port", "abc"], ["--port", "65536"], ["--port", "-1"],
    ["--port", ""], ["--keepalive", "x"], ["--keepalive", "-5"], ["--max-connections", "abc"],
    ["--max-connections", "-1"], ["-p", "8080"], ["extra"],
]


@test
def test_bad_options():
    for args in BAD_OPTIONS:
        rc, out, err = H.run_demo_expect_exit(args)
        check(rc == 2, "%r: exit status %r, expected 2" % (args, rc))
        check(out == "", "%r: stdout %r" % (args, out))
        check(err.endswith("\n") and err.count("\n") == 1 and err.strip(),
              "%r: stderr must be one line, got %r" % (args, err))


@test
def test_help_and_ranges():
    for flag in ("--help", "-h"):
        rc, out, err = H.run_demo_expect_exit([flag])
        check(rc == 0, "%s: exit status %r, expected 0" % (flag, rc))
        check(out.startswith("usage: demo") and err == "", "%s: usage on stdout only: %r / %r" % (flag, out[:100], err))
        for opt in ("--host", "--port", "--allow-origin", "--block", "--keepalive", "--max-connections",
                    "--session-dir", "--tls-cert", "--tls-key", "--slow-consumer", "--web-root", "--auth"):
            check(opt in out, "%s: the usage does not mention %s" % (flag, opt))
    for args, rng in ((["--port", "70000"], "0 to 65535"), (["--keepalive", "90000"], "0 to 86400"),
                      (["--max-connections", "0"], "1 to ")):
        rc, out, err = H.run_demo_expect_exit(args)
        check(rc == 2 and rng in err, "%s: the message should give the range %r: %r" % (args, rng, err))


@test
def test_port_in_use():
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.bind((host, 0))
            s.listen(1)
            port = s.getsockname()[1]
            rc, out, err = H.run_demo_expect_exit(["--host", host, "--port", str(port)])
            check(rc == 2, "%s port %d in use: exit status %r, expected 2" % (host, port, rc))
            check(out == "", "port in use: stdout %r" % out)
            check(err.endswith("\n") and err.count("\n") == 1, "port in use: stderr %r" % err)
        finally:
            s.close()


@test
def test_ipv6_loopback():
    with Demo(host="::1") as d:
        check(d.line == "listening on ::1:%d" % d.port, "line %r" % d.line)
        a, b = connect(d), connect(d)
        a.send([5, TOPIC + "v6"])
        a.sync()
        b.send([7, TOPIC + "v6", "six"])
        eq(a.wait_for(lambda m: m[0] == 8, 2, "EVENT"), [8, TOPIC + "v6", "six"], "EVENT over ::1")
        eq(b.call_ok(RPC + "add", 6, 6), 12, "add over ::1")


# ---- malformed input -------------------------------------------------------------------------

MALFORMED = [
    "not json", "", "[", "[2,", "]", "{}", '{"0":2}', "42", '"str"', "null", "[]", "[99]", "[-1]",
    "[2.5]", '["2","c","%secho"]' % RPC, "[0,\"x\",1,\"y\"]", "[3,\"x\",1]", "[4,\"x\",\"u\",\"d\"]",
    "[8,\"t\",1]", "[1]", "[1,\"p\"]", "[1,1,2]", "[5]", "[5,7]", "[6]", "[6,null]", "[7]", "[7,\"t\"]",
    "[7,1,2]", '[2,"x","%secho",]' % RPC, '[2,"x","%secho"] trailing' % RPC, "[1,2,3" + "]" * 3,
    "\ufeff[2]", '[2,"deep","%secho",%s%s]' % (RPC, "[" * 200, "]" * 200), "[2, 01]", "[2, NaN]",
    "[2, 'c', 'u']", "[5,\"\\ud800\"]",
]


@test
def test_malformed_messages_keep_connection():
    with Demo() as d:
        c = connect(d)
        for i, text in enumerate(MALFORMED):
            c.send(text)
            try:
                eq(c.call_ok(RPC + "add", i, 1), i + 1, "call after %r" % text)
            except Closed as e:
                raise AssertionError("connection closed (code %r) after malformed %r" % (e.code, text))
        stray = [m for m in c.collect(0.1) if not (m[0] == 4 and m[1] in ("x", "deep", "c"))]
        check(not stray, "unexpected messages: %r" % stray[:3])


@test
def test_binary_message_keeps_connection():
    with Demo() as d:
        c = connect(d)
        c.send_binary(json.dumps([2, "bin", RPC + "echo"]).encode())
        try:
            eq(c.call_ok(RPC + "echo", "after"), ["after"], "call after a binary message")
        except Closed as e:
            raise AssertionError("connection closed (code %r) after a binary message" % e.code)


@test
def test_call_without_procuri_gets_error():
    cases = (('[2,"np1"]', "np1"), ('[2,"np2",5]', "np2"), ('[2,"np3",null,1]', "np3"),
             ('[2,"np4",["%secho"]]' % RPC, "np4"))
    with Demo() as d:
        c = connect(d)
        for text, _ in cases:
            c.send(text)
        bad = []
        for text, cid in cases:
            try:
                m = c.answer(cid, 1)
                if not (m[0] == 4 and m[2] == ERR_INVALID):
                    bad.append("%s -> %r" % (text, m))
            except AssertionError:
                bad.append("%s -> no answer" % text)
        check(not bad, "expected CALLERROR invalid_argument: " + "; ".join(bad))
        eq(c.call_ok(RPC + "echo", 1), [1], "call afterwards")


@test
def test_malformed_publish_delivers_nothing():
    with Demo() as d:
        a, b = connect(d), connect(d)
        t = TOPIC + "mal"
        a.send([5, t])
        b.send([5, t])
        a.sync()
        b.sync()
        for text in ('[7,"%s","e",[1,2]]', '[7,"%s","e",["ok",null]]', '[7,"%s","e",[],"x"]',
                     '[7,"%s","e",[],[1]]', '[7,"%s","e",false,{}]', '[7,"%s","e",[],null]'):
            a.send(text % t)
        a.send([7, t, "good"])
        a.sync()
        eq([m[2] for m in b.events(0.25)], ["good"], "events at B")
        check(not a.events(0.01), "A received an event")


@test
def test_idle_sessions_hold_no_buffers():
    """Buffers are lent: idle sessions hold none, a large message borrows a full-size receive
    buffer and gives it back."""
    with Demo() as d:
        idle = [connect(d) for _ in range(20)]
        a = connect(d)
        s = a.call_ok(RPC + "stats")
        for k in ("recv_buffers", "recv_small", "send_buffers"):
            check(k in s and k + "_max" in s, "stats lacks %s: %r" % (k, sorted(s)))
        # the caller's own request and answer are the only ones in flight
        check(s["recv_small"] + s["recv_buffers"] <= 1, "receive buffers lent with 21 idle: %r" % s)
        check(s["send_buffers"] <= 1, "send buffers lent with 21 idle: %r" % s)
        check(s["recv_small_max"] >= s["connections_max"] and 1 <= s["recv_buffers_max"] <= s["connections_max"],
              "pools: %r" % s)
        big = "x" * 20000
        eq(a.call_ok(RPC + "echo", big), [big], "echo of 20,000 bytes through a full-size buffer")
        s2 = a.call_ok(RPC + "stats")
        check(s2["recv_buffers"] == 0 and s2["recv_small"] <= 1, "after the large message: %r" % s2)
        for w in idle:
            w.close()


if __name__ == "__main__":
    sys.exit(H.main(R))
