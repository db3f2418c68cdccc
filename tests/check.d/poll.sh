# Sourced by tests/check.sh: the POSIX port's portable poll() backend (-DWAMP1_POSIX_POLL),
# which Linux builds replace with epoll: the cross-thread and POSIX-port tests, the quick
# conformance run and the echo integration tests against an echo server built with it.
suite poll-threads 300 bash -c "make -s build/polltest_threads && ./build/polltest_threads"
suite poll-conformance 300 bash -c "make -s build/poll_echo && $PY tests/conformance/ws_conformance.py --quick --server build/poll_echo"
if have_py websocket && have_py websockets; then
  suite poll-integration 300 bash -c "make -s build/poll_echo && $PY tests/integration/test_echo.py build/poll_echo"
fi
suite poll-posix 300 bash -c "make -s build/polltest_posix && ./build/polltest_posix"
