#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz_*.c into build/fuzz/ and runs each for
# SECONDS (default 60). Each target starts from a scratch corpus in build/fuzz/corpus/NAME,
# seeded from the committed tests/fuzz/corpus/NAME; new inputs stay under build/. A target
# passes when it ran its time without a crash, a leak, a timeout or a failed check.
#
#   bash tests/fuzz/run.sh [SECONDS]
#   environment: FUZZ_TARGETS="http frames"  only these targets
#                FUZZ_JOBS=2                  targets run side by side (default 1)
#                WAMP1_H=/path/to/wamp1.h     build the engine targets against another copy
#                FUZZ_FLAGS="..."             more libFuzzer options
# Crashing inputs are kept in build/fuzz/artifacts/NAME/; reproduce one with
#   build/fuzz/fuzz_NAME build/fuzz/artifacts/NAME/crash-...
set -u
cd "$(dirname "$0")/../.."
secs=${1:-60}
jobs=${FUZZ_JOBS:-1}
out=build/fuzz
mkdir -p "$out/logs"

CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null 2>&1; then
  echo "fuzz: clang not found (Debian: apt-get install clang libclang-rt-14-dev)"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi
probe=$out/.probe
if ! printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
     "$CLANG" -x c -fsanitize=fuzzer,address,undefined -o "$probe" - >/dev/null 2>&1; then
  echo "fuzz: clang cannot link libFuzzer (Debian: apt-get install libclang-rt-14-dev)"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi

CFLAGS=(-std=c99 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
        -fno-sanitize-recover=all)
if [ -n "${WAMP1_H:-}" ]; then
  CFLAGS+=("-DWAMP1_FUZZ_HEADER=\"$(realpath "$WAMP1_H")\"")
  echo "fuzz: engine targets built against $WAMP1_H"
fi

# the longest input worth trying, per target
max_len() {
  case $1 in
    http) echo 4200 ;; frames) echo 4096 ;; wamp) echo 2048 ;; engine) echo 1024 ;;
    php_session) echo 4096 ;; *) echo 4096 ;;
  esac
}

targets=()
for src in tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  name=${name#fuzz_}
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
  targets+=("$name")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi

# build (in parallel: the compiles are independent)
build_one() {
  local name=$1
  "$CLANG" "${CFLAGS[@]}" "tests/fuzz/fuzz_$name.c" -o "$out/fuzz_$name" -lm \
    >"$out/logs/build_$name.log" 2>&1
}
pids=()
for name in "${targets[@]}"; do
  build_one "$name" &
  pids+=($!)
done
declare -A built
i=0
for name in "${targets[@]}"; do
  if wait "${pids[$i]}"; then built[$name]=1; else built[$name]=0; fi
  i=$((i + 1))
done

run_one() {
  local name=$1 corpus=$out/corpus/$1 art=$out/artifacts/$1 log=$out/logs/$1.log
  local opts=()
  mkdir -p "$corpus" "$art"
  if [ -d "tests/fuzz/corpus/$name" ]; then cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null; fi
  [ -f "tests/fuzz/$name.dict" ] && opts+=("-dict=tests/fuzz/$name.dict")
  # shellcheck disable=SC2086
  "$out/fuzz_$name" "$corpus" -max_total_time="$secs" -max_len="$(max_len "$name")" \
    -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
    "${opts[@]}" ${FUZZ_FLAGS:-} >"$log" 2>&1
  echo $? >"$out/logs/$name.rc"
}

running=0
for name in "${targets[@]}"; do
  [ "${built[$name]}" = 1 ] || continue
  rm -f "$out/logs/$name.rc"
  run_one "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

pass=0
fail=0
for name in "${targets[@]}"; do
  log=$out/logs/$name.log
  if [ "${built[$name]}" != 1 ]; then
    echo "FAIL $name: does not build (log $out/logs/build_$name.log)"
    sed 's/^/    /' "$out/logs/build_$name.log" | grep -m 5 -E 'error|Error'
    fail=$((fail + 1))
    continue
  fi
  rc=$(cat "$out/logs/$name.rc" 2>/dev/null || echo 1)
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(grep -aoE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -n 1)
  corp=$(find "$out/corpus/$name" -type f | wc -l)
  if [ "$rc" = 0 ] && grep -aqE '^Done [0-9]+ runs' "$log"; then
    printf 'ok   %-12s %10s executions in %ss (%s, corpus %s)\n' "$name" "${execs:-?}" "$secs" "${cov:-cov: ?}" "$corp"
    pass=$((pass + 1))
  else
    printf 'FAIL %-12s %10s executions, exit %s (log %s)\n' "$name" "${execs:-?}" "$rc" "$log"
    grep -a -m 3 -E 'REQUIRE failed|ERROR: |runtime error|SUMMARY' "$log" | sed 's/^/    /'
    grep -aE 'Test unit written to' "$log" | sed 's/^.*written to /    input: /'
    fail=$((fail + 1))
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
