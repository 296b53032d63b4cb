/*
 * A configurable test plugin for the loader tests. Compiled by the tests with `cc -shared` and
 * -D flags that break one rule each (wrong ABI major, NULL normalize, bad names, ...). Its normalize
 * obeys a "mode" member of the payload so the tests can drive every output-contract check.
 * -DWITH_BATCH also exports normalize_batch: each event as normalize does it, a refusal reported
 * with fail_event, except the mode "bad_numeric_batch_error", which fails the whole call.
 */
#include "fixture_plugin.h"

#ifndef ABI_MAJOR
#define ABI_MAJOR KP_ABI_MAJOR
#endif
#ifndef ABI_MINOR
#define ABI_MINOR KP_ABI_MINOR
#endif
#ifndef PLUGIN_NAME
#define PLUGIN_NAME "tick"
#endif
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "1.0.0"
#endif
#ifndef FAMILY_NAME
#define FAMILY_NAME "tick"
#endif
#ifndef SECOND_FAMILY_NAME
#define SECOND_FAMILY_NAME "tick_extra"
#endif
#ifndef FAMILY_MIN
#define FAMILY_MIN 1
#endif
#ifndef FAMILY_MAX
#define FAMILY_MAX 2
#endif
#ifndef COLUMN_NAME
#define COLUMN_NAME "price"
#endif
#ifndef DESCRIPTOR_SIZE
#define DESCRIPTOR_SIZE sizeof(kp_plugin_descriptor)
#endif
#ifndef FAMILY_COUNT
#define FAMILY_COUNT 1
#endif
#ifndef MAX_ROWS
#define MAX_ROWS 2
#endif
#ifndef BUILD_INFO
#define BUILD_INFO "cc test"
#endif
#ifndef SCHEMA_JSON
#define SCHEMA_JSON "{\"type\":\"object\",\"required\":[\"price\"]}"
#endif

static const char *const sides[] = {"buy", "sell", NULL};
#ifdef ENUM_ON_NUMERIC
#define PRICE_ALLOWED sides
#else
#define PRICE_ALLOWED NULL
#endif

static const kp_column columns[] = {
    {COLUMN_NAME, KP_COL_NUMERIC, 0, PRICE_ALLOWED, "trade price"},
    {"side", KP_COL_TEXT, 0, sides, "aggressor side"},
    {"note", KP_COL_TEXT, KP_COL_NULLABLE, NULL, NULL},
    {"qty", KP_COL_INT4, KP_COL_NULLABLE, NULL, NULL},
};

static const kp_family families[] = {
    {sizeof(kp_family), FAMILY_NAME, FAMILY_MIN, FAMILY_MAX, SCHEMA_JSON, columns, 4, MAX_ROWS, 0},
    {sizeof(kp_family), SECOND_FAMILY_NAME, 1, 1, NULL, NULL, 0, 0, 0},
};

static kp_status t_init(const kp_host_services *host, const char *cfg, size_t len, void **state, char *err, size_t cap) {
    if (len > 0 && strstr(cfg, "fail_init")) { snprintf(err, cap, "config says fail_init"); return KP_ERR_CONFIG; }
    return fixture_init_state(host, state);
}

static int is(const char *v, size_t n, const char *lit) { return n == strlen(lit) && memcmp(v, lit, n) == 0; }

