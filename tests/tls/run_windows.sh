#!/usr/bin/env bash
# The TLS transport on Windows: port/wamp1_mbedtls.h wrapping port/wamp1_win32.h, built with
# mingw-w64 and run under wine, driven from Linux by real TLS clients.
#
#   - mbedTLS: Debian's source package (tests/tls/fetch-mbedtls.sh unpacks it outside the
#     repository); its library/*.c are cross-compiled once into build/win/mbedtls-VERSION/
#     (rebuilt when the tree or the compiler changes)
#   - build/win/tls_echo.exe and build/win/tls_unit.exe: tests/tls/tls_echo.c and tls_unit.c
#     for Windows, every warning a failure
#   - tls_unit.exe under wine (the socket table with Winsock handles, certificate loading)
#   - tests/tls/tls_test.py against tls_echo.exe through tests/windows/wine-run.sh (SIGTERM
#     reaches the program as Ctrl+C): handshakes, echo up to 1 MiB, chaos, pool full,
#     garbage, stalled clients, openssl s_client, renegotiation, bad set-up, Ctrl+C with 1001
#
# Ends with "tls-windows: N passed, M failed"; exit status 0 iff M is 0. Prints a SKIP line
# and exits 0 when mingw-w64, wine, openssl, python3 or mbedTLS's source cannot be had.
# Wine runs in the Windows suite's prefix (build/win/wineprefix, WAMP1_WINEPREFIX to change
# it), with a wineserver of its own that is stopped at the end. TLS_KEEP=DIR keeps the
# certificates and logs in DIR.
set -u
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
AR=${MINGW_AR:-x86_64-w64-mingw32-ar}
WINE=${WINE:-wine}
export WINE
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

skip() { echo "SKIP tls-windows: $*"; exit 0; }
command -v "$CC" >/dev/null 2>&1 && command -v "$AR" >/dev/null 2>&1 ||
  skip "$CC is not installed (apt-get install gcc-mingw-w64-x86-64)"
command -v "$WINE" >/dev/null 2>&1 && command -v wineserver >/dev/null 2>&1 ||
  skip "wine is not installed (apt-get install --no-install-recommends wine wine64)"
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"
command -v "$PY" >/dev/null 2>&1 || skip "python3 is not installed"

OUT=build/win
LOGS=$OUT/logs
mkdir -p "$LOGS"
if ! tree=$(bash tests/tls/fetch-mbedtls.sh 2>"$LOGS/tls-fetch.log"); then
  skip "mbedTLS source could not be obtained ($(tail -n 1 "$LOGS/tls-fetch.log"))"
fi

total_pass=0
total_fail=0
fail() { echo "FAIL $*"; total_fail=$((total_fail + 1)); }
finish() {
  echo
  echo "tls-windows: $total_pass passed, $total_fail failed"
  [ "$total_fail" -eq 0 ]
  exit
}

# ---- mbedTLS for Windows ---------------------------------------------------------------------
lib=$OUT/$(basename "$tree")
stamp=$( { echo "$tree $CC"; "$CC" --version | head -n 1; ls "$tree"/library/*.c; } | cksum)
if [ ! -f "$lib/libmbedtls.a" ] || [ "$(cat "$lib/.stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "---- cross-compiling mbedTLS from $tree"
  rm -rf "$lib"
  mkdir -p "$lib/obj"
  if printf '%s\n' "$tree"/library/*.c | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c \
       'f={}; b=$(basename "$f" .c); '"$CC"' -O2 -w -I"$0/include" -I"$0/library" -c "$f" -o "$1/obj/$b.o"' \
       "$tree" "$lib" >"$lib/build.log" 2>&1 &&
     "$AR" rcs "$lib/libmbedtls.a" "$lib"/obj/*.o >>"$lib/build.log" 2>&1; then
    echo "$stamp" >"$lib/.stamp"
  else
    tail -n 30 "$lib/build.log"
    rm -f "$lib/libmbedtls.a"
    fail "cross-compiling mbedTLS (log $lib/build.log)"
    finish
  fi
fi

# ---- the test programs -----------------------------------------------------------------------
WARN=(-std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes)
DEPS=(wamp1.h port/wamp1_win32.h port/wamp1_mbedtls.h "$lib/libmbedtls.a" "$SELF")
build() { # build OUT SRC: kept when newer than its sources; a warning is a failure
  local out=$1 src=$2 log=$LOGS/${1##*/}.log d fresh=1
  if [ -f "$out" ]; then
    for d in "$src" "${DEPS[@]}"; do ! [ "$out" -nt "$d" ] && fresh=0; done
    [ "$fresh" -eq 1 ] && { echo "built $out (cached)"; total_pass=$((total_pass + 1)); return 0; }
  fi
  if ! "$CC" "${WARN[@]}" -O2 -isystem "$tree/include" -o "$out" "$src" "$lib/libmbedtls.a" \
       -lws2_32 -lbcrypt >"$log" 2>&1; then
    sed 's/^/    /' "$log" | head -n 40
    rm -f "$out"
    fail "build of $out"
    return 1
  fi
  if grep -q 'warning:' "$log"; then
    sed 's/^/    /' "$log" | head -n 40
    fail "warnings in $out"
    return 0
  fi
  echo "built $out"
  total_pass=$((total_pass + 1))
}
build "$OUT/tls_echo.exe" tests/tls/tls_echo.c
build "$OUT/tls_unit.exe" tests/tls/tls_unit.c

