/*
 * kernel_plugin.h — the stable C ABI between the Data Kernel host and its normalizer plugins.
 *
 * This header is the whole contract. A plugin is a shared object that exports one symbol,
 * `kernel_plugin_entry_v1`, returning a pointer to a static, read-only `kp_plugin_descriptor`.
 * Everything else the plugin needs from the host arrives as function tables the host owns.
 *
 * Rules (docs/plugins.md explains each one):
 *  - The host checks `abi_major` for equality and `struct_size` before reading any other field.
 *  - Minor versions only append fields at the end of a struct; `struct_size` says which exist.
 *    A field the host does not know is ignored; a field the plugin does not have reads as zero.
 *  - No memory crosses the boundary to be freed on the other side. Strings passed to callbacks
 *    are copied by the host before the callback returns; strings the host passes in stay valid
 *    only for the duration of the call that received them.
 *  - Errors cross as a `kp_status` plus a NUL-terminated message the plugin writes into a buffer
 *    the host provides (`err`, capacity `err_cap` bytes including the NUL).
 *  - All strings are UTF-8. Lengths are byte counts and never include a terminating NUL.
 *  - Callbacks may be called from any host thread, but never concurrently for the same plugin
 *    state unless the plugin sets KP_PLUGIN_THREAD_SAFE in `flags`.
 */
#ifndef KERNEL_PLUGIN_H
#define KERNEL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- versioning ---------------------------------------------------------------------------- */

/** Bumped only for incompatible changes; the host refuses a plugin whose major differs. */
#define KP_ABI_MAJOR 1
/** Bumped when fields are appended; a plugin built against a newer minor than the host is refused. */
#define KP_ABI_MINOR 0

/** The one symbol every plugin exports. */
#define KP_ENTRY_SYMBOL "kernel_plugin_entry_v1"

/* Visibility helper for C plugins: `KP_EXPORT const kp_plugin_descriptor *kernel_plugin_entry_v1(void)`. */
#if defined(__GNUC__) || defined(__clang__)
#define KP_EXPORT __attribute__((visibility("default")))
#else
#define KP_EXPORT
#endif

/* ---- limits -------------------------------------------------------------------------------- */
/*
 * The one table of limits. The host's loader and output checks, the Swift SDK's
 * `PluginInfo.problems` and docs/plugins.md ("Host limits") all read these numbers; a test fails
 * when any of them states another. Lengths are UTF-8 bytes.
 *
 * Identifiers: plugin name [a-z][a-z0-9_.-]{0,63}; family name [a-z][a-z0-9_]{0,39}; column name
 * [a-z][a-z0-9_]{0,54}. Families and columns become Postgres identifiers (`md_<family>_YYYY_MM`,
 * constraint names), which Postgres limits to 63 bytes: hence 40 and 55.
 *
 * Numeric text (set_numeric): -?[0-9]+(.[0-9]+)?((e|E)(+|-)?[0-9]+)? with no leading '+', no
 * NaN or Infinity, at most KP_NUMERIC_TEXT_MAX bytes, and an exponent whose value is at most
 * KP_NUMERIC_EXPONENT_MAX (1e1000 is accepted, 1e1001 refused: Postgres numeric's input limit).
 *
 * Timestamps (set_timestamp_ns, set_event_time_ns): any int64_t of Unix nanoseconds, i.e.
 * 1677-09-21T00:12:43.145224192Z ... 2262-04-11T23:47:16.854775807Z; stored at microseconds.
 */
#define KP_PLUGIN_NAME_MAX 64          /* plugin name, bytes */
#define KP_FAMILY_NAME_MAX 40          /* family name, bytes */
#define KP_COLUMN_NAME_MAX 55          /* column name, bytes */
#define KP_VERSION_TEXT_MAX 64         /* plugin version text, bytes */
#define KP_BUILD_INFO_MAX 256          /* build_info, bytes (longer is ignored) */
#define KP_FAMILIES_MAX 64             /* families per plugin */
#define KP_COLUMNS_MAX 256             /* columns per family */
#define KP_ROWS_PER_EVENT_MAX 100000   /* max_rows_per_event */
#define KP_SCHEMA_JSON_MAX 1048576     /* payload_schema_json, bytes */
#define KP_ALLOWED_VALUES_MAX 1024     /* allowed_values per column */
#define KP_ALLOWED_VALUE_MAX 256       /* one allowed value, bytes */
#define KP_TAGS_MAX 64                 /* tags per event */
#define KP_TAG_MAX 256                 /* tag key or value, bytes */
#define KP_TEXT_MAX 1048576            /* text and jsonb values, stored payload, bytes */
#define KP_NUMERIC_TEXT_MAX 1000       /* numeric text, bytes */
#define KP_NUMERIC_EXPONENT_MAX 1000   /* |exponent| of numeric text */
#define KP_ERR_CAP_MIN 1024            /* the err buffer the host passes holds at least this */

