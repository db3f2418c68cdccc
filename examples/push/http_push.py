#!/usr/bin/python3
"""http_push.py - publish a WAMP event from Python with one signed HTTP POST to a wamp1.h
server's publisher (build/demo --publisher-secret SECRET; port/wamp1_publisher.h).

    python3 http_push.py [--url http://127.0.0.1:8080/publish] (--secret S | --token T)
                         [--exclude SID,...] [--eligible SID,...] TOPIC EVENT_JSON

Standard library only. X-Wamp1-Signature = base64(HMAC-SHA256(secret, timestamp "\\n"
nonce "\\n" body)). Prints the answer's body ({"delivered": N}); exit 0 on 200, 1 on
another status, 2 on bad arguments."""
import argparse
import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
import urllib.error
import urllib.request


def sign(secret, ts, nonce, body):
    return base64.b64encode(hmac.new(secret.encode(), b"%s\n%s\n%s" % (ts.encode(), nonce.encode(), body),
                                     hashlib.sha256).digest()).decode()


def publish(url, msg, secret=None, token=None):
    """POST msg; returns (status, body text)."""
    body = json.dumps(msg).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        ts, nonce = str(int(time.time())), secrets.token_urlsafe(24)
        headers.update({"X-Wamp1-Timestamp": ts, "X-Wamp1-Nonce": nonce,
                        "X-Wamp1-Signature": sign(secret, ts, nonce, body)})
    else:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    ap = argparse.ArgumentParser(description="publish a WAMP event with an HTTP POST")
    ap.add_argument("--url", default="http://127.0.0.1:8080/publish")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--secret")
    g.add_argument("--token")
    ap.add_argument("--exclude")
    ap.add_argument("--eligible")
    ap.add_argument("topic")
    ap.add_argument("event", help="the event as JSON")
    a = ap.parse_args()
    try:
        msg = {"topic": a.topic, "event": json.loads(a.event)}
    except ValueError:
        print("http_push.py: EVENT_JSON is not JSON", file=sys.stderr)
        return 2
    for name in ("exclude", "eligible"):
        v = getattr(a, name)
        if v is not None:
            msg[name] = [s for s in v.split(",") if s]
    status, text = publish(a.url, msg, a.secret, a.token)
    print(text)
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
