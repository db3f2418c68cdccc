# Integration suites beyond the core ones in tests/check.sh: demo options, and the npm ws client.
if have_py websocket && have_py websockets; then
  [ -x build/demo ] && suite integration-demo-options 300 "$PY" tests/integration/test_demo_options.py build/demo
else
  skip integration-demo-options "python3-websocket / python3-websockets are not installed"
fi
if command -v node >/dev/null 2>&1 && [ -d node_modules/ws ]; then
  suite integration-demo-ws 120 node tests/integration/test_demo_ws.mjs build/demo
else
  skip integration-demo-ws "node or npm ws (npm ci) is not installed"
fi
# the cross-thread queue under ThreadSanitizer
if have clang && echo 'int main(void){return 0;}' | clang -x c -fsanitize=thread -o build/.tsan - 2>/dev/null; then
  suite tsan-threads 180 bash -c "clang -std=c99 -g -O1 -fsanitize=thread -o build/tsan_threads tests/test_threads.c -lpthread && ./build/tsan_threads"
else
  skip tsan-threads "clang with ThreadSanitizer is not installed"
fi
