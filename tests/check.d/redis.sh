# Several demos joined through a private redis-server (--redis): the PUBLISH rules across
# nodes, subscription churn against PUBSUB, a Redis restart, AUTH, a hostile fake Redis.
# (The RESP parser and the client over the test port: unit-redis, asan-redis, events-redis;
# the parser as a fuzz target: fuzz, target resp.)
if ! have redis-server; then
  skip integration-redis "redis-server is not installed (Debian: redis-server)"
elif ! have_py websocket; then
  skip integration-redis "python3-websocket is not installed"
elif [ -x build/demo ]; then
  suite integration-redis 150 "$PY" tests/integration/test_redis.py build/demo
fi
# the same bridge on the poll() backend (a readiness-list port): a cluster and a restart
if have redis-server && have_py websocket; then
  suite poll-redis 60 bash -c "make -s build/poll_demo && $PY tests/integration/test_redis.py build/poll_demo -k=exactly_once -k=redis_restart"
fi
# the bridge on lwIP's socket API (Debian's liblwip), Redis played on an lwIP socket
if [ -f /usr/include/lwip/lwipopts.h ]; then
  suite lwip-redis 60 bash -c "gcc -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes -Werror -Wno-sign-conversion -O1 -g -isystem /usr/include/lwip tests/lwip/test_redis_lwip.c -llwip -lpthread -o build/test_redis_lwip && ./build/test_redis_lwip"
else
  skip lwip-redis "liblwip-dev is not installed"
fi
