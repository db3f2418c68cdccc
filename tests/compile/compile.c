/* Compiles the whole library (every port that builds on this system) with all warnings on,
   as C99 and, through the same file, as C++. The build uses -Werror. */
#define _DEFAULT_SOURCE
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#include "../../port/wamp1_posix.h"
#include "../../port/wamp1_testport.h"
#include "../../port/wamp1_http.h"
#include "../../port/wamp1_cra.h"
#include "../../port/wamp1_redis.h"
#include "../../port/wamp1_publisher.h"

int main(void) {
    static wamp1_posix posix;
    static wamp1_testport tp;
    wamp1_port port;
    if (wamp1_posix_init(&posix, &port) != 0) return 1;
    wamp1_posix_free(&posix);
    wamp1_testport_init(&tp, &port);
    return 0;
}
