# Sourced by tests/check.sh: a file compiled with other options than the library is refused
# where it meets it (WAMP1_CONFIG_STAMP at init and at the route calls); two files, so not
# one of the single-file unit tests.
suite config 120 bash -c "cc -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Werror -O2 \
  -o build/test_config tests/config/main.c tests/config/other.c && ./build/test_config"
