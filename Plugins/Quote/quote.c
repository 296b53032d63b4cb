/*
 * quote.c — the `quote` normalizer (best bid/offer), written in plain C11 against
 * kernel_plugin.h alone. It proves the plugin ABI is language-neutral: no SDK, no JSON
 * parser of its own (member lookup and string decoding come from the host services table),
 * no global mutable state, and nothing allocated here is ever freed by the host.
 *
 * Payload: {venue, symbol, bid_price?, bid_size?, ask_price?, ask_size?, exchange_ts?}
 *  - venue, symbol: non-empty strings without control characters.
 *  - prices and sizes: a JSON number or a decimal string; passed on as the exact text.
 *    A side's price and size come together; at least one side is present; price > 0,
 *    size >= 0. A crossed market (bid > ask) is accepted: it happens.
 *  - exchange_ts: RFC 3339 string, UTC ("Z") or with a numeric offset -> ts_event.
 *  - JSON null in an optional member means "absent".
 * Output: one row (venue, symbol, bid_price, bid_size, ask_price, ask_size), tags
 * core.venue / core.symbol, and the event time when exchange_ts is given.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -I Sources/KernelPluginABI/include
 *        -Wl,--version-script=sdk/plugin-exports.map -o plugins/libquote.so Plugins/Quote/quote.c
 */
#include "kernel_plugin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- static, read-only description ------------------------------------------------------- */

/* Column indexes; they address `quote_columns` below, so keep both in the same order. */
enum {
    COL_VENUE = 0,
    COL_SYMBOL = 1,
    COL_BID_PRICE = 2,
    COL_BID_SIZE = 3,
    COL_ASK_PRICE = 4,
    COL_ASK_SIZE = 5,
    COL_COUNT = 6
};

static const kp_column quote_columns[COL_COUNT] = {
    {"venue", KP_COL_TEXT, 0, NULL, "Trading venue (exchange code) as published."},
    {"symbol", KP_COL_TEXT, 0, NULL, "Instrument symbol as published by the venue."},
    {"bid_price", KP_COL_NUMERIC, KP_COL_NULLABLE, NULL, "Best bid price; NULL when the bid side is absent."},
    {"bid_size", KP_COL_NUMERIC, KP_COL_NULLABLE, NULL, "Quantity at the best bid; NULL when the bid side is absent."},
    {"ask_price", KP_COL_NUMERIC, KP_COL_NULLABLE, NULL, "Best ask price; NULL when the ask side is absent."},
    {"ask_size", KP_COL_NUMERIC, KP_COL_NULLABLE, NULL, "Quantity at the best ask; NULL when the ask side is absent."},
};

static const char quote_payload_schema[] =
    "{\"type\":\"object\",\"required\":[\"venue\",\"symbol\"],\"properties\":{"
    "\"venue\":{\"type\":\"string\"},"
    "\"symbol\":{\"type\":\"string\"},"
    "\"bid_price\":{\"type\":[\"number\",\"string\",\"null\"]},"
    "\"bid_size\":{\"type\":[\"number\",\"string\",\"null\"]},"
    "\"ask_price\":{\"type\":[\"number\",\"string\",\"null\"]},"
    "\"ask_size\":{\"type\":[\"number\",\"string\",\"null\"]},"
    "\"exchange_ts\":{\"type\":[\"string\",\"null\"]}"
    "}}";

static const kp_family quote_families[1] = {{
    .struct_size = sizeof(kp_family),
    .name = "quote",
    .min_version = 1,
    .max_version = 1,
    .payload_schema_json = quote_payload_schema,
    .columns = quote_columns,
    .column_count = COL_COUNT,
    .max_rows_per_event = 1,
    .column_struct_size = sizeof(kp_column),
}};

/* ---- plugin state -------------------------------------------------------------------------- */

/* Everything mutable lives here, allocated by init and freed by destroy. After init it is
 * only read, which is why the plugin can declare KP_PLUGIN_THREAD_SAFE. */
typedef struct quote_state {
    const kp_host_services *host;
} quote_state;

/* Limits on what one event may carry. Venues and symbols are short identifiers; a decimal
 * longer than this or with a wild exponent would only fail later, in Postgres, as a
 * persist error far from its cause. */
