#!/usr/bin/env bash
# A bounded soak of build/demo: connections opening and closing, subscribing, publishing and
# calling for SOAK_SECONDS (default 60; `make soak` passes 600). Prints pool usage and RSS at
# the start and the end, and ends with `soak: N passed, M failed`.
set -u
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
secs=${SOAK_SECONDS:-60}
[ -x build/demo ] || make -s build/demo || exit 1
exec "$PY" tests/abuse/soak.py build/demo "$secs"
