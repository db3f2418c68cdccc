# Pushing from outside (port/wamp1_publisher.h, outside publishers on Redis, examples/push):
# build/demo --publisher-secret/--publisher-token with signed (openssl) and forged POSTs, a
# flood beside WebSocket clients, push.php (php-cli + php-redis) and push.py (python3-redis)
# through a private redis-server into three nodes. (The unit side: unit-push, events-push,
# asan-push from tests/test_push.c.) Parts whose tools are missing skip inside the suite.
if ! have_py websocket; then
  skip integration-push "python3-websocket is not installed"
elif ! have openssl; then
  skip integration-push "openssl is not installed (it computes the test signatures)"
elif [ -x build/demo ]; then
  have php || skip integration-push-php "php-cli is not installed (Debian: php-cli php-redis): push.php and http_push.php not run"
  suite integration-push 60 "$PY" tests/integration/test_push.py build/demo
fi
