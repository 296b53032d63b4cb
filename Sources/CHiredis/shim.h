// hiredis 0.14 (Debian 12). Only the synchronous API is used: each connection lives on one
// dedicated thread (see KernelRedis), so the blocking calls never run on the Swift pool.
#ifndef DATAKERNEL_CHIREDIS_SHIM_H
#define DATAKERNEL_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

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

static void *dk_arena_create_array(const redisReadTask *task, int elements) {
    size_t n = elements > 0 ? (size_t)elements : 0;
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

static void dk_arena_free_object(void *reply) { (void)reply; }

static redisReplyObjectFunctions dk_arena_functions = {
    dk_arena_create_string, dk_arena_create_array, dk_arena_create_integer, dk_arena_create_nil,
    dk_arena_free_object,
};

// Makes `c` build its replies in `a` (hiredis hands the reader's privdata to every read task).
static inline void dk_reader_use_arena(redisContext *c, dk_reply_arena *a) {
    c->reader->fn = &dk_arena_functions;
    c->reader->privdata = a;
}

#endif