/* ---- status codes -------------------------------------------------------------------------- */

typedef enum kp_status {
    /** Success. */
    KP_OK = 0,
    /** The event's payload is not acceptable; the host dead-letters it as `normalize_failed`. */
    KP_ERR_INVALID_PAYLOAD = 1,
    /** The event's schema version is not handled; dead-lettered as `normalize_failed`. */
    KP_ERR_UNSUPPORTED_VERSION = 2,
    /** `init` refused its configuration; the host refuses the plugin and names the file. */
    KP_ERR_CONFIG = 3,
    /** Anything else went wrong inside the plugin; the event is dead-lettered as `normalize_failed`. */
    KP_ERR_INTERNAL = 4
} kp_status;

/* ---- host services (host → plugin, passed to init) ----------------------------------------- */

typedef enum kp_log_level {
    KP_LOG_DEBUG = 0,
    KP_LOG_INFO = 1,
    KP_LOG_WARN = 2,
    KP_LOG_ERROR = 3
} kp_log_level;

/** Types returned by `json_field`. */
typedef enum kp_json_type {
    KP_JSON_ABSENT = 0,   /* key not present (or input not an object) */
    KP_JSON_NULL = 1,
    KP_JSON_BOOL = 2,
    KP_JSON_NUMBER = 3,   /* value slice is the number's text, e.g. 187.25 — exact, never rounded */
    KP_JSON_STRING = 4,   /* value slice is the raw text between the quotes, escapes NOT decoded */
    KP_JSON_ARRAY = 5,    /* value slice includes the brackets */
    KP_JSON_OBJECT = 6,   /* value slice includes the braces */
    KP_JSON_ERROR = 7     /* input is not well-formed JSON */
} kp_json_type;

/**
 * Services the host offers a plugin, valid from `init` until `destroy` returns.
 * Functions appended in later minor versions are NULL-checked by the plugin via `struct_size`.
 */
typedef struct kp_host_services {
    /** sizeof(kp_host_services) as compiled into the host. */
    uint32_t struct_size;
    /** The host's KP_ABI_MINOR. */
    uint32_t abi_minor;
    /** Writes one log line attributed to this plugin. `msg` need not be NUL-terminated. */
    void (*log)(void *host_ctx, kp_log_level level, const char *msg, size_t msg_len);
    /** Wall-clock time, nanoseconds since the Unix epoch. */
    int64_t (*now_unix_ns)(void *host_ctx);
    /**
     * Finds the member `key` of the JSON object `json[0..json_len)` without allocating.
     * On success `*value` / `*value_len` point into `json` (valid as long as `json` is).
     * Nested lookups: call again on the returned object slice. For C plugins that do not want
     * to carry a JSON parser; Swift plugins get a full parser from the SDK.
     */
    kp_json_type (*json_field)(const char *json, size_t json_len, const char *key,
                               const char **value, size_t *value_len);
    /**
     * Decodes a JSON string slice as returned by `json_field` (escapes resolved) into `out`.
     * Returns the decoded byte length, or -1 if it is malformed or does not fit in `out_cap`.
     */
    int64_t (*json_unescape)(const char *raw, size_t raw_len, char *out, size_t out_cap);
    /** Opaque host context to pass back to `log` and `now_unix_ns`. */
    void *host_ctx;
} kp_host_services;

/* ---- schema families (plugin → host, static descriptor) ------------------------------------ */

/**
 * Postgres types a typed column may declare. The host creates the family table from them.
 * Prices and sizes are KP_COL_NUMERIC (decimal text in, `numeric` in Postgres, never float).
 */
