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
