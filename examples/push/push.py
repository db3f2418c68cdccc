#!/usr/bin/python3
"""push.py - publish a WAMP event from Python through Redis: every wamp1.h server joined to
that Redis (build/demo --redis HOST:PORT) delivers it to its subscribers of the topic.

    python3 push.py [--redis HOST:PORT] [--prefix wamp1:] [--exclude SID,...] [--eligible SID,...] TOPIC EVENT_JSON
    python3 push.py http://wamp1.dev/topic/news '{"title": "saved"}'

Needs python3-redis (Debian) or `pip install redis`. The message is the plain JSON of
port/wamp1_push.h on the channel PREFIX + TOPIC: {"event": EVENT, "exclude": [...],
"eligible": [...]}. Prints the number of servers that received it; exit 0, 2 on bad
arguments, 1 when Redis cannot be reached. REDIS_PASSWORD in the environment: AUTH."""
import argparse
import json
import os
import sys

import redis


def main():
    ap = argparse.ArgumentParser(description="publish a WAMP event through Redis")
    ap.add_argument("--redis", default="127.0.0.1:6379")
    ap.add_argument("--prefix", default="wamp1:")
    ap.add_argument("--exclude")
    ap.add_argument("--eligible")
    ap.add_argument("topic")
    ap.add_argument("event", help="the event as JSON")
    a = ap.parse_args()
    try:
        event = json.loads(a.event)
    except ValueError:
        print("push.py: EVENT_JSON is not JSON", file=sys.stderr)
        return 2
    msg = {"event": event}
    for name in ("exclude", "eligible"):
        v = getattr(a, name)
        if v is not None:
            msg[name] = [s for s in v.split(",") if s]
    host, _, port = a.redis.rpartition(":")
    try:
        r = redis.Redis(host=host or "127.0.0.1", port=int(port or 6379), password=os.environ.get("REDIS_PASSWORD") or None,
                        socket_timeout=3)
        print(r.publish(a.prefix + a.topic, json.dumps(msg)))
    except redis.RedisError as e:
        print("push.py: redis: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
