// hiredis 0.14 (Debian 12) or >= 1.0 (docs/platform-notes.md, "hiredis 0.14 and 1.x"). Only the
// synchronous API is used: each connection lives on one dedicated thread (see KernelRedis), so
// the blocking calls never run on the Swift pool.
//
// DK_HIREDIS_SSL (set by Package.swift when DK_HIREDIS_SSL=1 is in the build's environment)
// adds TLS through hiredis_ssl, which exists from hiredis 1.0 on as a library of its own.
#ifndef DATAKERNEL_CHIREDIS_SHIM_H
#define DATAKERNEL_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(HIREDIS_MAJOR) || !defined(HIREDIS_MINOR)
#error "hiredis.h defines no HIREDIS_MAJOR/HIREDIS_MINOR: not a hiredis this shim knows"
#elif HIREDIS_MAJOR == 0 && HIREDIS_MINOR < 14
#error "hiredis >= 0.14 is required"
#endif

#if defined(DK_HIREDIS_SSL) && HIREDIS_MAJOR < 1
#error "DK_HIREDIS_SSL needs hiredis >= 1.0 and its hiredis_ssl library (0.14 has no TLS)"
#endif

// The version the shim was compiled against, for messages (`kernel --version`, refusals).
#define DK_HIREDIS_VERSION_MAJOR HIREDIS_MAJOR
#define DK_HIREDIS_VERSION_MINOR HIREDIS_MINOR
#define DK_HIREDIS_VERSION_PATCH HIREDIS_PATCH
#if defined(DK_HIREDIS_SSL)
#define DK_HIREDIS_HAS_TLS 1
#else
#define DK_HIREDIS_HAS_TLS 0
#endif

// Reply objects from a bump arena instead of one calloc/malloc per object.
//
// hiredis builds an XREADGROUP reply of 100 entries from ~1,300 separate allocations (a
// redisReply per value, plus a buffer per string, plus each array's element vector), and
// freeReplyObject frees them one by one: half of the reader thread's time was glibc's malloc.
// Installed on a context (dk_reader_use_arena), every object of a reply is carved out of one
// arena, and the whole reply is dropped at once with dk_reply_arena_reset. The objects keep the
// redisReply layout, so the rest of the code (RedisReplyView, convert) reads them unchanged.
// A connection reads one top-level reply at a time and resets after it, so a reset never frees
// objects of a reply still in use; freeObject (called by hiredis on its own error paths) does
// nothing, the reset reclaims everything.

typedef struct dk_arena_chunk {
    struct dk_arena_chunk *next;
    size_t cap;
    size_t used;
    _Alignas(16) char data[];
} dk_arena_chunk;

typedef struct dk_reply_arena {
    dk_arena_chunk *head;   // newest (and largest) chunk; older ones follow
} dk_reply_arena;

// The first chunk's size, and the largest chunk kept across resets (bigger ones are freed so a
// rare huge reply does not pin its memory).
#define DK_ARENA_FIRST_CHUNK (64 * 1024)
#define DK_ARENA_KEEP_MAX (4 * 1024 * 1024)

static inline dk_reply_arena *dk_reply_arena_new(void) {
    return (dk_reply_arena *)calloc(1, sizeof(dk_reply_arena));
}

