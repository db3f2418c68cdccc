/* lib.c - the library's implementation in an object of its own, so that the link map
   attributes its sections. */
#define WAMP1_IMPLEMENTATION
#include "wamp1.h"
