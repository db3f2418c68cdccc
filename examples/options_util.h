/* options_util.h - what the examples' command lines share (examples/demo_options.h,
   examples/echo_options.h). Include after <stdlib.h> and <errno.h>. */
#ifndef OPTIONS_UTIL_H
#define OPTIONS_UTIL_H

/* A decimal number from 0 to max, the whole string: 0 with *out set, or -1. */
static int options_parse_uint(const char *s, unsigned long max, unsigned long *out) {
    char *end;
    unsigned long v;
    if (!s || !*s || *s == '-') return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = v;
    return 0;
}

#endif /* OPTIONS_UTIL_H */