static inline void *dk_arena_alloc(dk_reply_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    dk_arena_chunk *c = a->head;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = c ? c->cap * 2 : DK_ARENA_FIRST_CHUNK;
        if (cap < n) cap = n;
        dk_arena_chunk *fresh = (dk_arena_chunk *)malloc(sizeof(dk_arena_chunk) + cap);
        if (fresh == NULL) return NULL;
        fresh->next = c;
        fresh->cap = cap;
        fresh->used = 0;
        a->head = fresh;
        c = fresh;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

// Drops every object handed out since the last reset; keeps the newest chunk for reuse.
static inline void dk_reply_arena_reset(dk_reply_arena *a) {
    dk_arena_chunk *keep = a->head;
    if (keep == NULL) return;
    dk_arena_chunk *c = keep->next;
    while (c) { dk_arena_chunk *next = c->next; free(c); c = next; }
    if (keep->cap > DK_ARENA_KEEP_MAX) { free(keep); a->head = NULL; return; }
    keep->next = NULL;
    keep->used = 0;
}

static inline void dk_reply_arena_free(dk_reply_arena *a) {
    if (a == NULL) return;
    dk_arena_chunk *c = a->head;
    while (c) { dk_arena_chunk *next = c->next; free(c); c = next; }
    free(a);
}

static inline redisReply *dk_arena_reply(const redisReadTask *task, size_t extra) {
    redisReply *r = (redisReply *)dk_arena_alloc((dk_reply_arena *)task->privdata, sizeof(redisReply) + extra);
    if (r == NULL) return NULL;
    memset(r, 0, sizeof(redisReply));
    r->type = task->type;
    if (task->parent) {
        redisReply *parent = (redisReply *)task->parent->obj;
        parent->element[task->idx] = r;
    }
    return r;
}

static void *dk_arena_create_string(const redisReadTask *task, char *str, size_t len) {
    redisReply *r = dk_arena_reply(task, len + 1);
    if (r == NULL) return NULL;
    r->str = (char *)(r + 1);
    memcpy(r->str, str, len);
    r->str[len] = '\0';
    r->len = len;
    return r;
}

// 0.14 passes the element count as an int, 1.x as a size_t.
#if HIREDIS_MAJOR >= 1
static void *dk_arena_create_array(const redisReadTask *task, size_t elements) {
    size_t n = elements;
#else
static void *dk_arena_create_array(const redisReadTask *task, int elements) {
    size_t n = elements > 0 ? (size_t)elements : 0;
#endif
    redisReply *r = dk_arena_reply(task, n * sizeof(redisReply *));
    if (r == NULL) return NULL;
    r->elements = n;
    if (n > 0) {
        r->element = (redisReply **)(r + 1);
        memset(r->element, 0, n * sizeof(redisReply *));
    }
    return r;
}

static void *dk_arena_create_integer(const redisReadTask *task, long long value) {
    redisReply *r = dk_arena_reply(task, 0);
    if (r == NULL) return NULL;
    r->integer = value;
    return r;
}

static void *dk_arena_create_nil(const redisReadTask *task) {
    // The task's type is the '$' or '*' that carried -1; the object is a nil (as hiredis' own).
    redisReply *r = dk_arena_reply(task, 0);
    if (r != NULL) r->type = REDIS_REPLY_NIL;
    return r;
}

#if HIREDIS_MAJOR >= 1
// RESP3 types: the kernel speaks RESP2 (it never sends HELLO 3), so Redis sends neither; they are
// built like hiredis' own (the double keeps its text, as RESP3 sent it) for completeness.
static void *dk_arena_create_double(const redisReadTask *task, double value, char *str, size_t len) {
    redisReply *r = dk_arena_reply(task, len + 1);
    if (r == NULL) return NULL;
    r->dval = value;
    r->str = (char *)(r + 1);
    memcpy(r->str, str, len);
    r->str[len] = '\0';
    r->len = len;
    return r;
}

static void *dk_arena_create_bool(const redisReadTask *task, int value) {
    redisReply *r = dk_arena_reply(task, 0);
    if (r == NULL) return NULL;
    r->integer = value != 0;
    return r;
}
#endif

static void dk_arena_free_object(void *reply) { (void)reply; }

// Designated initializers: the table has five slots in 0.14 and seven in 1.x, in another order
// (createDouble and createBool sit between the others), so filling it by position would put a
// function in the wrong slot, or not compile.
static redisReplyObjectFunctions dk_arena_functions = {
    .createString = dk_arena_create_string,
    .createArray = dk_arena_create_array,
    .createInteger = dk_arena_create_integer,
#if HIREDIS_MAJOR >= 1
    .createDouble = dk_arena_create_double,
    .createBool = dk_arena_create_bool,
#endif
    .createNil = dk_arena_create_nil,
    .freeObject = dk_arena_free_object,
};

// Makes `c` build its replies in `a` (hiredis hands the reader's privdata to every read task).
static inline void dk_reader_use_arena(redisContext *c, dk_reply_arena *a) {
    c->reader->fn = &dk_arena_functions;
    c->reader->privdata = a;
}

#if defined(DK_HIREDIS_SSL)
// TLS (docs/infrastructure.md, "Redis over TLS"). The kernel makes its own SSL_CTX and SSL and
// hands the SSL to hiredis (redisInitiateSSL) rather than using hiredis' redisSSLContext: that
// one verifies the chain but never the server's name (it sets SNI only), and verify: full must
// check the name as libpq's sslmode=verify-full does.
#include <hiredis/hiredis_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static inline void dk_tls_error(char *err, size_t errlen, const char *what) {
    unsigned long e = ERR_peek_last_error();
    char reason[256];
    if (e != 0) ERR_error_string_n(e, reason, sizeof reason); else snprintf(reason, sizeof reason, "unknown error");
    snprintf(err, errlen, "%s: %s", what, reason);
    ERR_clear_error();
}

// A client context: TLS >= 1.2, the CA bundle (or the system's trust store when ca_file is NULL),
// the client certificate and key when given, and peer verification unless verify_peer is 0.
// NULL with a message in err when a file cannot be loaded.
static inline void *dk_tls_context_new(const char *ca_file, const char *cert_file, const char *key_file,
                                       int verify_peer, char *err, size_t errlen) {
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) { dk_tls_error(err, errlen, "cannot create a TLS context"); return NULL; }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
    if (ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
            dk_tls_error(err, errlen, "cannot load redis.tls.ca_file");
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        dk_tls_error(err, errlen, "cannot load the system's CA certificates");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cert_file != NULL) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
            dk_tls_error(err, errlen, "cannot load redis.tls.cert_file");
            SSL_CTX_free(ctx);
            return NULL;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
            dk_tls_error(err, errlen, "cannot load redis.tls.key_file");
            SSL_CTX_free(ctx);
            return NULL;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            dk_tls_error(err, errlen, "redis.tls.key_file does not match redis.tls.cert_file");
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    SSL_CTX_set_verify(ctx, verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    return ctx;
}

static inline void dk_tls_context_free(void *ctx) { SSL_CTX_free((SSL_CTX *)ctx); }

// Runs the TLS handshake on connected context c. check_name, when not NULL, is the name the
// server's certificate must carry (a DNS name, or an IP address when check_is_ip); sni_name,
// when not NULL, is sent as SNI. On success hiredis owns the SSL (redisFree frees it) and *out_ssl
// points at it (for SSL_pending); on failure err says why, naming the verification error.
static inline int dk_tls_connect(redisContext *c, void *ctx, const char *check_name, int check_is_ip,
                                 const char *sni_name, void **out_ssl, char *err, size_t errlen) {
    ERR_clear_error();
    SSL *ssl = SSL_new((SSL_CTX *)ctx);
    if (ssl == NULL) { dk_tls_error(err, errlen, "cannot create a TLS session"); return -1; }
    if (sni_name != NULL && SSL_set_tlsext_host_name(ssl, sni_name) != 1) {
        dk_tls_error(err, errlen, "cannot set the TLS server name");
        SSL_free(ssl);
        return -1;
    }
    if (check_name != NULL) {
        int ok = check_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), check_name)
                             : SSL_set1_host(ssl, check_name);
        if (ok != 1) {
            dk_tls_error(err, errlen, "cannot set the name to verify");
            SSL_free(ssl);
            return -1;
        }
        if (!check_is_ip) SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    if (redisInitiateSSL(c, ssl) != REDIS_OK) {
        long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) {
            snprintf(err, errlen, "TLS handshake failed: certificate verification: %s",
                     X509_verify_cert_error_string(verify));
        } else {
            snprintf(err, errlen, "TLS handshake failed: %s", c->errstr);
        }
        SSL_free(ssl);   // hiredis frees the SSL only once the handshake succeeded
        ERR_clear_error();
        return -1;
    }
    *out_ssl = (void *)ssl;
    return 0;
}

