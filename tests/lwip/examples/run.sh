#!/usr/bin/env bash
# tests/lwip/examples/run.sh raw|rtos BINARY - runs a shipped lwIP example (built by
# tests/lwip/run.sh examples-run) in a network namespace of its own, on a TAP device, and
# drives it with client.py from the Linux side of the wire. Needs root (or an unprivileged
# user namespace) and /dev/net/tun; says SKIP otherwise.
set -u
which=$1 bin=$2
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! unshare -n true 2>/dev/null || [ ! -c /dev/net/tun ]; then
  echo "SKIP lwip-example-$which: no network namespace or /dev/net/tun here (run as root)"
  exit 0
fi
# Inside the namespace: start the example, wait for its "listening" line, run the client.
unshare -n bash -c '
  set -u
  bin=$1 name=$2 here=$3 py=$4 extra=$5 log=$6
  "$bin" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "listening" "$log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
  if ! grep -q "listening" "$log"; then
    echo "the example did not start:"; cat "$log"; kill $pid 2>/dev/null
    echo "$name: 0 passed, 1 failed"; exit 1
  fi
  "$py" "$here/client.py" "$name" ws://192.168.0.50:8080/ $extra
  rc=$?
  kill $pid 2>/dev/null; wait $pid 2>/dev/null
  echo "--- the example said:"; cat "$log"
  exit $rc
' _ "$bin" "lwip-example-$which" "$here" "$PY" "$([ "$which" = rtos ] && echo --sensor)" "$(dirname "$bin")/$which-example.log"
