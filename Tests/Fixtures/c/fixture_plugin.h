/*
 * What the C test plugins (testplugin.c, crash/crashplugin.c, lifecycle/lcplugin.c) share: a
 * state holding the host's services, allocated by init and freed by destroy, the payload's
 * `seq` number read as text, and one event of a batch normalized as `normalize` does it. Each
 * plugin still compiles alone from its one .c file (the tests run `cc` on it); this header is
 * found next to it by the quoted #include.
 */
#ifndef DK_TEST_FIXTURE_PLUGIN_H
#define DK_TEST_FIXTURE_PLUGIN_H

#include "kernel_plugin.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const kp_host_services *host; } state_t;

/* Allocates the state: the init of every fixture plugin once its own checks of the config pass. */
static inline kp_status fixture_init_state(const kp_host_services *host, void **state) {
    state_t *s = calloc(1, sizeof *s);
    if (!s) return KP_ERR_INTERNAL;
    s->host = host;
    *state = s;
    return KP_OK;
}

static inline void fixture_destroy_state(void *state) { free(state); }

/* The payload's number `seq` as NUL-terminated text in buf[cap_buf] (its length in *len), or
 * KP_ERR_INVALID_PAYLOAD with the reason in err when it is missing or too long. */
static inline kp_status fixture_read_seq(const state_t *s, const kp_event *ev, char *buf, size_t cap_buf,
                                         size_t *len, char *err, size_t cap) {
    const char *seq; size_t seq_len;
    if (s->host->json_field(ev->payload_json, ev->payload_len, "seq", &seq, &seq_len) != KP_JSON_NUMBER) {
        snprintf(err, cap, "missing field: seq");
        return KP_ERR_INVALID_PAYLOAD;
    }
    if (seq_len >= cap_buf) { snprintf(err, cap, "seq too long"); return KP_ERR_INVALID_PAYLOAD; }
    memcpy(buf, seq, seq_len);
    buf[seq_len] = 0;
    *len = seq_len;
    return KP_OK;
}

typedef kp_status (*fixture_normalize_fn)(void *state, const kp_event *ev, const kp_output *out, char *err, size_t cap);

/* Event `i` of a normalize_batch call as `normalize` does it alone, a refusal reported with
 * fail_event (the builder must already have selected the event). */
static inline void fixture_normalize_one(fixture_normalize_fn normalize, void *state, const kp_event *ev, size_t i,
                                         const kp_output *out, char *err, size_t cap) {
    kp_status st = normalize(state, ev, out, err, cap);
    if (st != KP_OK) out->api->fail_event(out->builder, i, st, err, strlen(err));
}

/* A normalize_batch that does every event as `normalize` does it alone. */
static inline kp_status fixture_normalize_each(fixture_normalize_fn normalize, void *state, const kp_event *const *events,
                                               size_t n, const kp_output *out, char *err, size_t cap) {
    for (size_t i = 0; i < n; i++) {
        out->api->select_event(out->builder, i);
        fixture_normalize_one(normalize, state, events[i], i, out, err, cap);
    }
    return KP_OK;
}

#endif
