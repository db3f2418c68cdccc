#!/usr/bin/env bash
# make check: every test suite, one after the other. Each suite prints its own
# "name: N passed, M failed" line; this script adds them up and ends with the total.
# Logs of every suite land in build/logs/.
set -u
cd "$(dirname "$0")/.."
mkdir -p build/logs
bash tests/install-deps.sh

total_pass=0
total_fail=0
skipped=()
failed_suites=()
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# suite NAME TIMEOUT_SECONDS COMMAND...
suite() {
  local name=$1 limit=$2
  shift 2
  local log=build/logs/$name.log start end rc line p f
  start=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  line=$(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(sed -E 's/.*(^|: )([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
    f=$(sed -E 's/.*(^|: )([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
  else
    p=0; f=0
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi  # crashed, timed out or failed to build
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  if [ "$f" -ne 0 ]; then
    failed_suites+=("$name")
    printf '%-22s FAIL  %5d passed, %d failed  (%ss, exit %d, log %s)\n' "$name" "$p" "$f" $((end - start)) "$rc" "$log"
    grep -E 'FAIL|Error|error:|ERROR' "$log" | head -n 15 | sed 's/^/    /'
  else
    printf '%-22s ok    %5d passed  (%ss)\n' "$name" "$p" $((end - start))
  fi
}

skip() { skipped+=("$1: $2"); printf '%-22s SKIP  %s\n' "$1" "$2"; }

have() { command -v "$1" >/dev/null 2>&1; }
have_py() { "$PY" -c "import $1" >/dev/null 2>&1; }

# ---- build and warnings --------------------------------------------------
suite compile 300 bash tests/compile/run.sh

# ---- unit tests through the test port -------------------------------------
for t in tests/test_*.c; do
  n=$(basename "$t" .c)
  suite "unit-${n#test_}" 300 bash -c "make -s build/$n && ./build/$n"
done
# the tests that run through the test port, again with it event-driven (as epoll)
for t in $(grep -l 'wamp1_testport.h' tests/test_*.c); do
  n=$(basename "$t" .c)
  suite "events-${n#test_}" 300 bash -c "make -s build/evt_${n#test_} && ./build/evt_${n#test_}"
done
if have clang && echo 'int main(void){return 0;}' | clang -x c -fsanitize=address,undefined -o build/.san - 2>/dev/null; then
  for t in tests/test_*.c; do
    n=$(basename "$t" .c)
    suite "asan-${n#test_}" 600 bash -c "make -s build/asan_${n#test_} && ./build/asan_${n#test_}"
  done
else
  skip asan "clang with libclang-rt-14-dev is not installed"
fi

# ---- the examples over loopback with independent clients -----------------
if [ -f tests/conformance/ws_conformance.py ]; then
  suite conformance 900 "$PY" tests/conformance/ws_conformance.py --server "build/echo"
  suite conformance-small 300 "$PY" tests/conformance/ws_conformance.py --quick --max-message 1000 \
    --server "build/echo --max-message 1000"
fi
if have_py websocket && have_py websockets; then
  [ -f tests/integration/test_echo.py ] && suite integration-echo 300 "$PY" tests/integration/test_echo.py build/echo
  [ -f tests/integration/test_demo.py ] && [ -x build/demo ] && suite integration-demo 300 "$PY" tests/integration/test_demo.py build/demo
else
  skip integration "python3-websocket / python3-websockets are not installed"
fi
for extra in tests/check.d/*.sh; do
  [ -f "$extra" ] && . "$extra"
done

echo
if [ ${#skipped[@]} -gt 0 ]; then
  echo "skipped checks:"
  printf '  %s\n' "${skipped[@]}"
fi
[ ${#failed_suites[@]} -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
