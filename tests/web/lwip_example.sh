#!/usr/bin/env bash
# The lwIP bare-metal example serving the demo page from flash (examples/lwip/raw/main.c with
# -DEXAMPLE_WEB and build/demo_web_gz.h): compiled for the host (C99 and C++11, -Werror) and,
# when arm-none-eabi-gcc is there, for a Cortex-M4; prints the flash the page takes.
cd "$(dirname "$0")/../.." || exit 1
pass=0; fail=0
try() {
  local what=$1; shift
  if "$@" >build/logs/web-lwip-step.log 2>&1; then pass=$((pass + 1)); echo "PASS $what"; else
    fail=$((fail + 1)); echo "FAIL $what"; head -20 build/logs/web-lwip-step.log; fi
}
mkdir -p build/logs
L=$(bash tests/lwip/fetch-lwip.sh 2>/dev/null) || { echo "SKIP: no lwIP source (tests/lwip/fetch-lwip.sh)"; echo "web-lwip-example: 0 passed, 0 failed"; exit 0; }
make -s build/demo_web_gz.h >/dev/null || { echo "web-lwip-example: 0 passed, 1 failed"; exit 1; }
W="-Wall -Wextra -Wpedantic -Wshadow -Werror"
INC=(-Iexamples/lwip/raw -isystem "$L/src/include")
try "host C99" gcc -std=c99 $W -Wconversion -Wstrict-prototypes -O2 -DEXAMPLE_WEB -Ibuild "${INC[@]}" -Itests/lwip/include \
    -c examples/lwip/raw/main.c -o build/ex-web.o
try "host C++11" g++ -x c++ -std=c++11 $W -O2 -DEXAMPLE_WEB -Ibuild "${INC[@]}" -Itests/lwip/include \
    -c examples/lwip/raw/main.c -o build/ex-web-cxx.o
if command -v arm-none-eabi-gcc >/dev/null; then
  try "Cortex-M4" arm-none-eabi-gcc -std=c99 $W -Wconversion -mcpu=cortex-m4 -mthumb -Os -ffunction-sections \
      -fdata-sections -DNDEBUG -DEXAMPLE_WEB -Ibuild "${INC[@]}" -Itests/size/include \
      -c examples/lwip/raw/main.c -o build/ex-web-m4.o
  [ -f build/ex-web-m4.o ] && arm-none-eabi-size build/ex-web-m4.o
fi
echo "web-lwip-example: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
