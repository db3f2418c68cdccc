/* The mbedTLS transport with every warning on, as C99 and as C++ (when mbedTLS is installed). */
#define _POSIX_C_SOURCE 200809L
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"
#include "../../port/wamp1_posix.h"
#include "../../port/wamp1_mbedtls.h"

int main(void) {
    static wamp1_posix posix;
    static wamp1_tls tls;
    wamp1_port inner, outer;
    if (wamp1_posix_init(&posix, &inner) != 0) return 1;
    (void)tls;
    (void)outer;
    wamp1_posix_free(&posix);
    return 0;
}