typedef enum kp_column_type {
    KP_COL_TEXT = 1,        /* text */
    KP_COL_NUMERIC = 2,     /* numeric: value given as decimal text, e.g. "187.2500" */
    KP_COL_INT8 = 3,        /* bigint */
    KP_COL_INT4 = 4,        /* integer */
    KP_COL_FLOAT8 = 5,      /* double precision (for ratios and statistics, not prices) */
    KP_COL_BOOL = 6,        /* boolean */
    KP_COL_TIMESTAMPTZ = 7, /* timestamptz: value given as Unix nanoseconds (stored at µs) */
    KP_COL_JSONB = 8        /* jsonb: value given as JSON text */
} kp_column_type;

/** Column flags. */
#define KP_COL_NULLABLE 0x1u

/** One typed column of a family table. */
typedef struct kp_column {
    /** Lower-case SQL identifier: [a-z][a-z0-9_]{0,54}, not a reserved identity column name. */
    const char *name;
    kp_column_type type;
    /** KP_COL_NULLABLE or 0. A non-nullable column left unset in a row fails that event. */
    uint32_t flags;
    /**
     * For KP_COL_TEXT only: NULL, or a NULL-terminated list of the allowed values (an enum such
     * as side = buy|sell). The host adds a CHECK constraint and validates values before storing.
     */
    const char *const *allowed_values;
    /** Human description, shown by `kernel plugins check` and stored as the column comment. */
    const char *description;
} kp_column;

/** One schema family served by the plugin (e.g. "trade", versions 1..1). */
typedef struct kp_family {
    /** sizeof(kp_family) as compiled into the plugin: the host steps through the array with it. */
    uint32_t struct_size;
    /** Family name as used in subject registration `schema_name`: [a-z][a-z0-9_]{0,39}. */
    const char *name;
    /** Inclusive range of schema versions this plugin accepts (1 ≤ min ≤ max). */
    uint32_t min_version;
    uint32_t max_version;
    /**
     * JSON description of the payload: a JSON Schema subset (type, properties, required, enum,
     * items) used to validate subject registrations (docs/plugins.md, "Subject registration and the payload schema"). NULL = accept any object.
     */
    const char *payload_schema_json;
    /** Typed columns; NULL/0 = the family is stored as normalized JSON in the generic table. */
    const kp_column *columns;
    uint32_t column_count;
    /** Upper bound on rows one event may produce (1 for trades; N levels for books). 0 means 1. */
    uint32_t max_rows_per_event;
    /**
     * sizeof(kp_column) as compiled into the plugin, so kp_column can grow in a later minor version:
     * the host steps through `columns` with it. 0 means the ABI 1.0 layout.
     */
    uint32_t column_struct_size;
} kp_family;

/* ---- one event (host → plugin) ------------------------------------------------------------- */

/** What the plugin sees of one accepted event. All pointers are valid for the call only. */
typedef struct kp_event {
    uint32_t struct_size;
    /** The family and version of the subject's current schema. */
    const char *family;
    uint32_t schema_version;
    /** Canonical lower-case UUID text (36 bytes) of the event and subject. */
    const char *event_id;
    const char *subject_id;
    /** Producer-declared event time, Unix nanoseconds (the envelope's `ts`). */
    int64_t ts_unix_ns;
    /** The envelope's `payload` member, exact bytes as published (a JSON object). */
    const char *payload_json;
    size_t payload_len;
} kp_event;

/* ---- output builder (plugin → host, host-owned) -------------------------------------------- */

/** Opaque host object that collects one event's output. */
typedef struct kp_builder kp_builder;

/**
 * Host-owned builder callbacks. Every call copies its arguments before returning. Each returns
 * KP_OK or KP_ERR_INVALID_PAYLOAD (e.g. a bad column index or type); the first failure is
 * remembered by the host and fails the event even if the plugin ignores the return value.
 */
