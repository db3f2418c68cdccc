#!/usr/bin/env bash
# The header as C99 and C++ with every warning an error, on gcc and clang, plus a
# WAMP1_API=static build and a check that every exported symbol carries the prefix.
cd "$(dirname "$0")/../.."
pass=0; fail=0
try() {
  local what=$1; shift
  if "$@" >build/logs/compile-step.log 2>&1; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $what"; cat build/logs/compile-step.log | head -40; fi
}
W="-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror"
for cc in gcc clang; do
  command -v $cc >/dev/null || continue
  try "$cc C99" $cc -std=c99 $W -Wstrict-prototypes -c tests/compile/compile.c -o build/compile-c.o
  try "$cc C99 -Os" $cc -std=c99 -Os $W -Wstrict-prototypes -c tests/compile/compile.c -o build/compile-c.o
  try "$cc static" $cc -std=c99 $W -Wstrict-prototypes tests/compile/static_api.c -o build/static_api
  try "static run" ./build/static_api
done
# every feature switch, alone and together, builds without warnings
printf '#define WAMP1_IMPLEMENTATION\n#include "wamp1.h"\n' > build/switches.c
for f in "-DWAMP1_NO_WAMP" "-DWAMP1_NO_SESSION" "-DWAMP1_NO_STDIO_FILES" \
         "-DWAMP1_NO_WAMP -DWAMP1_NO_SESSION -DWAMP1_NO_STDIO_FILES" "-DWAMP1_STATIC_MEMORY_SIZE=0"; do
  try "switches $f" gcc -std=c99 $W -Wstrict-prototypes $f -I. -c build/switches.c -o build/switches.o
done
# one configuration header for every file (WAMP1_CONFIG_FILE), seen before the defaults
printf '#define WAMP1_MAX_CONNECTIONS 3\n#define WAMP1_MAX_ROUTES 11\n' > build/cfgfile.h
printf '#include "wamp1.h"\ntypedef char seen[WAMP1_MAX_CONNECTIONS == 3 && WAMP1_MAX_ROUTES == 11 ? 1 : -1];\n' > build/cfgfile.c
try "WAMP1_CONFIG_FILE" gcc -std=c99 $W '-DWAMP1_CONFIG_FILE="cfgfile.h"' -I. -Ibuild -c build/cfgfile.c -o build/cfgfile.o
# a port header in a file of its own, linked against the implementation in another: the
# ports use only the public API
printf '#define WAMP1_IMPLEMENTATION\n#include "wamp1.h"\n' > build/sep_impl.c
printf '#include "wamp1.h"\n#include "port/wamp1_posix.h"\nint main(void) {\n  static wamp1_posix px; static wamp1_port port; static wamp1_server s; wamp1_config c;\n  if (wamp1_posix_init(&px, &port) != 0) return 1;\n  memset(&c, 0, sizeof c); c.port = &port;\n  if (wamp1_server_init(&s, &c) != 0 || wamp1_server_listen(&s) != 0) return 1;\n  return wamp1_server_port(&s) != 0 && wamp1_server_shutdown(&s, 0) == 0 ? 0 : 1;\n}\n' > build/sep_user.c
try "port in its own file (gcc)" sh -c "gcc -std=c99 $W -Wstrict-prototypes -D_POSIX_C_SOURCE=200809L -I. -c build/sep_impl.c -o build/sep_impl.o && gcc -std=c99 $W -Wstrict-prototypes -D_POSIX_C_SOURCE=200809L -I. -c build/sep_user.c -o build/sep_user.o && gcc build/sep_impl.o build/sep_user.o -o build/sep -lpthread && ./build/sep"
try "port in its own file (g++ user)" sh -c "g++ -x c++ -std=c++11 $W -I. -c build/sep_user.c -o build/sep_user_cxx.o && g++ build/sep_impl.o build/sep_user_cxx.o -o build/sep_cxx -lpthread && ./build/sep_cxx"
# a strict C build without the POSIX feature-test macro is stopped first by a clear error
if gcc -std=c99 -I. -c build/sep_user.c -o build/refused.o >build/logs/compile-step.log 2>&1; then
  fail=$((fail + 1)); echo "FAIL strict C without _POSIX_C_SOURCE compiled"
elif grep -m1 'error' build/logs/compile-step.log | grep -q "needs POSIX.1-2008"; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL strict C without _POSIX_C_SOURCE: not one clear error"; head -5 build/logs/compile-step.log
fi
# configurations that cannot work are refused when compiling
refused() {
  local what=$1; shift
  if gcc -std=c99 "$@" -I. -c build/switches.c -o build/refused.o >build/logs/compile-step.log 2>&1; then
    fail=$((fail + 1)); echo "FAIL $what: compiled"; else pass=$((pass + 1)); fi
}
refused "WAMP1_MAX_CONNECTIONS=0 refused" -DWAMP1_MAX_CONNECTIONS=0
refused "WAMP1_MAX_CONNECTIONS beyond a handle refused" -DWAMP1_MAX_CONNECTIONS=2000000
refused "a receive buffer below 512 bytes refused" -DWAMP1_RECV_BUFFER_SIZE=256
for cxx in g++ clang++; do
  command -v $cxx >/dev/null || continue
  try "$cxx C++11" $cxx -x c++ -std=c++11 $W -c tests/compile/compile.c -o build/compile-cxx.o
  try "$cxx C++17" $cxx -x c++ -std=c++17 $W -c tests/compile/compile.c -o build/compile-cxx.o
done
# the mbedTLS transport, when mbedTLS is installed
if echo 'int main(void){return 0;}' | gcc -x c -include mbedtls/ssl.h - -o /dev/null -lmbedtls -lmbedx509 -lmbedcrypto 2>/dev/null; then
  try "mbedtls C99" gcc -std=c99 $W -Wstrict-prototypes -c tests/compile/tls.c -o build/compile-tls.o
  try "mbedtls clang" clang -std=c99 $W -Wstrict-prototypes -c tests/compile/tls.c -o build/compile-tls.o
  try "mbedtls C++" g++ -x c++ -std=c++11 $W -c tests/compile/tls.c -o build/compile-tls.o
else
  echo "SKIP: mbedTLS not installed, port/wamp1_mbedtls.h not compiled"
fi
# the README's example builds as shown
awk '/^```c$/{f=1;next} /^```$/{f=0} f' README.md > build/readme_example.c
try "README example" gcc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Werror -I. -o build/readme_example build/readme_example.c -lpthread
# every global symbol the library defines starts with wamp1_
gcc -std=c99 -c tests/compile/compile.c -o build/compile-c.o
bad=$(nm -g --defined-only build/compile-c.o | awk '{print $3}' | grep -v -E '^(wamp1_|main$)' || true)
if [ -z "$bad" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL unprefixed symbols: $bad"; fi
# no allocator calls in the library
if sed -e 's://.*$::' wamp1.h | grep -nE '\b(malloc|calloc|realloc|free)[[:space:]]*\(' >/dev/null; then
  fail=$((fail + 1)); echo "FAIL wamp1.h calls an allocator"; else pass=$((pass + 1)); fi
echo "compile: $pass passed, $fail failed"
[ $fail -eq 0 ]
