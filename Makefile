# wamp1.h - build, run and test.
#   make          build/echo and build/demo
#   make run      start the WAMP demo on 127.0.0.1:8080
#   make check    every test (installs missing tools when run as root)
#   make bench    throughput and latency benchmarks
#   make size     firmware footprint table (Cortex-M0+, Cortex-M4, RV32IMAC)
#   make qemu     the WAMP demo as Cortex-M4 firmware in QEMU (mps2-an386), tested from the host
#   make fuzz     run every fuzz target for FUZZ_SECONDS (default 60)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
HDRS    := wamp1.h $(wildcard port/*.h)
TESTS   := $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))

.PHONY: all run check bench size qemu fuzz soak clean

EXAMPLES := $(patsubst examples/posix/%.c,build/%,$(wildcard examples/posix/*.c))

# build/demo serves wss:// (--tls-cert/--tls-key) when the mbedTLS headers and libraries are
# installed (Debian: libmbedtls-dev); WITH_TLS=0 leaves TLS out, WITH_TLS=1 insists on it.
TLS_LIBS := -lmbedtls -lmbedx509 -lmbedcrypto
ifndef WITH_TLS
WITH_TLS := $(shell echo 'int main(void){return 0;}' | $(CC) -x c -include mbedtls/ssl.h - \
              -o /dev/null $(TLS_LIBS) >/dev/null 2>&1 && echo 1 || echo 0)
endif
ifeq ($(WITH_TLS),1)
build/demo: EXTRA_CFLAGS := -DWAMP1_WITH_MBEDTLS
build/demo: EXTRA_LIBS := $(TLS_LIBS)
endif

all: $(EXAMPLES)

build:
	@mkdir -p build

build/%: examples/posix/%.c $(HDRS) examples/demo_routes.h examples/demo_options.h examples/echo_options.h examples/options_util.h | build
	$(CC) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) $(WEB_CFLAGS) -o $@ $< -lpthread $(EXTRA_LIBS)

# The demo's web page (examples/web: the page and the client, plain files, no build step of
# their own) is embedded in the binary: build/demo_web.h holds each file and its gzip -9n
# copy (examples/web/embed.c). The contract: / and /wamp1.js, nothing else.
WEB_FILES := $(addprefix examples/web/,index.html wamp1.js)
build/demo build/poll_demo: build/demo_web.h examples/demo_auth.h
build/demo build/poll_demo: WEB_CFLAGS := -Ibuild -DDEMO_WEB_ASSETS
# the plain-script build of the client (committed; remade when wamp1.js changes)
examples/web/wamp1.classic.js: examples/web/wamp1.js
	{ echo '/* wamp1.classic.js - generated from wamp1.js by make: the same client as a plain'; \
	  echo '   <script>, which defines window.wamp1 (globalThis.wamp1). Edit wamp1.js instead. */'; \
	  echo '(function () {'; echo '"use strict";'; grep -v '^export ' $<; \
	  echo 'globalThis.wamp1 = wamp1;'; echo '})();'; } > $@
build/embed: examples/web/embed.c | build
	$(CC) -O1 -o $@ $<
build/web/%.gz: examples/web/% | build
	@mkdir -p build/web
	gzip -9 -n -c $< > $@
build/demo_web.h: build/embed $(WEB_FILES) $(patsubst examples/web/%,build/web/%.gz,$(WEB_FILES))
	@mkdir -p build/web && cp $(WEB_FILES) build/web/
	./build/embed $@ $(addprefix build/web/,$(notdir $(WEB_FILES)))
# the same files for firmware (examples/lwip/raw with -DEXAMPLE_WEB): the gzip copies alone
build/demo_web_gz.h: build/demo_web.h
	./build/embed -z $@ $(addprefix build/web/,$(notdir $(WEB_FILES)))

# unit tests: plain and sanitized builds
build/test_%: tests/test_%.c tests/test_util.h $(HDRS) | build
	$(CC) $(WARN) -Wno-sign-conversion $(CFLAGS) -o $@ $< -lpthread -lm

# the same unit tests with the test port event-driven (watch/wait_events, as epoll)
build/evt_%: tests/test_%.c tests/test_util.h $(HDRS) | build
	$(CC) $(WARN) -Wno-sign-conversion $(CFLAGS) -DWAMP1_TESTPORT_EVENTS -o $@ $< -lpthread -lm

# the POSIX port's portable poll() backend instead of epoll
build/poll_%: examples/posix/%.c $(HDRS) examples/demo_routes.h examples/demo_options.h | build
	$(CC) $(WARN) $(CFLAGS) $(WEB_CFLAGS) -DWAMP1_POSIX_POLL -o $@ $< -lpthread
build/polltest_%: tests/test_%.c tests/test_util.h $(HDRS) | build
	$(CC) $(WARN) -Wno-sign-conversion $(CFLAGS) -DWAMP1_POSIX_POLL -o $@ $< -lpthread -lm

build/asan_%: tests/test_%.c tests/test_util.h $(HDRS) | build
	clang $(WARN) -Wno-sign-conversion -O1 -g $(SAN) -o $@ $< -lpthread -lm

run: all
	@if [ -x build/demo ]; then ./build/demo; else ./build/echo; fi

check: all
	@bash tests/check.sh

bench: all
	@bash tests/bench/run.sh

size:
	@bash tests/size/run.sh

qemu:
	@bash tests/qemu/run.sh

fuzz:
	@bash tests/fuzz/run.sh $${FUZZ_SECONDS:-60}

soak: all
	@SOAK_SECONDS=$${SOAK_SECONDS:-600} bash tests/soak.sh

clean:
	rm -rf build
