#!/usr/bin/python3
"""The client of the shipped lwIP examples (examples/lwip/raw, examples/lwip/rtos), run by
tests/lwip/examples/run.sh inside the test's network namespace, against the example's lwIP at
its default address.

    client.py SUITE URL [--sensor]

A WAMP v1 session the way a user's would go: WELCOME, PREFIX and a CURIE call, a message at
the examples' size limit and one byte over it, a subscription and the EVENT of another
session's PUBLISH, and (--sensor, the RTOS example) the reading its sensor task publishes
every second. Ends with `SUITE: N passed, M failed`."""
import json
import os
import sys

sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "integration"))

import wamp_harness as H  # noqa: E402
from wamp_harness import Wamp, Closed, check, eq  # noqa: E402

SUITE, URL = sys.argv[1], sys.argv[2]
SENSOR = "--sensor" in sys.argv[3:]
RPC = "http://wamp1.dev/rpc#"
TOPIC = "http://wamp1.dev/topic/"
LIMIT = 1024 - 256  # the examples' WAMP1_RECV_BUFFER_SIZE 1024: messages up to 768 bytes

R = H.Runner(SUITE, per_test_limit=15.0, budget=60.0)
test = R.test


@test
def test_welcome():
    c = Wamp(URL)
    eq(c.subprotocol(), "wamp", "subprotocol")
    w = c.welcome
    check(len(w) == 4 and w[2] == 1 and H.SESSION_RE.match(w[1]), "WELCOME %r" % (w,))
    c.close()


@test
def test_prefix_and_curie_call():
    c = Wamp(URL)
    c.send([1, "rpc", RPC])
    eq(c.call_ok("rpc:add", 2, 3), 5, "rpc:add(2, 3)")
    eq(c.call_ok(RPC + "echo", {"a": [1, "x"]}, 2), [{"a": [1, "x"]}, 2], "rpc#echo (its arguments)")
    m = c.call_err("rpc:nosuch", 1)
    check(m[2].startswith("http://"), "CALLERROR with an error URI: %r" % (m,))
    c.close()


def echo_call_of_size(n):
    """A CALL of rpc#echo whose text is exactly n bytes long, and the length of its argument."""
    head = json.dumps([2, "big", RPC + "echo", ""], separators=(",", ":"))
    text = head[:-2] + "x" * (n - len(head)) + head[-2:]
    eq(len(text), n, "built message size")
    return text, n - len(head)


@test
def test_message_at_the_limit():
    c = Wamp(URL)
    text, arg = echo_call_of_size(LIMIT)
    c.send(text)
    m = c.answer("big")
    eq(m[0], 3, "CALLRESULT for a %d-byte message" % LIMIT)
    eq(m[2], ["x" * arg], "the echoed argument")
    eq(c.call_ok(RPC + "add", 1, 1), 2, "the session goes on")
    c.close()


@test
def test_message_over_the_limit():
    c = Wamp(URL)
    c.send(echo_call_of_size(LIMIT + 1)[0])
    try:
        m = c.recv(3.0)
        raise AssertionError("expected close 1009, got %r" % (m,))
    except Closed as e:
        eq(e.code, 1009, "close code for %d bytes" % (LIMIT + 1))
    c2 = Wamp(URL)  # the server goes on serving
    eq(c2.call_ok(RPC + "add", 20, 22), 42, "a new session after it")
    c2.close()


@test
def test_subscribe_and_event():
    a, b = Wamp(URL), Wamp(URL)
    for c in (a, b):
        c.send([5, TOPIC + "chat"])
        c.sync()
    a.send([7, TOPIC + "chat", {"text": "hello"}, True])  # excludeMe
    ev = b.wait_for(lambda m: m[0] == 8, 3.0, "EVENT")
    eq(ev, [8, TOPIC + "chat", {"text": "hello"}], "EVENT at the other session")
    check(not a.events(0.3), "excludeMe: no EVENT for the publisher")
    b.send([6, TOPIC + "chat"])
    b.sync()
    a.send([7, TOPIC + "chat", "again", False])  # the publisher too
    eq(a.wait_for(lambda m: m[0] == 8, 3.0, "EVENT"), [8, TOPIC + "chat", "again"], "publisher's own EVENT")
    check(not b.events(0.3), "no EVENT after UNSUBSCRIBE")
    a.close()
    b.close()


@test
def test_sensor_task_publishes():
    if not SENSOR:
        return "SKIP: only the RTOS example has a sensor task"
    c = Wamp(URL)
    c.send([5, TOPIC + "sensor"])
    ev = c.wait_for(lambda m: m[0] == 8, 3.0, "EVENT from the sensor task")
    check(ev[1] == TOPIC + "sensor" and isinstance(ev[2], dict) and isinstance(ev[2].get("n"), int),
          "sensor EVENT %r" % (ev,))
    c.close()


sys.exit(R.run())