# ---- certificates ----------------------------------------------------------------------------
if [ -n "${TLS_KEEP:-}" ]; then
  dir=$TLS_KEEP; mkdir -p "$dir"
else
  dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fi
dir=$(cd "$dir" && pwd)
san_ext="-addext subjectAltName=DNS:localhost,IP:127.0.0.1"
{ openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost $san_ext -keyout "$dir/ec-key.pem" -out "$dir/ec-cert.pem" &&
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
    -subj /CN=localhost $san_ext -keyout "$dir/rsa-key.pem" -out "$dir/rsa-cert.pem" &&
  openssl x509 -in "$dir/ec-cert.pem" -outform DER -out "$dir/ec-cert.der" &&
  openssl pkey -in "$dir/ec-key.pem" -outform DER -out "$dir/ec-key.der"
} >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log"; fail "openssl could not make the test certificates"; finish; }

# ---- wine ------------------------------------------------------------------------------------
export WINEPREFIX=${WAMP1_WINEPREFIX:-$ROOT/build/win/wineprefix}
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="   # no Mono/Gecko installer prompts in a new prefix
mkdir -p "$WINEPREFIX"
stop_wine() { wineserver -k >/dev/null 2>&1; [ -z "${TLS_KEEP:-}" ] && rm -rf "$dir"; }
trap stop_wine EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
# a persistent wineserver of our own, so that none inherits a test's pipes
wineserver -p </dev/null >/dev/null 2>&1
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "---- making the wine prefix $WINEPREFIX"
  timeout 180 "$WINE" wineboot --init </dev/null >"$LOGS/wineboot.log" 2>&1
fi

# counts LOG NAME: adds the last "NAME: N passed, M failed" of LOG; none counts as a failure
counts() {
  local log=$1 name=$2 line
  line=$(tr -d '\r' <"$log" | grep -E "^$name: [0-9]+ passed, [0-9]+ failed" | tail -n 1)
  if [ -z "$line" ]; then fail "$name printed no result"; return; fi
  total_pass=$((total_pass + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
  total_fail=$((total_fail + $(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")))
}

if [ -f "$OUT/tls_unit.exe" ]; then
  echo "---- tls_unit.exe under wine"
  timeout --kill-after=10 60 "$WINE" "$OUT/tls_unit.exe" "$dir" </dev/null >"$LOGS/tls-unit-win.log" 2>&1
  rc=$?
  tr -d '\r' <"$LOGS/tls-unit-win.log"
  counts "$LOGS/tls-unit-win.log" unit
  [ "$rc" -ne 0 ] && ! grep -q 'FAIL' "$LOGS/tls-unit-win.log" && fail "tls_unit.exe exit status $rc"
fi

if [ -f "$OUT/tls_echo.exe" ]; then
  echo "---- tests/tls/tls_test.py against tls_echo.exe under wine"
  # the client suite takes the server as one executable: a wrapper around wine-run.sh
  printf '#!/usr/bin/env bash\nexec bash %q %q "$@"\n' "$ROOT/tests/windows/wine-run.sh" \
    "$ROOT/$OUT/tls_echo.exe" >"$OUT/tls_echo-win"
  chmod +x "$OUT/tls_echo-win"
  TLS_SUITE=tls-windows-clients timeout --kill-after=10 150 "$PY" tests/tls/tls_test.py \
    "$OUT/tls_echo-win" "$dir" </dev/null >"$LOGS/tls-test-win.log" 2>&1
  rc=$?
  cat "$LOGS/tls-test-win.log"
  counts "$LOGS/tls-test-win.log" tls-windows-clients
  [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$LOGS/tls-test-win.log" && fail "tls_test.py exit status $rc"
fi
finish
