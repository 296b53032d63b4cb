/*
 * A test plugin for the plugin lifecycle tests (hot add, upgrade, quarantine). Compiled by the
 * tests with `cc -shared` and -D flags choosing its name, version, family and speed. Every row
 * records the plugin version that produced it and the payload's `seq`, so a test can see where
 * routing switched.
 *
 * Declaration changes, for the family-table evolution tests:
 *   -DEXTRA_COLUMN='"note"'  a third, text column (holding the plugin version), nullable unless
 *   -DEXTRA_FLAGS=0          makes it NOT NULL (a change an existing table cannot take);
 *   -DSEQ_TEXT               `seq` declared as text instead of int8 (a type change).
 */
#include "../fixture_plugin.h"
#include <time.h>

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "lc"
#endif
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "1.0.0"
#endif
#ifndef FAMILY_NAME
#define FAMILY_NAME "lcfam"
#endif
#ifndef SLEEP_MS
#define SLEEP_MS 0
#endif
/* CPU time burnt per event (SLEEP_MS only waits: it uses no CPU). */
#ifndef SPIN_MS
#define SPIN_MS 0
#endif

static volatile long spin_sink;

static void spin_cpu(long ms) {
    struct timespec start, now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
    do {
        for (int i = 0; i < 10000; i++) spin_sink += i;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < ms * 1000000L);
}
#ifndef EXTRA_FLAGS
#define EXTRA_FLAGS KP_COL_NULLABLE
#endif
#ifdef SEQ_TEXT
#define SEQ_TYPE KP_COL_TEXT
#else
#define SEQ_TYPE KP_COL_INT8
#endif

static const kp_column columns[] = {
    {"seq", SEQ_TYPE, 0, NULL, "publish order"},
    {"plugin_version", KP_COL_TEXT, 0, NULL, "version of the plugin that normalized the event"},
#ifdef EXTRA_COLUMN
    {EXTRA_COLUMN, KP_COL_TEXT, EXTRA_FLAGS, NULL, "a column a later version added"},
#endif
};

static const kp_family families[] = {
    {sizeof(kp_family), FAMILY_NAME, 1, 1, NULL, columns, (uint32_t)(sizeof columns / sizeof columns[0]), 1, sizeof(kp_column)},
};

static kp_status lc_init(const kp_host_services *host, const char *cfg, size_t len, void **state, char *err, size_t cap) {
    (void)cfg; (void)len; (void)err; (void)cap;
    return fixture_init_state(host, state);
}

static kp_status lc_normalize(void *state, const kp_event *ev, const kp_output *out, char *err, size_t cap) {
    state_t *s = state;
    if (SLEEP_MS > 0) {
        struct timespec ts = {SLEEP_MS / 1000, (long)(SLEEP_MS % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (SPIN_MS > 0) spin_cpu(SPIN_MS);
    char buf[32]; size_t seq_len;
    kp_status st = fixture_read_seq(s, ev, buf, sizeof buf, &seq_len, err, cap);
    if (st != KP_OK) return st;
    const kp_builder_api *api = out->api;
    api->begin_row(out->builder);
#ifdef SEQ_TEXT
    api->set_text(out->builder, 0, buf, seq_len);
#else
    api->set_int64(out->builder, 0, strtoll(buf, NULL, 10));
#endif
    api->set_text(out->builder, 1, PLUGIN_VERSION, strlen(PLUGIN_VERSION));
#ifdef EXTRA_COLUMN
    api->set_text(out->builder, 2, PLUGIN_VERSION, strlen(PLUGIN_VERSION));
#endif
    return KP_OK;
}

static const kp_plugin_descriptor descriptor = {
    KP_ABI_MAJOR, KP_ABI_MINOR, sizeof(kp_plugin_descriptor), 0,
    PLUGIN_NAME, PLUGIN_VERSION, "cc lifecycle test",
    families, 1,
    lc_init, lc_normalize, NULL, fixture_destroy_state,
};

KP_EXPORT const kp_plugin_descriptor *kernel_plugin_entry_v1(void) { return &descriptor; }
