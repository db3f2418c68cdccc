#!/usr/bin/env bash
# The Windows port under wine: builds with tests/windows/build.sh, then runs
#   - every unit test (build/win/test_*.exe), the port's own test included;
#   - the conformance suite (--quick) against build/echo-win.exe;
#   - tests/windows/test_demo_win.py: a Linux client against build/demo-win.exe (WELCOME,
#     calls, pub/sub, shutdown on Ctrl+C, bad options);
#   - the POSIX integration suites tests/integration/test_{echo,demo}.py against the Windows
#     builds, through tests/windows/wine-run.sh (their SIGTERM becomes Ctrl+C).
# Ends with "windows: N passed, M failed" (the sums of every part; a part that crashes or
# prints no count adds one failure); exit status 0 iff M is 0. Prints a SKIP line and exits 0
# when mingw-w64 or wine is missing.
#
# Wine runs in its own prefix, build/win/wineprefix (WAMP1_WINEPREFIX to change it), made on
# the first run; a persistent wineserver serves the run and is stopped at the end, with every
# program still running in that prefix.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
WINE=${WINE:-wine}
export WINE
if ! command -v "$CC" >/dev/null 2>&1 || ! command -v "$WINE" >/dev/null 2>&1 ||
   ! command -v wineserver >/dev/null 2>&1; then
  echo "SKIP windows: mingw-w64 or wine is not installed" \
       "(apt-get install --no-install-recommends gcc-mingw-w64-x86-64 wine wine64)"
  exit 0
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

total_pass=0
total_fail=0
LOGS=build/win/logs
mkdir -p "$LOGS"

# count NAME LOG RC: adds the last "N passed, M failed" line of LOG to the totals
count() {
  local name=$1 log=$2 rc=$3 line p f
  line=$(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(sed -E 's/.*(^|: )([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
    f=$(sed -E 's/.*(^|: )([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
  else
    p=0; f=0
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  printf '%-24s %s  %6d passed, %d failed  (exit %d, log %s)\n' "$name" \
    "$([ "$f" -eq 0 ] && echo ok || echo FAIL)" "$p" "$f" "$rc" "$log"
}

# part NAME TIMEOUT COMMAND...: runs a part, shows its output, counts its result
part() {
  local name=$1 limit=$2 log rc
  shift 2
  log=$LOGS/$name.log
  echo "---- $name: $*"
  timeout --kill-after=10 "$limit" "$@" </dev/null >"$log" 2>&1
  rc=$?
  cat "$log"
  count "$name" "$log" "$rc"
}

# ---- build ------------------------------------------------------------------------------------
echo "---- build"
bash tests/windows/build.sh >"$LOGS/build.log" 2>&1
rc=$?
cat "$LOGS/build.log"
build_failed=$(sed -nE 's/^windows-build: [0-9]+ built, ([0-9]+) failed$/\1/p' "$LOGS/build.log")
[ -n "$build_failed" ] || build_failed=1
[ "$rc" -ne 0 ] && [ "$build_failed" -eq 0 ] && build_failed=1
total_fail=$((total_fail + build_failed))

# ---- wine -------------------------------------------------------------------------------------
export WINEPREFIX=${WAMP1_WINEPREFIX:-$ROOT/build/win/wineprefix}
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="   # no Mono/Gecko installer prompts in a new prefix
mkdir -p "$WINEPREFIX"
stop_wine() { wineserver -k >/dev/null 2>&1; }
trap stop_wine EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
# A persistent wineserver of our own: a wineserver started by a program under test would
# inherit that program's pipes and keep a test waiting for their end.
wineserver -p </dev/null >/dev/null 2>&1
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "---- making the wine prefix $WINEPREFIX"
  timeout 180 "$WINE" wineboot --init </dev/null >"$LOGS/wineboot.log" 2>&1
fi
if ! timeout 60 "$WINE" cmd /c exit </dev/null >"$LOGS/wine-start.log" 2>&1; then
  echo "FAIL wine does not start (see $LOGS/wine-start.log)"
  total_fail=$((total_fail + 1))
fi

# ---- unit tests -------------------------------------------------------------------------------
for t in build/win/test_*.exe; do
  [ -f "$t" ] || continue
  n=$(basename "$t" .exe)
  part "win-${n#test_}" 90 "$WINE" "$t"
done

# ---- conformance against the Windows echo -----------------------------------------------------
if [ -f build/echo-win.exe ] && [ -f tests/conformance/ws_conformance.py ]; then
  part win-conformance 240 "$PY" tests/conformance/ws_conformance.py --quick \
    --server "bash $ROOT/tests/windows/wine-run.sh $ROOT/build/echo-win.exe"
fi

# ---- integration: Linux clients against the Windows builds ------------------------------------
if "$PY" -c 'import websocket' >/dev/null 2>&1; then
  [ -f build/demo-win.exe ] && part win-demo 120 "$PY" tests/windows/test_demo_win.py build/demo-win.exe
else
  echo "SKIP win-demo: python3-websocket is not installed"
fi
if "$PY" -c 'import websocket, websockets' >/dev/null 2>&1; then
  # the POSIX suites take the server as one executable path: a wrapper per program
  for prog in echo demo; do
    [ -f "build/$prog-win.exe" ] || continue
    printf '#!/usr/bin/env bash\nexec bash %q %q "$@"\n' "$ROOT/tests/windows/wine-run.sh" \
      "$ROOT/build/$prog-win.exe" >"build/win/$prog-win"
    chmod +x "build/win/$prog-win"
  done
  [ -f tests/integration/test_echo.py ] && [ -x build/win/echo-win ] &&
    part win-integration-echo 120 "$PY" tests/integration/test_echo.py build/win/echo-win
  [ -f tests/integration/test_demo.py ] && [ -x build/win/demo-win ] &&
    part win-integration-demo 240 "$PY" tests/integration/test_demo.py build/win/demo-win
else
  echo "SKIP win-integration: python3-websocket / python3-websockets are not installed"
fi

echo
echo "windows: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
