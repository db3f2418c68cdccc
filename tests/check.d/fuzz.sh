# libFuzzer targets: a short run of each (make fuzz runs them longer); two at a time.
if have clang && printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
     clang -x c -fsanitize=fuzzer,address,undefined -o build/.fuzzprobe - >/dev/null 2>&1; then
  # a fixed seed: the same inputs on every run, so a red run means a change, not luck
  suite fuzz 420 env FUZZ_JOBS=2 FUZZ_FLAGS=-seed=1 bash tests/fuzz/run.sh 25
else
  skip fuzz "clang with libFuzzer (libclang-rt-14-dev) is not installed"
fi