typedef struct kp_builder_api {
    uint32_t struct_size;
    /** Replaces the stored payload JSON (default: the input payload unchanged). Must be an object. */
    kp_status (*set_payload_json)(kp_builder *b, const char *json, size_t len);
    /** Adds a tag (key and value non-empty, at most KP_TAG_MAX bytes, at most KP_TAGS_MAX per event). */
    kp_status (*add_tag)(kp_builder *b, const char *key, size_t key_len, const char *value, size_t value_len);
    /** Sets the exchange/event time (Unix ns, any int64_t), stored as `ts_event` beside the envelope `ts`. */
    kp_status (*set_event_time_ns)(kp_builder *b, int64_t unix_ns);
    /** Starts a new typed row; all columns start NULL. Required before any set_* below. */
    kp_status (*begin_row)(kp_builder *b);
    /** Column setters address the family's `columns` array by index. */
    kp_status (*set_text)(kp_builder *b, uint32_t column, const char *value, size_t len);
    /** Decimal text by the numeric grammar under "limits" above (e.g. "-187.25", "1e-5"); no leading "+", NaN or Inf. */
    kp_status (*set_numeric)(kp_builder *b, uint32_t column, const char *value, size_t len);
    kp_status (*set_int64)(kp_builder *b, uint32_t column, int64_t value);
    kp_status (*set_float64)(kp_builder *b, uint32_t column, double value);
    kp_status (*set_bool)(kp_builder *b, uint32_t column, int value);
    /** Any int64_t of Unix nanoseconds (1677...2262); stored at microseconds. */
    kp_status (*set_timestamp_ns)(kp_builder *b, uint32_t column, int64_t unix_ns);
    kp_status (*set_jsonb)(kp_builder *b, uint32_t column, const char *json, size_t len);
    kp_status (*set_null)(kp_builder *b, uint32_t column);
    /**
     * For normalize_batch only: directs all following output to event `index` of the batch and
     * records that event's status and message (message may be NULL when status is KP_OK).
     */
    kp_status (*select_event)(kp_builder *b, size_t index);
    kp_status (*fail_event)(kp_builder *b, size_t index, kp_status status, const char *msg, size_t msg_len);
} kp_builder_api;

/** The handle the plugin receives: the host's callbacks plus the opaque builder. */
typedef struct kp_output {
    const kp_builder_api *api;
    kp_builder *builder;
} kp_output;

/* ---- the descriptor ------------------------------------------------------------------------ */

/** Plugin flags. */
#define KP_PLUGIN_THREAD_SAFE 0x1u

typedef struct kp_plugin_descriptor {
    /** Must equal the host's KP_ABI_MAJOR. Checked first. */
    uint32_t abi_major;
    /** KP_ABI_MINOR the plugin was built against; must be ≤ the host's. */
    uint32_t abi_minor;
    /** sizeof(kp_plugin_descriptor) as compiled into the plugin. */
    uint32_t struct_size;
    /** KP_PLUGIN_* flags. */
    uint32_t flags;
    /** Plugin name: [a-z][a-z0-9_.-]{0,63}. */
    const char *name;
    /** Semantic version "MAJOR.MINOR.PATCH"; a newer version replaces an older one on upgrade. */
    const char *version;
    /** Free text: who built it with what ("swift-6.3.1", "cc 12.2"). Shown by `plugins check`. */
    const char *build_info;
    /** Families served; at least one. */
    const kp_family *families;
    uint32_t family_count;

    /**
     * Required. Called once after validation. `config_json` is the plugin's section of the kernel
     * config as a JSON object ("{}" when absent). Store per-plugin state in `*state`.
     */
    kp_status (*init)(const kp_host_services *host, const char *config_json, size_t config_len,
                      void **state, char *err, size_t err_cap);
    /**
     * Required. Normalizes one event into `out`. Returning anything but KP_OK dead-letters the
     * event as `normalize_failed` with the message written into `err`.
     */
    kp_status (*normalize)(void *state, const kp_event *event, const kp_output *out,
                           char *err, size_t err_cap);
    /**
     * Optional (NULL = the host calls `normalize` per event). Normalizes `count` events; output
     * for event i follows `out->api->select_event(out->builder, i)`; per-event failures are
     * reported with `fail_event`. A non-KP_OK return fails every event of the batch not yet
     * reported with `fail_event`, with `err` as their message (replacing a refusal of the host,
     * as for `normalize`).
     */
    kp_status (*normalize_batch)(void *state, const kp_event *const *events, size_t count,
                                 const kp_output *out, char *err, size_t err_cap);
    /** Required. Releases `state`. The shared object itself is never unloaded. */
    void (*destroy)(void *state);
} kp_plugin_descriptor;

/** The type of the entry symbol. */
typedef const kp_plugin_descriptor *(*kp_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* KERNEL_PLUGIN_H */
