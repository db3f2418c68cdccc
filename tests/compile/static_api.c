/* WAMP1_API=static: the whole library private to one file, and a second file-less use. */
#define WAMP1_API static
#define WAMP1_IMPLEMENTATION
#include "../../wamp1.h"

int main(void) {
    char out[29];
    wamp1_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
    return strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != 0;
}
