/* wamp1_impl.c - the library's implementation in an object of its own: the link map then
   tells its sections (code, string constants, RAM) apart from the application's. */
#define WAMP1_IMPLEMENTATION
#include "../../../wamp1.h"
