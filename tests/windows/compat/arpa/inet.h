/* <arpa/inet.h> for the Windows build of the unit tests (tests/windows/build.sh puts this
   directory on the include path). inet_pton and inet_ntop come from Winsock, with one
   difference taken out: for an IPv4-mapped address whose first two IPv4 bytes are zero
   Winsock writes hex groups (::ffff:0:5f24) where RFC 5952 section 5 and glibc write the
   dotted form (::ffff:0.0.95.36), so mapped addresses are written here as the RFC says. */
#ifndef WAMP1_WIN_COMPAT_ARPA_INET_H
#define WAMP1_WIN_COMPAT_ARPA_INET_H
#include <winsock2.h>
#include <ws2tcpip.h>
#include <stdio.h>
#include <string.h>
/* <windef.h> defines near and far as empty macros; POSIX code may use them as names */
#undef near
#undef far

static const char *wamp1_compat_inet_ntop(int af, const void *src, char *dst, size_t size) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const unsigned char *b = (const unsigned char *)src;
    if (af == AF_INET6 && memcmp(b, mapped, sizeof mapped) == 0) {
        char tmp[32];
        int n = snprintf(tmp, sizeof tmp, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
        if (n < 0 || (size_t)n >= size) return NULL;
        memcpy(dst, tmp, (size_t)n + 1);
        return dst;
    }
    return inet_ntop(af, src, dst, size);
}
#define inet_ntop wamp1_compat_inet_ntop

#endif