// Bytes already decrypted and buffered in OpenSSL: poll(2) on the socket does not see them.
static inline int dk_tls_pending(void *ssl) { return ssl ? SSL_pending((SSL *)ssl) : 0; }
#else
// Without TLS the same functions exist and refuse, so the Swift code is one and compiled in both
// builds; `kernel` refuses redis.tls at load before any of them is reached.
static inline void *dk_tls_context_new(const char *ca_file, const char *cert_file, const char *key_file,
                                       int verify_peer, char *err, size_t errlen) {
    (void)ca_file; (void)cert_file; (void)key_file; (void)verify_peer;
    snprintf(err, errlen, "this kernel was built without TLS to Redis (hiredis %d.%d.%d, no hiredis_ssl)",
             HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
    return NULL;
}
static inline void dk_tls_context_free(void *ctx) { (void)ctx; }
static inline int dk_tls_connect(redisContext *c, void *ctx, const char *check_name, int check_is_ip,
                                 const char *sni_name, void **out_ssl, char *err, size_t errlen) {
    (void)c; (void)ctx; (void)check_name; (void)check_is_ip; (void)sni_name; (void)out_ssl;
    snprintf(err, errlen, "this kernel was built without TLS to Redis");
    return -1;
}
static inline int dk_tls_pending(void *ssl) { (void)ssl; return 0; }
#endif

#endif
