/*
 * A plugin that fails hard on one payload, for the crash tests: compiled by the tests with
 * -DCRASH_MODE=1 (abort), 2 (NULL dereference), 3 (stack overflow) or 4 (endless loop). An
 * event whose payload has "crash": true triggers the mode; every other event becomes one row of
 * md_crashfam (seq).
 * -DWITH_BATCH=1 also exports normalize_batch (one call for a whole group of events).
 */
#include "../fixture_plugin.h"
#include <signal.h>

#ifndef CRASH_MODE
#define CRASH_MODE 1
#endif
#ifndef WITH_BATCH
#define WITH_BATCH 0
#endif

static const kp_column columns[] = {
    {"seq", KP_COL_INT8, 0, NULL, "publish order"},
};

static const kp_family families[] = {
    {sizeof(kp_family), "crashfam", 1, 1, NULL, columns, 1, 1, sizeof(kp_column)},
};

static kp_status crash_init(const kp_host_services *host, const char *cfg, size_t len, void **state, char *err, size_t cap) {
    (void)cfg; (void)len; (void)err; (void)cap;
    return fixture_init_state(host, state);
}

static volatile int sink;

#if CRASH_MODE == 3
static int recurse(int depth) {
    volatile char pad[4096];
    pad[0] = (char)depth;
    return recurse(depth + 1) + pad[0];
}
#endif

static void fail_hard(void) {
#if CRASH_MODE == 1
    abort();
#elif CRASH_MODE == 2
    volatile int *volatile p = NULL;   /* both volatile: GCC drops a plain store through NULL */
    *p = 42;
#elif CRASH_MODE == 3
    sink = recurse(0);
#elif CRASH_MODE == 4
    for (;;) sink++;
#endif
}

static kp_status crash_normalize(void *state, const kp_event *ev, const kp_output *out, char *err, size_t cap) {
    state_t *s = state;
    const char *v; size_t v_len;
    if (s->host->json_field(ev->payload_json, ev->payload_len, "crash", &v, &v_len) == KP_JSON_BOOL && v_len == 4 && memcmp(v, "true", 4) == 0) fail_hard();
    char buf[32]; size_t seq_len;
    kp_status st = fixture_read_seq(s, ev, buf, sizeof buf, &seq_len, err, cap);
    if (st != KP_OK) return st;
    out->api->begin_row(out->builder);
    out->api->set_int64(out->builder, 0, strtoll(buf, NULL, 10));
    return KP_OK;
}

#if WITH_BATCH
static kp_status crash_normalize_batch(void *state, const kp_event *const *events, size_t n, const kp_output *out,
                                       char *err, size_t cap) {
    return fixture_normalize_each(crash_normalize, state, events, n, out, err, cap);
}
#define BATCH_FN crash_normalize_batch
#else
#define BATCH_FN NULL
#endif

static const kp_plugin_descriptor descriptor = {
    KP_ABI_MAJOR, KP_ABI_MINOR, sizeof(kp_plugin_descriptor), 0,
    "crash", "1.0.0", "cc crash test",
    families, 1,
    crash_init, crash_normalize, BATCH_FN, fixture_destroy_state,
};

KP_EXPORT const kp_plugin_descriptor *kernel_plugin_entry_v1(void) { return &descriptor; }
