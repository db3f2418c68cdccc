/* Forced into every unit test of the Windows build (gcc -include, see tests/windows/build.sh):
   the POSIX functions the tests use that the Windows C runtime lacks. No <windows.h> here: it
   would define macros (near, far, small, ...) that clash with names in the tests. */
#ifndef WAMP1_WIN_COMPAT_POSIX_H
#define WAMP1_WIN_COMPAT_POSIX_H
#include <direct.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>

/* mkdtemp: _mktemp_s fills in the XXXXXX, _mkdir makes the directory. */
static inline char *mkdtemp(char *tmpl) {
    if (_mktemp_s(tmpl, strlen(tmpl) + 1) != 0 || _mkdir(tmpl) != 0) return NULL;
    return tmpl;
}
#endif
