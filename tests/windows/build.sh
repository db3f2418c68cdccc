#!/usr/bin/env bash
# Cross-compiles the Windows builds with mingw-w64:
#   build/echo-win.exe, build/demo-win.exe     examples/windows/{echo,demo}.c
#   build/win/test_win32_port.exe              tests/windows/test_win32_port.c (the port itself;
#                                              also as C++, _cxx.exe, when mingw g++ is there)
#   build/win/test_*.exe                       every tests/test_*.c (the in-memory test port)
# Flags as the Makefile's, plus -lws2_32 -lbcrypt. tests/windows/compat supplies the POSIX
# bits the unit tests use that Windows lacks (arpa/inet.h, mkdtemp). A compiler warning
# counts as a failure (the program is still built and run). Prints "windows-build: N built,
# M failed" at the end; exit status 0 iff nothing failed. Set MINGW_CC / MINGW_CXX to use other compilers,
# WIN_CFLAGS for other optimisation flags (default -O2).
set -u
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.." || exit 1
CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "SKIP windows build: $CC not found (apt-get install gcc-mingw-w64-x86-64)"
  exit 0
fi
CXX=${MINGW_CXX:-x86_64-w64-mingw32-g++}
WARN=(-std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes)
CXXWARN=(-x c++ -std=c++11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion)
read -r -a OPT <<<"${WIN_CFLAGS:--O2}"
mkdir -p build/win/logs
DEPS=(wamp1.h port/*.h examples/demo_routes.h tests/*.h tests/windows/compat/arpa/inet.h
      tests/windows/compat/posix.h)
names=()

# build [--cxx] OUT SRC [FLAGS...]: in the background; an output newer than its sources is kept
build() {
  local cc=("$CC" "${WARN[@]}")
  if [ "$1" = --cxx ]; then cc=("$CXX" "${CXXWARN[@]}"); shift; fi
  local out=$1 src=$2 d log=build/win/logs/${1##*/}
  shift 2
  names+=("$out")
  if [ -f "$out" ]; then
    local fresh=1
    for d in "$src" "${DEPS[@]}" "$SELF"; do
      [ -e "$d" ] && ! [ "$out" -nt "$d" ] && fresh=0
    done
    if [ "$fresh" -eq 1 ]; then echo 0 >"$log.rc"; return; fi
  fi
  rm -f "$log.log" "$log.rc"
  ( "${cc[@]}" "${OPT[@]}" -o "$out" "$src" "$@" >"$log.log" 2>&1; echo $? >"$log.rc" ) &
}

build build/echo-win.exe examples/windows/echo.c -lws2_32 -lbcrypt
build build/demo-win.exe examples/windows/demo.c -lws2_32 -lbcrypt
build build/win/test_win32_port.exe tests/windows/test_win32_port.c -lws2_32 -lbcrypt
# the port as C++ too, when the mingw C++ compiler is there (g++-mingw-w64-x86-64)
if command -v "$CXX" >/dev/null 2>&1; then
  build --cxx build/win/test_win32_port_cxx.exe tests/windows/test_win32_port.c -lws2_32 -lbcrypt
fi
for t in tests/test_*.c; do
  [ -f "$t" ] || continue
  n=$(basename "$t" .c)
  # tests that run the POSIX port itself (threads over real sockets) are not for Windows;
  # tests/windows/test_win32_port.c covers the Windows port's threads and sockets
  grep -q 'port/wamp1_posix.h' "$t" && continue
  build "build/win/$n.exe" "$t" -Wno-sign-conversion -Itests/windows/compat \
    -include tests/windows/compat/posix.h -lws2_32
done
wait
built=0
failed=0
for out in "${names[@]}"; do
  log=build/win/logs/${out##*/}
  rc=$(cat "$log.rc" 2>/dev/null || echo 1)
  if [ "$rc" -ne 0 ]; then
    echo "FAIL build $out:"
    sed 's/^/    /' "$log.log" 2>/dev/null | head -n 40
    rm -f "$out"
    failed=$((failed + 1))
    continue
  fi
  built=$((built + 1))
  if [ -s "$log.log" ] && grep -q 'warning:' "$log.log"; then
    echo "FAIL warnings in $out:"
    sed 's/^/    /' "$log.log" | head -n 40
    failed=$((failed + 1))
  else
    echo "built $out"
  fi
done
echo "windows-build: $built built, $failed failed"
[ "$failed" -eq 0 ]