#define QUOTE_MAX_IDENT 128
#define QUOTE_MAX_DECIMAL 100
#define QUOTE_MAX_EXPONENT 1000
#define QUOTE_MAX_TS 64

/* ---- small helpers ------------------------------------------------------------------------- */

/* Writes the error message into the host's buffer (NUL-terminated, truncated to fit). */
static void set_err(char *err, size_t err_cap, const char *fmt, ...) {
    if (err == NULL || err_cap == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, err_cap, fmt, ap);
    va_end(ap);
    if (n < 0) {
        err[0] = '\0';
    }
}

static void log_line(const quote_state *st, kp_log_level level, const char *msg) {
    if (st != NULL && st->host != NULL && st->host->log != NULL) {
        st->host->log(st->host->host_ctx, level, msg, strlen(msg));
    }
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* True when the first non-blank byte of the text opens an object: json_field reports
 * ABSENT for a non-object, and the plugin wants to say which of the two went wrong. */
static int starts_object(const char *s, size_t len) {
    size_t i = 0;
    while (i < len && is_json_space(s[i])) {
        i++;
    }
    return i < len && s[i] == '{';
}

/* ---- decimals ------------------------------------------------------------------------------ */

typedef enum decimal_sign { DEC_NEGATIVE = -1, DEC_ZERO = 0, DEC_POSITIVE = 1 } decimal_sign;

/* Validates `-?digits[.digits][(e|E)[+-]digits]` over the whole slice and reports the sign
 * of its value. Returns NULL when valid, otherwise the reason (for the error message). */
static const char *check_decimal(const char *s, size_t len, decimal_sign *sign) {
    size_t i = 0;
    int negative = 0;
    int nonzero = 0;
    if (len == 0) {
        return "not a decimal";
    }
    if (len > QUOTE_MAX_DECIMAL) {
        return "decimal longer than 100 characters";
    }
    if (s[i] == '-') {
        negative = 1;
        i++;
    }
    size_t start = i;
    while (i < len && is_digit(s[i])) {
        nonzero |= s[i] != '0';
        i++;
    }
    if (i == start) {
        return "not a decimal";
    }
    if (i < len && s[i] == '.') {
        i++;
        size_t frac = i;
        while (i < len && is_digit(s[i])) {
            nonzero |= s[i] != '0';
            i++;
        }
        if (i == frac) {
            return "not a decimal";
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        size_t exp = i;
        long value = 0;
        while (i < len && is_digit(s[i])) {
            if (value <= QUOTE_MAX_EXPONENT) {
                value = value * 10 + (s[i] - '0');
            }
            i++;
        }
        if (i == exp) {
            return "not a decimal";
        }
        if (value > QUOTE_MAX_EXPONENT) {
            return "exponent out of range (at most 1000)";
        }
    }
    if (i != len) {
        return "not a decimal";
    }
    *sign = !nonzero ? DEC_ZERO : (negative ? DEC_NEGATIVE : DEC_POSITIVE);
    return NULL;
}

/* One optional decimal member: present (with its exact text) or absent. */
typedef struct decimal_field {
    int present;
    const char *text;
    size_t len;
} decimal_field;

typedef enum decimal_kind { KIND_PRICE, KIND_SIZE } decimal_kind;

static kp_status read_decimal(const quote_state *st, const kp_event *ev, const char *key,
                              decimal_kind kind, decimal_field *out, char *err, size_t err_cap) {
    const char *v = NULL;
    size_t vlen = 0;
    kp_json_type t = st->host->json_field(ev->payload_json, ev->payload_len, key, &v, &vlen);
    out->present = 0;
    switch (t) {
    case KP_JSON_ABSENT:
    case KP_JSON_NULL:
        return KP_OK;
    case KP_JSON_NUMBER:
    case KP_JSON_STRING:
        /* A valid decimal has no backslash, so a string's raw slice is its decoded text. */
        break;
    case KP_JSON_ERROR:
        set_err(err, err_cap, "payload: not well-formed JSON");
        return KP_ERR_INVALID_PAYLOAD;
    default:
        set_err(err, err_cap, "%s: expected a number or a decimal string", key);
        return KP_ERR_INVALID_PAYLOAD;
    }
    decimal_sign sign = DEC_ZERO;
    const char *why = check_decimal(v, vlen, &sign);
    if (why != NULL) {
        set_err(err, err_cap, "%s: %s", key, why);
        return KP_ERR_INVALID_PAYLOAD;
    }
    if (kind == KIND_PRICE && sign != DEC_POSITIVE) {
        set_err(err, err_cap, "%s: must be greater than 0", key);
        return KP_ERR_INVALID_PAYLOAD;
    }
    if (kind == KIND_SIZE && sign == DEC_NEGATIVE) {
        set_err(err, err_cap, "%s: must not be negative", key);
        return KP_ERR_INVALID_PAYLOAD;
    }
    out->present = 1;
    out->text = v;
    out->len = vlen;
    return KP_OK;
}

/* ---- strings ------------------------------------------------------------------------------- */

/* A required, non-empty identifier string (venue, symbol), decoded into `buf`. */
static kp_status read_ident(const quote_state *st, const kp_event *ev, const char *key,
                            char *buf, size_t cap, size_t *out_len, char *err, size_t err_cap) {
    const char *v = NULL;
    size_t vlen = 0;
    kp_json_type t = st->host->json_field(ev->payload_json, ev->payload_len, key, &v, &vlen);
    if (t == KP_JSON_ERROR) {
        set_err(err, err_cap, "payload: not well-formed JSON");
        return KP_ERR_INVALID_PAYLOAD;
    }
    if (t == KP_JSON_ABSENT) {
        set_err(err, err_cap, "missing field: %s", key);
        return KP_ERR_INVALID_PAYLOAD;
    }
    if (t != KP_JSON_STRING) {
        set_err(err, err_cap, "%s: expected a string", key);
        return KP_ERR_INVALID_PAYLOAD;
    }
    int64_t n = st->host->json_unescape(v, vlen, buf, cap);
    if (n < 0) {
        /* Decoding never lengthens a string, so a raw slice that fits was malformed. */
        if (vlen <= cap) {
            set_err(err, err_cap, "%s: malformed string escape", key);
        } else {
            set_err(err, err_cap, "%s: longer than %u bytes", key, (unsigned)cap);
        }
        return KP_ERR_INVALID_PAYLOAD;
    }
    if (n == 0) {
        set_err(err, err_cap, "%s: must not be empty", key);
        return KP_ERR_INVALID_PAYLOAD;
    }
    for (int64_t i = 0; i < n; i++) {
        /* Postgres text cannot hold NUL; other control bytes in an identifier are garbage. */
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
            set_err(err, err_cap, "%s: contains a control character", key);
            return KP_ERR_INVALID_PAYLOAD;
        }
    }
    *out_len = (size_t)n;
    return KP_OK;
}

/* ---- RFC 3339 ------------------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil):
 * pure integer arithmetic, no timegm, no time zone database, no locale. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int64_t y, int64_t m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Reads exactly `count` digits at s[*i]. */
static int read_digits(const char *s, size_t len, size_t *i, int count, int64_t *value) {
    int64_t v = 0;
    for (int k = 0; k < count; k++) {
        if (*i >= len || !is_digit(s[*i])) {
            return 0;
        }
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *value = v;
    return 1;
}

static int expect_char(const char *s, size_t len, size_t *i, char c) {
    if (*i < len && s[*i] == c) {
        (*i)++;
        return 1;
    }
    return 0;
}

/* Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)` strictly (fraction 1..9 digits;
 * 'T' and 'Z' may be lower case as RFC 3339 allows) into Unix nanoseconds. Returns NULL on
 * success, otherwise the reason. A leap second (:60) is refused: Unix time cannot hold it. */
static const char *parse_rfc3339(const char *s, size_t len, int64_t *out_ns) {
    size_t i = 0;
    int64_t year, month, day, hour, minute, second;
    int64_t frac = 0;
    if (!read_digits(s, len, &i, 4, &year) || !expect_char(s, len, &i, '-') ||
        !read_digits(s, len, &i, 2, &month) || !expect_char(s, len, &i, '-') ||
        !read_digits(s, len, &i, 2, &day)) {
        return "not an RFC 3339 timestamp (expected YYYY-MM-DDTHH:MM:SSZ)";
    }
    if (!expect_char(s, len, &i, 'T') && !expect_char(s, len, &i, 't')) {
        return "not an RFC 3339 timestamp (expected 'T' after the date)";
    }
    if (!read_digits(s, len, &i, 2, &hour) || !expect_char(s, len, &i, ':') ||
        !read_digits(s, len, &i, 2, &minute) || !expect_char(s, len, &i, ':') ||
        !read_digits(s, len, &i, 2, &second)) {
        return "not an RFC 3339 timestamp (expected YYYY-MM-DDTHH:MM:SSZ)";
    }
    if (i < len && s[i] == '.') {
        i++;
        int digits = 0;
        while (i < len && is_digit(s[i])) {
            if (digits == 9) {
                return "fraction longer than 9 digits";
            }
            frac = frac * 10 + (s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0) {
            return "no digits after the decimal point";
        }
        for (; digits < 9; digits++) {
            frac *= 10;
        }
    }
    int64_t offset_s = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int64_t sign = s[i] == '-' ? -1 : 1;
        int64_t oh, om;
        i++;
        if (!read_digits(s, len, &i, 2, &oh) || !expect_char(s, len, &i, ':') ||
            !read_digits(s, len, &i, 2, &om)) {
            return "bad UTC offset (expected Z or +hh:mm)";
        }
        if (oh > 23 || om > 59) {
            return "UTC offset out of range";
        }
        offset_s = sign * (oh * 3600 + om * 60);
    } else {
        return "missing time zone (expected Z or +hh:mm)";
    }
    if (i != len) {
        return "trailing characters after the timestamp";
    }
    if (month < 1 || month > 12) {
        return "month out of range";
    }
    if (day < 1 || day > days_in_month(year, month)) {
        return "day out of range for the month";
    }
    if (hour > 23) {
        return "hour out of range";
    }
    if (minute > 59) {
        return "minute out of range";
    }
    if (second > 59) {
        return "second out of range";
    }
    /* Local time minus the offset is UTC. Years 0000..9999 keep `secs` far from overflow;
     * the nanosecond value must fit int64: 1677-09-21T00:12:43.145224192Z through
     * 2262-04-11T23:47:16.854775807Z. The edges are computed so no product overflows. */
    int64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_s;
    const int64_t ns_per_s = 1000000000;
    const int64_t max_secs = INT64_MAX / ns_per_s;
    if (secs > max_secs || (secs == max_secs && frac > INT64_MAX % ns_per_s) || secs < -max_secs - 1 ||
        (secs == -max_secs - 1 && frac < ns_per_s + (INT64_MIN % ns_per_s))) {
        return "outside the representable range (1677-09-21 to 2262-04-11)";
    }
    *out_ns = secs >= 0 ? secs * ns_per_s + frac : (secs + 1) * ns_per_s + (frac - ns_per_s);
    return NULL;
}

static kp_status read_exchange_ts(const quote_state *st, const kp_event *ev, int *present,
                                  int64_t *ns, char *err, size_t err_cap) {
    const char *v = NULL;
    size_t vlen = 0;
    kp_json_type t = st->host->json_field(ev->payload_json, ev->payload_len, "exchange_ts", &v, &vlen);
    *present = 0;
    if (t == KP_JSON_ABSENT || t == KP_JSON_NULL) {
        return KP_OK;
    }
    if (t == KP_JSON_ERROR) {
        set_err(err, err_cap, "payload: not well-formed JSON");
        return KP_ERR_INVALID_PAYLOAD;
    }
    if (t != KP_JSON_STRING) {
        set_err(err, err_cap, "exchange_ts: expected an RFC 3339 string");
        return KP_ERR_INVALID_PAYLOAD;
    }
    char buf[QUOTE_MAX_TS];
    int64_t n = st->host->json_unescape(v, vlen, buf, sizeof buf);
    if (n < 0) {
        if (vlen <= sizeof buf) {
            set_err(err, err_cap, "exchange_ts: malformed string escape");
        } else {
            set_err(err, err_cap, "exchange_ts: longer than %u bytes", (unsigned)sizeof buf);
        }
        return KP_ERR_INVALID_PAYLOAD;
    }
    const char *why = parse_rfc3339(buf, (size_t)n, ns);
    if (why != NULL) {
        set_err(err, err_cap, "exchange_ts: %s", why);
        return KP_ERR_INVALID_PAYLOAD;
    }
    *present = 1;
    return KP_OK;
}

/* ---- the three entry points ---------------------------------------------------------------- */

static kp_status quote_init(const kp_host_services *host, const char *config_json, size_t config_len,
                            void **state, char *err, size_t err_cap) {
    if (state == NULL) {
        set_err(err, err_cap, "quote: init called without a state slot");
        return KP_ERR_CONFIG;
    }
    *state = NULL;
    /* Every service used here exists since minor 0; still refuse a table too short to have them. */
    if (host == NULL ||
        host->struct_size < offsetof(kp_host_services, host_ctx) + sizeof(host->host_ctx) ||
        host->json_field == NULL || host->json_unescape == NULL) {
        set_err(err, err_cap, "quote: host services lack json_field/json_unescape");
        return KP_ERR_CONFIG;
    }
    /* The plugin has no options; it only insists that its section is an object. */
    if (config_json != NULL && config_len > 0 && !starts_object(config_json, config_len)) {
        set_err(err, err_cap, "quote: config must be a JSON object");
        return KP_ERR_CONFIG;
    }
    quote_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        set_err(err, err_cap, "quote: out of memory");
        return KP_ERR_INTERNAL;
    }
    st->host = host;
    *state = st;
    log_line(st, KP_LOG_INFO, "quote 1.0.0 ready (C plugin, family quote v1)");
    return KP_OK;
}

/* Fails the event when a builder call was refused (the host remembers it anyway). */
#define EMIT(call, what)                                                                        \
    do {                                                                                        \
        kp_status emit_status_ = (call);                                                        \
        if (emit_status_ != KP_OK) {                                                            \
            set_err(err, err_cap, "host refused %s", (what));                                   \
            return emit_status_;                                                                \
        }                                                                                       \
    } while (0)

static kp_status set_decimal_column(const kp_output *out, uint32_t column, const decimal_field *f) {
    if (!f->present) {
        return out->api->set_null(out->builder, column);
    }
    return out->api->set_numeric(out->builder, column, f->text, f->len);
}

static kp_status quote_normalize(void *state, const kp_event *ev, const kp_output *out,
                                 char *err, size_t err_cap) {
    const quote_state *st = state;
    if (st == NULL || ev == NULL || out == NULL || out->api == NULL ||
        ev->struct_size < offsetof(kp_event, payload_len) + sizeof(ev->payload_len) ||
        out->api->struct_size < offsetof(kp_builder_api, set_null) + sizeof(out->api->set_null) ||
        out->api->add_tag == NULL || out->api->set_event_time_ns == NULL || out->api->begin_row == NULL ||
        out->api->set_text == NULL || out->api->set_numeric == NULL || out->api->set_null == NULL) {
        set_err(err, err_cap, "quote: called with an incomplete event or builder");
        return KP_ERR_INTERNAL;
    }
    if (ev->schema_version != 1) {
        set_err(err, err_cap, "quote: schema version %u not supported (1..1)", (unsigned)ev->schema_version);
        return KP_ERR_UNSUPPORTED_VERSION;
    }
    if (ev->payload_json == NULL || !starts_object(ev->payload_json, ev->payload_len)) {
        set_err(err, err_cap, "payload: not a JSON object");
        return KP_ERR_INVALID_PAYLOAD;
    }

    /* Validate everything first, then emit: a rejected event leaves no partial output. */
    char venue[QUOTE_MAX_IDENT], symbol[QUOTE_MAX_IDENT];
    size_t venue_len = 0, symbol_len = 0;
    kp_status s;
    if ((s = read_ident(st, ev, "venue", venue, sizeof venue, &venue_len, err, err_cap)) != KP_OK ||
        (s = read_ident(st, ev, "symbol", symbol, sizeof symbol, &symbol_len, err, err_cap)) != KP_OK) {
        return s;
    }
    decimal_field bid_price, bid_size, ask_price, ask_size;
    if ((s = read_decimal(st, ev, "bid_price", KIND_PRICE, &bid_price, err, err_cap)) != KP_OK ||
        (s = read_decimal(st, ev, "bid_size", KIND_SIZE, &bid_size, err, err_cap)) != KP_OK ||
        (s = read_decimal(st, ev, "ask_price", KIND_PRICE, &ask_price, err, err_cap)) != KP_OK ||
        (s = read_decimal(st, ev, "ask_size", KIND_SIZE, &ask_size, err, err_cap)) != KP_OK) {
        return s;
    }
    if (bid_price.present != bid_size.present) {
        set_err(err, err_cap, bid_price.present ? "missing field: bid_size (bid_price needs it)"
                                                : "missing field: bid_price (bid_size needs it)");
        return KP_ERR_INVALID_PAYLOAD;
    }
    if (ask_price.present != ask_size.present) {
        set_err(err, err_cap, ask_price.present ? "missing field: ask_size (ask_price needs it)"
                                                : "missing field: ask_price (ask_size needs it)");
        return KP_ERR_INVALID_PAYLOAD;
    }
    if (!bid_price.present && !ask_price.present) {
        set_err(err, err_cap, "payload: a quote needs a bid (bid_price, bid_size) or an ask (ask_price, ask_size)");
        return KP_ERR_INVALID_PAYLOAD;
    }
    int has_ts = 0;
    int64_t ts_ns = 0;
    if ((s = read_exchange_ts(st, ev, &has_ts, &ts_ns, err, err_cap)) != KP_OK) {
        return s;
    }

    const kp_builder_api *api = out->api;
    kp_builder *b = out->builder;
    EMIT(api->add_tag(b, "core.venue", 10, venue, venue_len), "tag core.venue");
    EMIT(api->add_tag(b, "core.symbol", 11, symbol, symbol_len), "tag core.symbol");
    if (has_ts) {
        EMIT(api->set_event_time_ns(b, ts_ns), "exchange_ts");
    }
    EMIT(api->begin_row(b), "a new row");
    EMIT(api->set_text(b, COL_VENUE, venue, venue_len), "column venue");
    EMIT(api->set_text(b, COL_SYMBOL, symbol, symbol_len), "column symbol");
    EMIT(set_decimal_column(out, COL_BID_PRICE, &bid_price), "column bid_price");
    EMIT(set_decimal_column(out, COL_BID_SIZE, &bid_size), "column bid_size");
    EMIT(set_decimal_column(out, COL_ASK_PRICE, &ask_price), "column ask_price");
    EMIT(set_decimal_column(out, COL_ASK_SIZE, &ask_size), "column ask_size");
    return KP_OK;
}

static void quote_destroy(void *state) {
    quote_state *st = state;
    if (st == NULL) {
        return;
    }
    /* The services table is valid until destroy returns, so a last line is still allowed. */
    log_line(st, KP_LOG_DEBUG, "quote plugin state released");
    free(st);
}

/* ---- the descriptor and the one exported symbol -------------------------------------------- */

static const kp_plugin_descriptor quote_descriptor = {
    .abi_major = KP_ABI_MAJOR,
    .abi_minor = KP_ABI_MINOR,
    .struct_size = sizeof(kp_plugin_descriptor),
    .flags = KP_PLUGIN_THREAD_SAFE,
    .name = "quote",
    .version = "1.0.0",
#if defined(__clang__)
    .build_info = "C11, clang " __clang_version__,
#elif defined(__GNUC__)
    .build_info = "C11, gcc " __VERSION__,
#else
    .build_info = "C11",
#endif
    .families = quote_families,
    .family_count = 1,
    .init = quote_init,
    .normalize = quote_normalize,
    .normalize_batch = NULL,
    .destroy = quote_destroy,
};

KP_EXPORT const kp_plugin_descriptor *kernel_plugin_entry_v1(void);

KP_EXPORT const kp_plugin_descriptor *kernel_plugin_entry_v1(void) { return &quote_descriptor; }
