# shellcheck shell=bash
# Sourced by tests/check.sh: the browser side. The demo's page, client files and WAMP-CRA over
# loopback (Python), wamp1.js under Node (npm ws, after npm ci), and the page in a real headless
# Chromium driven over the DevTools protocol (Debian chromium). The unit suite tests/test_web.c
# (HTTP responder, SHA-256/HMAC/PBKDF2 vectors) runs with the other unit tests; the lwIP example
# serving the page from flash is compiled (host, Cortex-M4). About 20 s.
if [ -x build/demo ] && have_py websocket; then
  suite integration-web 60 "$PY" tests/integration/test_web_demo.py build/demo
else
  skip integration-web "build/demo or python3-websocket is missing"
fi
# node_modules from before crypto-js joined the lock file: install what the lock file pins
if have npm && [ -d node_modules/ws ] && [ ! -d node_modules/crypto-js ] && grep -q '"node_modules/crypto-js"' package-lock.json; then
  npm ci --no-audit --no-fund >build/logs/web-npm-ci.log 2>&1 || echo "web: npm ci failed (see build/logs/web-npm-ci.log)"
fi
if have node && [ -d node_modules/ws ]; then
  suite web-node 60 node tests/web/test_wamp1_node.mjs build/demo
  if [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    suite web-browser 90 node tests/web/test_browser.mjs build/demo
  else
    skip web-browser "chromium is not installed (Debian package chromium)"
  fi
else
  skip web-node "node or npm ws (npm ci) is not installed"
  skip web-browser "node or npm ws (npm ci) is not installed"
fi
suite web-lwip-example 60 bash tests/web/lwip_example.sh
