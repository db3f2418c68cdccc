/* wamp1_http.h - plain HTTP next to the WebSocket: static files from memory or a directory.

   A request without "Upgrade: websocket" reaches cfg.cb.on_http (after the links: blocked
   addresses, origins, sessions). This file answers it from a wamp1_http_site: a table of
   files held in memory (firmware needs no file system) and, on desktop, a directory given at
   run time. Include it after the implementation of wamp1.h, in that one file (its functions
   are static):

       static const wamp1_http_file files[] = {
           {"/", "text/html; charset=utf-8", page, sizeof page - 1, NULL, 0, NULL},
       };
       static wamp1_http_site site = {files, 1, NULL, NULL, 0, NULL};
       static void on_http(wamp1_conn *c, const wamp1_request *req, void *user) {
           (void)user;
           wamp1_http_serve(c, req, &site);
       }
       ... cfg.server.cb.on_http = on_http;

   Answers (the status is also returned; every one but 200/304 reaches the error hook):
     200  the file; Content-Type from the table (from the extension for a directory),
          ETag (a strong hash of the bytes sent), Cache-Control (default "no-cache": the
          browser asks again and gets 304 while nothing changed), Vary: Accept-Encoding when
          there is a gzip variant. The gzip variant (a precompressed copy in the table) goes
          out with Content-Encoding: gzip only when Accept-Encoding lists gzip (or *) with a
          q above 0.
     304  If-None-Match names the current ETag (or is *).
     HEAD the same header lines as GET, with the Content-Length of the body, and no body.
     404  no such path; in a directory also hidden names (a segment starting with '.').
     403  a directory path with "..", "\", ":", NUL or a control character, also
          percent-encoded (path traversal), reported as such.
     400  a bad percent escape in a directory path.
     405  a method other than GET or HEAD (with Allow: GET, HEAD).
     406  a file held only gzipped (body NULL) to a client that does not accept gzip.
     500  the answer does not fit the connection's send buffer, or a file does not fit
          site->scratch.
   The whole answer goes through the connection's send buffer: a file must fit it (the
   demo's buffer is 256 KiB; firmware pages want their gzip variant).

   Directory (site->root, not with WAMP1_NO_STDIO_FILES): a path maps to root + path, "/"
   and ".../" to index.html; the file is read into site->scratch (site->scratch_size bytes)
   for each request. Only names under root can be reached (a symbolic link in it is followed:
   put none there that leads out); an empty root means ".". The table is searched first, then
   the directory. */
#ifndef WAMP1_HTTP_H_INCLUDED
#define WAMP1_HTTP_H_INCLUDED

#if defined(__GNUC__) || defined(__clang__)
#define WAMP1__HTTP_FN static __attribute__((unused))
#else
#define WAMP1__HTTP_FN static
#endif

#ifndef WAMP1_NO_STDIO_FILES
#include <stdio.h>
#endif

typedef struct wamp1_http_file {
    const char *path;          /* "/", "/app.js": the request path, exactly */
    const char *content_type;  /* "text/html; charset=utf-8" */
    const void *body;          /* NULL: the gzip copy alone (firmware, to save flash) */
    size_t len;
    const void *gz;            /* a gzip copy of body, or NULL */
    size_t gz_len;
    const char *etag;          /* quoted ETag of body, or NULL: computed per request */
} wamp1_http_file;

typedef struct wamp1_http_site {
    const wamp1_http_file *files;
    unsigned count;
    const char *root;          /* a directory to serve as well, or NULL */
    char *scratch;             /* a buffer for one file of root */
    size_t scratch_size;
    const char *cache_control; /* NULL: "no-cache" */
} wamp1_http_site;

/* Answer a plain HTTP request from the site; returns the HTTP status sent. */
WAMP1__HTTP_FN int wamp1_http_serve(wamp1_conn *c, const wamp1_request *req, const wamp1_http_site *site);

/* The Content-Type for a file name's extension ("application/octet-stream" when unknown). */
WAMP1__HTTP_FN const char *wamp1_http_content_type(const char *name, size_t len);