static kp_status t_normalize(void *state, const kp_event *ev, const kp_output *out, char *err, size_t cap) {
    state_t *s = state;
    const char *mode = "ok", *price; size_t mode_len = 2, price_len;
    const char *m; size_t ml;
    if (s->host->json_field(ev->payload_json, ev->payload_len, "mode", &m, &ml) == KP_JSON_STRING) { mode = m; mode_len = ml; }
    if (is(mode, mode_len, "fail")) { snprintf(err, cap, "payload refused on purpose"); return KP_ERR_INVALID_PAYLOAD; }
    kp_json_type t = s->host->json_field(ev->payload_json, ev->payload_len, "price", &price, &price_len);
    if (t != KP_JSON_NUMBER && t != KP_JSON_STRING) {
#ifdef SILENT_REFUSAL
        /* A plugin that refuses without saying why: the conformance kit must flag it. */
        (void)err, (void)cap;
#else
        snprintf(err, cap, "missing field: price");
#endif
        return KP_ERR_INVALID_PAYLOAD;
    }
    const kp_builder_api *api = out->api;
    kp_builder *b = out->builder;
    api->add_tag(b, "core.symbol", 11, "TEST", 4);
    api->set_event_time_ns(b, ev->ts_unix_ns - 1000);
    api->begin_row(b);
    if (is(mode, mode_len, "wrong_type")) { api->set_int64(b, 0, 42); }
    else if (!is(mode, mode_len, "missing_required")) { api->set_numeric(b, 0, price, price_len); }
    if (is(mode, mode_len, "bad_enum")) api->set_text(b, 1, "hold", 4); else api->set_text(b, 1, "buy", 3);
    if (is(mode, mode_len, "bad_index")) api->set_text(b, 9, "x", 1);
    if (is(mode, mode_len, "int4_overflow")) api->set_int64(b, 3, 5000000000LL);
    if (is(mode, mode_len, "bad_numeric")) api->set_numeric(b, 0, "NaN", 3);
    if (is(mode, mode_len, "two_rows") || is(mode, mode_len, "three_rows")) {
        api->begin_row(b); api->set_numeric(b, 0, price, price_len); api->set_text(b, 1, "sell", 4);
    }
    if (is(mode, mode_len, "three_rows")) {
        api->begin_row(b); api->set_numeric(b, 0, price, price_len); api->set_text(b, 1, "sell", 4);
    }
    if (is(mode, mode_len, "bad_text")) api->set_text(b, 1, "\xff", 1);
    if (is(mode, mode_len, "bad_numeric_own_error")) {
        /* The host refuses the value; the plugin then returns its own error, which must win. */
        api->set_numeric(b, 0, "1e5x", 4);
        snprintf(err, cap, "price: the plugin's own words");
        return KP_ERR_INVALID_PAYLOAD;
    }
    if (is(mode, mode_len, "payload")) api->set_payload_json(b, "{\"normalized\":true}", 19);
    if (is(mode, mode_len, "bad_payload")) api->set_payload_json(b, "[1,2]", 5);
    return KP_OK;
}

#ifdef WITH_BATCH
static kp_status t_normalize_batch(void *state, const kp_event *const *events, size_t n, const kp_output *out,
                                   char *err, size_t cap) {
    state_t *s = state;
    for (size_t i = 0; i < n; i++) {
        out->api->select_event(out->builder, i);
        const char *m; size_t ml;
        if (s->host->json_field(events[i]->payload_json, events[i]->payload_len, "mode", &m, &ml) == KP_JSON_STRING
            && is(m, ml, "bad_numeric_batch_error")) {
            /* The host refuses the value; the plugin then fails the whole call with its own
               message, which must win for this event too, as in normalize. */
            out->api->begin_row(out->builder);
            out->api->set_numeric(out->builder, 0, "1e5x", 4);
            snprintf(err, cap, "batch: the plugin's own words");
            return KP_ERR_INVALID_PAYLOAD;
        }
        fixture_normalize_one(t_normalize, state, events[i], i, out, err, cap);
    }
    return KP_OK;
}
#define BATCH_FN t_normalize_batch
#else
#define BATCH_FN NULL
#endif

static const kp_plugin_descriptor descriptor = {
    ABI_MAJOR, ABI_MINOR, DESCRIPTOR_SIZE, 0,
    PLUGIN_NAME, PLUGIN_VERSION, BUILD_INFO,
    families, FAMILY_COUNT,
    t_init,
#ifdef NULL_NORMALIZE
    NULL,
#else
    t_normalize,
#endif
    BATCH_FN,
    fixture_destroy_state,
};

#ifndef NO_ENTRY
KP_EXPORT const kp_plugin_descriptor *kernel_plugin_entry_v1(void) {
#ifdef NULL_DESCRIPTOR
    return NULL;
#else
    return &descriptor;
#endif
}
#else
KP_EXPORT const kp_plugin_descriptor *some_other_symbol(void) { return &descriptor; }
#endif
