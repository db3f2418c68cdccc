#!/usr/bin/env bash
# tests/cmake/run.sh - the CMake package and wamp1.pc, used the ways other projects use them,
# by the consumer in tests/cmake/consumer built in a temporary folder outside the tree:
#   add_subdirectory, FetchContent (URL of a tarball of the tree), cmake --install then
#   find_package (and a version it must refuse), pkg-config on the installed wamp1.pc.
# Each consumer must build and answer its own handshake with 101. Closing line:
# "cmake: N passed, M failed". Without cmake: "SKIP cmake: ..." and exit 0.
set -u
cd "$(dirname "$0")/../.."
root=$(pwd)
command -v cmake >/dev/null || { echo "SKIP cmake: cmake is missing"; exit 0; }
command -v cc >/dev/null || { echo "SKIP cmake: no C compiler (cc)"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wamp1-cmake.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -r tests/cmake/consumer "$tmp/consumer"
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$2" ] && tail -n 15 "$2" | sed 's/^/    /'; }

# consumer NAME BUILD_DIR CMAKE_ARGS...: configure, build, run
consumer() {
  local name=$1 b=$2 log=$tmp/$1.log
  shift 2
  if cmake -S "$tmp/consumer" -B "$b" "$@" >"$log" 2>&1 && ! grep -q "CMake Warning" "$log" &&
     cmake --build "$b" >>"$log" 2>&1 && "$b/consumer" >>"$log" 2>&1 && grep -q "consumer: ok" "$log"; then
    ok "$name"
  else
    ko "$name" "$log"
  fi
}

consumer "add_subdirectory" "$tmp/b-subdir" -DWAMP1_MODE=subdir -DWAMP1_SOURCE="$root"

tar -czf "$tmp/wamp1.tar.gz" --transform 's,^,wamp1/,' wamp1.h port CMakeLists.txt wamp1.pc.in LICENSE
consumer "FetchContent from a URL" "$tmp/b-fetch" -DWAMP1_MODE=fetch -DWAMP1_URL="file://$tmp/wamp1.tar.gz"

prefix=$tmp/prefix
if cmake -S "$root" -B "$tmp/b-wamp1" -DCMAKE_INSTALL_PREFIX="$prefix" >"$tmp/install.log" 2>&1 &&
   cmake --install "$tmp/b-wamp1" >>"$tmp/install.log" 2>&1 &&
   [ -f "$prefix/include/wamp1/wamp1.h" ] && [ -f "$prefix/include/wamp1/port/wamp1_posix.h" ] &&
   [ -f "$prefix/share/cmake/wamp1/wamp1Config.cmake" ] && [ -f "$prefix/share/pkgconfig/wamp1.pc" ] &&
   ! grep -qi "warn" "$tmp/install.log"; then
  ok "cmake --install: headers, package configuration, wamp1.pc, no warnings"
else
  ko "cmake --install" "$tmp/install.log"
fi
consumer "find_package after cmake --install" "$tmp/b-find" -DWAMP1_MODE=find -DCMAKE_PREFIX_PATH="$prefix"
sed -i 's/find_package(wamp1 0.1 CONFIG REQUIRED)/find_package(wamp1 9.0 CONFIG REQUIRED)/' "$tmp/consumer/CMakeLists.txt"
if cmake -S "$tmp/consumer" -B "$tmp/b-find9" -DWAMP1_MODE=find -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/find9.log" 2>&1; then
  ko "find_package(wamp1 9.0) is refused" "$tmp/find9.log"
else
  ok "find_package(wamp1 9.0) is refused"
fi

if command -v pkg-config >/dev/null; then
  export PKG_CONFIG_PATH=$prefix/share/pkgconfig
  flags=$(pkg-config --cflags wamp1 2>"$tmp/pc.log" | sed "s/ *$//")
  ver=$(pkg-config --modversion wamp1 2>>"$tmp/pc.log")
  if [ "$flags" = "-I$prefix/include/wamp1" ] && [ -n "$ver" ] &&
     cc -std=c99 -Wall -Wextra -Werror $flags -o "$tmp/pc-consumer" "$tmp/consumer/main.c" -lpthread >>"$tmp/pc.log" 2>&1 &&
     "$tmp/pc-consumer" >>"$tmp/pc.log" 2>&1; then
    ok "pkg-config --cflags wamp1 ($flags, version $ver)"
  else
    echo "cflags: '$flags' version: '$ver'" >>"$tmp/pc.log"
    ko "pkg-config" "$tmp/pc.log"
  fi
else
  echo "SKIP pkg-config: pkg-config is missing"
fi
echo "cmake: $pass passed, $fail failed"
[ $fail = 0 ]