/* ---- implementation ------------------------------------------------------ */

WAMP1__HTTP_FN uint32_t wamp1__http_fnv(const void *p, size_t n, uint32_t h) {
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

/* "\"xxxxxxxx-len\"" from the bytes */
WAMP1__HTTP_FN void wamp1__http_etag(const void *body, size_t len, char out[40]) {
    static const char hex[] = "0123456789abcdef";
    uint32_t h = wamp1__http_fnv(body, len, 2166136261u);
    size_t n = 0, l = len;
    char digits[24];
    int i, k = 0;
    out[n++] = '"';
    for (i = 7; i >= 0; i--) out[n++] = hex[(h >> (i * 4)) & 15u];
    out[n++] = '-';
    do { digits[k++] = hex[l & 15u]; l >>= 4; } while (l && k < 16);
    while (k) out[n++] = digits[--k];
    out[n++] = '"';
    out[n] = 0;
}

WAMP1__HTTP_FN int wamp1__http_ci(char a, char b) {
    if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
    return a == b;
}

/* Does Accept-Encoding allow gzip? An explicit "gzip;q=0" refuses it, "*" allows it. */
WAMP1__HTTP_FN int wamp1__http_accepts_gzip(const wamp1_request *req) {
    size_t n = 0, i = 0;
    const char *v = wamp1_request_header(req, "accept-encoding", &n);
    int star = 0;
    if (!v) return 0;
    while (i < n) {
        size_t s, e, te;
        int zero = 0;
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        s = i;
        while (i < n && v[i] != ',') i++;
        e = i;
        te = s;
        while (te < e && v[te] != ';' && v[te] != ' ' && v[te] != '\t') te++;
        {
            /* a q parameter of 0 (0, 0., 0.0, 0.00, 0.000) refuses the coding */
            size_t k;
            for (k = te; k + 1 < e; k++) {
                if ((v[k] == 'q' || v[k] == 'Q') && v[k + 1] == '=' && k > te) {
                    size_t j = k + 2;
                    if (j < e && v[j] == '0') {
                        j++;
                        if (j < e && v[j] == '.') j++;
                        while (j < e && v[j] == '0') j++;
                        zero = j >= e || v[j] == ' ' || v[j] == ';' || v[j] == '\t';
                    }
                }
            }
        }
        if ((te - s == 4 && wamp1__http_ci(v[s], 'g') && wamp1__http_ci(v[s + 1], 'z') &&
             wamp1__http_ci(v[s + 2], 'i') && wamp1__http_ci(v[s + 3], 'p')) ||
            (te - s == 6 && wamp1__http_ci(v[s], 'x') && v[s + 1] == '-' && wamp1__http_ci(v[s + 2], 'g') &&
             wamp1__http_ci(v[s + 3], 'z') && wamp1__http_ci(v[s + 4], 'i') && wamp1__http_ci(v[s + 5], 'p')))
            return !zero;
        if (te - s == 1 && v[s] == '*') star = zero ? -1 : 1;
    }
    return star == 1;
}

/* Does If-None-Match name etag (weak comparison) or "*"? */
WAMP1__HTTP_FN int wamp1__http_not_modified(const wamp1_request *req, const char *etag) {
    size_t n = 0, i = 0, el = strlen(etag);
    const char *v = wamp1_request_header(req, "if-none-match", &n);
    if (!v) return 0;
    while (i < n) {
        size_t s;
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        if (i < n && v[i] == '*') return 1;
        if (i + 1 < n && v[i] == 'W' && v[i + 1] == '/') i += 2;
        s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t') i++;
        if (i - s == el && memcmp(v + s, etag, el) == 0) return 1;
    }
    return 0;
}

WAMP1__HTTP_FN int wamp1__http_refuse(wamp1_conn *c, int status, const char *headers, const char *why) {
    static const char t404[] = "not found\n", t405[] = "method not allowed\n", t403[] = "forbidden\n",
                      t400[] = "bad request\n", t500[] = "internal error\n";
    const char *body = status == 404 ? t404 : status == 405 ? t405 : status == 403 ? t403
                     : status == 400 ? t400 : status == 406 ? "not acceptable: gzip only\n" : t500;
    wamp1__report(c->srv, c, WAMP1_ERR_HTTP, why);
    wamp1_conn_http_respond_ex(c, status, "text/plain", headers, body, strlen(body));
    return status;
}

/* Send one representation: 200 or 304, GET or HEAD. */
WAMP1__HTTP_FN int wamp1__http_send(wamp1_conn *c, const wamp1_request *req, const wamp1_http_site *site,
                            const char *type, const void *body, size_t len, const char *etag,
                            int gzip, int has_variants) {
    char h[200], tag[48];
    size_t n = 0, el;
    const char *cc = site->cache_control ? site->cache_control : "no-cache";
    int head = req->method_len == 4;
    el = strlen(etag);
    if (el > 40) el = 40;
    memcpy(tag, etag, el);
    if (gzip && el >= 2) { /* the gzip variant has its own strong ETag */
        memcpy(tag + el - 1, "-gz\"", 4);
        el += 3;
    }
    tag[el] = 0;
#define WAMP1__HTTP_PUT(s, l) do { size_t l_ = (l); if (n + l_ < sizeof h) { memcpy(h + n, (s), l_); n += l_; } } while (0)
    WAMP1__HTTP_PUT("ETag: ", 6);
    WAMP1__HTTP_PUT(tag, el);
    WAMP1__HTTP_PUT("\r\nCache-Control: ", 17);
    WAMP1__HTTP_PUT(cc, strlen(cc) > 64 ? 64 : strlen(cc));
    WAMP1__HTTP_PUT("\r\nX-Content-Type-Options: nosniff\r\n", 35);
    if (has_variants) WAMP1__HTTP_PUT("Vary: Accept-Encoding\r\n", 23);
    if (gzip) WAMP1__HTTP_PUT("Content-Encoding: gzip\r\n", 24);
#undef WAMP1__HTTP_PUT
    h[n] = 0;
    if (wamp1__http_not_modified(req, tag)) {
        wamp1_conn_http_respond_ex(c, 304, type, h, NULL, 0);
        return 304;
    }
    wamp1_conn_http_respond_ex(c, 200, type, h, head ? NULL : body, len);
    return 200;
}

WAMP1__HTTP_FN const char *wamp1_http_content_type(const char *name, size_t len) {
    static const char *const map[] = {
        ".html", "text/html; charset=utf-8", ".htm", "text/html; charset=utf-8",
        ".js", "text/javascript; charset=utf-8", ".mjs", "text/javascript; charset=utf-8",
        ".css", "text/css; charset=utf-8", ".json", "application/json",
        ".txt", "text/plain; charset=utf-8", ".svg", "image/svg+xml", ".png", "image/png",
        ".jpg", "image/jpeg", ".ico", "image/x-icon", ".wasm", "application/wasm",
    };
    unsigned i;
    for (i = 0; i < sizeof map / sizeof map[0]; i += 2) {
        size_t el = strlen(map[i]), k;
        int same = len >= el;
        for (k = 0; same && k < el; k++) same = wamp1__http_ci(name[len - el + k], map[i][k]);
        if (same) return map[i + 1];
    }
    return "application/octet-stream";
}

#ifndef WAMP1_NO_STDIO_FILES
WAMP1__HTTP_FN int wamp1__http_hex(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

WAMP1__HTTP_FN int wamp1__http_from_dir(wamp1_conn *c, const wamp1_request *req, const wamp1_http_site *site) {
    char full[512];
    const char *root = site->root[0] ? site->root : ".";
    size_t rl = strlen(root), n, i, seg, flen;
    FILE *f;
    size_t size;
    if (rl + (size_t)req->path_len + 12 > sizeof full || req->path_len == 0 || req->path[0] != '/')
        return wamp1__http_refuse(c, 404, NULL, "HTTP path too long for the directory");
    memcpy(full, root, rl);
    n = rl;
    /* decode the percent escapes first, then judge what they spell */
    for (i = 0; i < req->path_len; i++) {
        char ch = req->path[i];
        if (ch == '%') {
            int a = i + 2 < req->path_len ? wamp1__http_hex(req->path[i + 1]) : -1;
            int b = a >= 0 ? wamp1__http_hex(req->path[i + 2]) : -1;
            if (a < 0 || b < 0) return wamp1__http_refuse(c, 400, NULL, "bad percent escape in an HTTP path");
            ch = (char)(a * 16 + b);
            i += 2;
        }
        if ((unsigned char)ch < 0x20 || ch == 0x7F || ch == '\\' || ch == ':')
            return wamp1__http_refuse(c, 403, NULL, "path traversal refused (a control character, \\ or :)");
        full[n++] = ch;
    }
    /* every segment: ".", ".." (and more dots) are traversal, other names with a leading
       dot are hidden */
    for (seg = rl; seg < n; seg++) {
        if (full[seg] != '/' || seg + 1 >= n || full[seg + 1] != '.') continue;
        for (i = seg + 1; i < n && full[i] == '.'; i++) {}
        if (i >= n || full[i] == '/')
            return wamp1__http_refuse(c, 403, NULL, "path traversal refused (a . or .. segment)");
        return wamp1__http_refuse(c, 404, NULL, "hidden file not served");
    }
    if (full[n - 1] == '/') {
        memcpy(full + n, "index.html", 10);
        n += 10;
    }
    full[n] = 0;
    flen = n;
    if (!site->scratch || !site->scratch_size || !(f = fopen(full, "rb")))
        return wamp1__http_refuse(c, 404, NULL, "no such file in the HTTP directory");
    size = fread(site->scratch, 1, site->scratch_size, f);
    if (ferror(f)) { /* a directory, or unreadable */
        fclose(f);
        return wamp1__http_refuse(c, 404, NULL, "not a readable file in the HTTP directory");
    }
    if (size == site->scratch_size && fgetc(f) != EOF) {
        fclose(f);
        return wamp1__http_refuse(c, 500, NULL, "file larger than the HTTP scratch buffer");
    }
    fclose(f);
    {
        char tag[40];
        wamp1__http_etag(site->scratch, size, tag);
        return wamp1__http_send(c, req, site, wamp1_http_content_type(full, flen), site->scratch, size, tag, 0, 0);
    }
}
#endif

WAMP1__HTTP_FN int wamp1_http_serve(wamp1_conn *c, const wamp1_request *req, const wamp1_http_site *site) {
    unsigned i;
    if (!((req->method_len == 3 && memcmp(req->method, "GET", 3) == 0) ||
          (req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0)))
        return wamp1__http_refuse(c, 405, "Allow: GET, HEAD\r\n", "HTTP method other than GET or HEAD");
    for (i = 0; i < site->count; i++) {
        const wamp1_http_file *f = &site->files[i];
        size_t pl = strlen(f->path);
        char tag[40];
        int gz;
        if (pl != req->path_len || memcmp(f->path, req->path, pl) != 0) continue;
        gz = f->gz && wamp1__http_accepts_gzip(req);
        if (!f->body && !gz)
            return wamp1__http_refuse(c, 406, NULL, "a gzip-only file to a client without gzip");
        if (f->etag) {
            size_t el = strlen(f->etag);
            if (el >= sizeof tag) el = sizeof tag - 1;
            memcpy(tag, f->etag, el);
            tag[el] = 0;
        } else {
            wamp1__http_etag(f->body ? f->body : f->gz, f->body ? f->len : f->gz_len, tag);
        }
        return wamp1__http_send(c, req, site, f->content_type, gz ? f->gz : f->body, gz ? f->gz_len : f->len,
                                tag, gz, f->gz != NULL);
    }
#ifndef WAMP1_NO_STDIO_FILES
    if (site->root) return wamp1__http_from_dir(c, req, site);
#endif
    return wamp1__http_refuse(c, 404, NULL, "no such HTTP path");
}

#endif /* WAMP1_HTTP_H_INCLUDED */
