/// The files `kernel plugins new` writes. Placeholders: `__NAME__` (plugin and family name),
/// `__TYPE__` (its CamelCase), `__SDK__` (the SDK package folder), `__SDK_ID__` (its SwiftPM
/// identity: the folder's last component), `__INCLUDE__` (the C header's folder), `__KERNEL__`
/// (this kernel binary). Each skeleton builds, passes its own test and `kernel plugins check`
/// as written (PluginsNewTests builds both).
enum PluginTemplates {
    /// Payloads shared by both languages: one event the plugin stores, one it refuses.
    static let goodPayload = #"{"symbol":"AAPL","price":187.25,"size":"100","time":"2026-11-25T14:30:00.123Z"}"# + "\n"
    static let goodExpected = #"{"rows":[{"symbol":"AAPL","price":"187.25","size":"100"}],"tags":{"core.symbol":"AAPL"},"event_time_ns":1795617000123000000}"# + "\n"
    /// The C skeleton leaves the event time unset (RFC 3339 parsing is the author's to add).
    static let goodExpectedC = #"{"rows":[{"symbol":"AAPL","price":"187.25","size":"100"}],"tags":{"core.symbol":"AAPL"}}"# + "\n"
    static let badPayload = #"{"symbol":"AAPL","price":-1}"# + "\n"
    static let badExpected = "price\n"

    /// A family description both languages declare the same way.
    static let payloadSchema = #"{"type":"object","required":["symbol","price"],"properties":{"symbol":{"type":"string"},"price":{"type":["number","string"]},"size":{"type":["number","string"]},"time":{"type":"string"}}}"#

    static func swift() -> [(path: String, text: String)] {
        [
            ("Package.swift", swiftManifest),
            ("Sources/__TYPE__Plugin/__TYPE__Normalizer.swift", swiftNormalizer),
            ("Sources/__TYPE__Plugin/Export.swift", swiftExport),
            ("Tests/__TYPE__PluginTests/ConformanceTests.swift", swiftTest),
            ("Fixtures/good-example.json", goodPayload),
            ("Fixtures/good-example.expected.json", goodExpected),
            ("Fixtures/bad-negative-price.json", badPayload),
            ("Fixtures/bad-negative-price.expected.txt", badExpected),
            ("README.md", swiftReadme),
            (".gitignore", ".build/\nPackage.resolved\n"),
        ]
    }

    static func c() -> [(path: String, text: String)] {
        [
            ("__NAME__.c", cSource),
            ("Makefile", cMakefile),
            ("exports.map", exportMap),
            ("Fixtures/good-example.json", goodPayload),
            ("Fixtures/good-example.expected.json", goodExpectedC),
            ("Fixtures/bad-negative-price.json", badPayload),
            ("Fixtures/bad-negative-price.expected.txt", badExpected),
            ("README.md", cReadme),
            (".gitignore", "*.so\n"),
        ]
    }

    static let exportMap = """
        /* Linker version script: the plugin exports kernel_plugin_entry_v1 and nothing else. */
        {
          global: kernel_plugin_entry_v1;
          local: *;
        };

        """

    static let swiftManifest = #"""
        // swift-tools-version: 6.1
        // The __NAME__ normalizer plugin for Data Kernel. The SDK package applies the export map
        // (only kernel_plugin_entry_v1 is exported); nothing here needs unsafe flags.
        import PackageDescription

        let package = Package(
            name: "__TYPE__Plugin",
            products: [.library(name: "__TYPE__Plugin", type: .dynamic, targets: ["__TYPE__Plugin"])],
            dependencies: [.package(path: "__SDK__")],
            targets: [
                .target(name: "__TYPE__Plugin", dependencies: [.product(name: "KernelPluginSDK", package: "__SDK_ID__")]),
                .testTarget(name: "__TYPE__PluginTests", dependencies: [.product(name: "KernelPluginTesting", package: "__SDK_ID__")]),
            ],
            swiftLanguageModes: [.v6]
        )

        """#

    static let swiftNormalizer = #"""
        import KernelPluginSDK

        /// Normalizes `__NAME__` events such as
        /// `{"symbol":"AAPL","price":187.25,"size":"100","time":"2026-11-25T14:30:00.123Z"}`
        /// into one row of `md___NAME__`. Change the columns and the payload reading to your feed.
        final class __TYPE__Normalizer: KernelNormalizer {
            static var plugin: PluginInfo {
                PluginInfo(
                    name: "__NAME__",
                    version: "0.1.0",
                    threadSafe: true, // no mutable state
                    families: [
                        FamilySpec(
                            name: "__NAME__",
                            versions: 1...1,
                            payloadSchema: #"__SCHEMA__"#,
                            columns: [
                                Column("symbol", .text, description: "Instrument symbol."),
                                Column("price", .numeric, description: "Price, exact decimal."),
                                Column("size", .numeric, nullable: true, description: "Quantity, exact decimal."),
                            ]
                        ),
                    ]
                )
            }

            init(config: JSONValue, host: HostServices) throws(PluginError) {}

            func normalize(_ event: Event, into out: inout Output) throws(NormalizeError) {
                let payload = try event.payloadObject()
                let symbol = try payload.requiredString("symbol")
                let price = try payload.requiredDecimal("price", .positive) // a JSON number or decimal string
                let size = try payload.optionalDecimal("size", .nonNegative)
                if let time = try payload.optionalTimestamp("time") { out.setEventTime(unixNanos: time) }
                out.addTag(key: "core.symbol", value: symbol)
                out.beginRow()
                out.set("symbol", text: symbol)
                out.set("price", numeric: price)
                out.set("size", numeric: size)
            }
        }

        """#

    static let swiftExport = #"""
        import KernelPluginSDK

        /// The plugin's one exported symbol: the kernel calls it to read the plugin's descriptor.
        @_cdecl("kernel_plugin_entry_v1")
        public func kernelPluginEntry() -> UnsafeRawPointer {
            KernelPluginExport.entry(__TYPE__Normalizer.self)
        }

        """#

    static let swiftTest = #"""
        import KernelPluginTesting
        import Testing

        /// The conformance kit on the built plugin (`swift build` first): it loads the .so with the
        /// kernel's own loader, normalizes Fixtures/good-*.json and compares the rows with
        /// good-*.expected.json, checks that Fixtures/bad-*.json are refused with the message in
        /// bad-*.expected.txt, and feeds hostile variations of every good payload.
        @Suite struct ConformanceTests {
            static let root = String(#filePath[..<#filePath.firstRange(of: "/Tests/")!.lowerBound])

            @Test func passesTheConformanceKit() {
                let report = PluginConformance.run(plugin: Self.root + "/.build/debug/lib__TYPE__Plugin.so",
                                                   fixtures: Self.root + "/Fixtures")
                #expect(report.failures.isEmpty, "\(report)")
                #expect(report.checks.count > 3, "the fixtures were found and run:\n\(report)")
            }
        }

        """#

    static let swiftReadme = #"""
        # __NAME__: a Data Kernel normalizer plugin (Swift)

        Written by `kernel plugins new __NAME__ --lang swift`.

            swift build                      # .build/debug/lib__TYPE__Plugin.so
            swift test                       # the conformance kit on Fixtures/
            __KERNEL__ plugins check .build/debug/lib__TYPE__Plugin.so --sample Fixtures/good-example.json

        Install: copy the .so into the kernel's `plugins.dir` under a name starting with `.`, then
        `mv` it into place. A Swift plugin must be built with the kernel's Swift toolchain
        (`kernel --version` prints it); the kernel refuses another. The SDK package applies the
        export map: the .so exports `kernel_plugin_entry_v1` only.

        """#

    static let cSource = #"""
        /* __NAME__.c: a Data Kernel normalizer plugin for the family `__NAME__`, against kernel_plugin.h.
         * Normalizes {"symbol":"AAPL","price":187.25,"size":"100","time":"..."} into one row
         * (symbol text, price numeric, size numeric NULL-able). Change it to your feed. */
        #include "kernel_plugin.h"
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        static const kp_column columns[] = {
            {"symbol", KP_COL_TEXT, 0, NULL, "Instrument symbol."},
            {"price", KP_COL_NUMERIC, 0, NULL, "Price, exact decimal."},
            {"size", KP_COL_NUMERIC, KP_COL_NULLABLE, NULL, "Quantity, exact decimal."},
        };

        static const kp_family families[] = {{
            .struct_size = sizeof(kp_family),
            .name = "__NAME__",
            .min_version = 1,
            .max_version = 1,
            .payload_schema_json = "__SCHEMA_C__",
            .columns = columns,
            .column_count = 3,
            .max_rows_per_event = 1,
            .column_struct_size = sizeof(kp_column),
        }};

        typedef struct state { const kp_host_services *host; } state;

        static kp_status p_init(const kp_host_services *host, const char *config, size_t config_len,
                                void **st, char *err, size_t err_cap) {
            (void)config, (void)config_len;
            state *s = malloc(sizeof *s);
            if (s == NULL) { snprintf(err, err_cap, "__NAME__: out of memory"); return KP_ERR_INTERNAL; }
            s->host = host;
            *st = s;
            return KP_OK;
        }

        /* A JSON number, or a string holding decimal text: the exact text goes to the numeric column. */
        static int decimal(const kp_host_services *h, const kp_event *ev, const char *key, const char **v, size_t *n) {
            kp_json_type t = h->json_field(ev->payload_json, ev->payload_len, key, v, n);
            return t == KP_JSON_NUMBER || t == KP_JSON_STRING ? (int)t : 0;
        }

        static kp_status p_normalize(void *st, const kp_event *ev, const kp_output *out, char *err, size_t err_cap) {
            const kp_host_services *h = ((const state *)st)->host;
            const kp_builder_api *api = out->api;
            const char *symbol, *price, *size, *time;
            size_t symbol_n, price_n, size_n, time_n;
            char symbol_text[KP_TAG_MAX];

            if (h->json_field(ev->payload_json, ev->payload_len, "symbol", &symbol, &symbol_n) != KP_JSON_STRING) {
                snprintf(err, err_cap, "symbol: missing or not a string");
                return KP_ERR_INVALID_PAYLOAD;
            }
            int64_t decoded = h->json_unescape(symbol, symbol_n, symbol_text, sizeof symbol_text);
            if (decoded <= 0) { snprintf(err, err_cap, "symbol: empty or longer than %d bytes", KP_TAG_MAX); return KP_ERR_INVALID_PAYLOAD; }
            if (!decimal(h, ev, "price", &price, &price_n)) {
                snprintf(err, err_cap, "price: missing, or not a number or decimal string");
                return KP_ERR_INVALID_PAYLOAD;
            }
            size_t zeros = 0;
            while (zeros < price_n && (price[zeros] == '0' || price[zeros] == '.')) zeros++;
            if (price[0] == '-' || zeros == price_n) {
                snprintf(err, err_cap, "price: must be > 0, got %.*s", (int)(price_n > 64 ? 64 : price_n), price);
                return KP_ERR_INVALID_PAYLOAD;
            }
            int has_size = decimal(h, ev, "size", &size, &size_n);
            kp_json_type tt = h->json_field(ev->payload_json, ev->payload_len, "time", &time, &time_n);
            (void)tt; /* RFC 3339 parsing is left out of the skeleton; the envelope ts is stored anyway. */

            /* Every call copies its arguments; a refusal is remembered by the host and, once this
             * function returns an error, the message written here is what the DLQ shows. */
            if (api->add_tag(out->builder, "core.symbol", 11, symbol_text, (size_t)decoded) != KP_OK ||
                api->begin_row(out->builder) != KP_OK ||
                api->set_text(out->builder, 0, symbol_text, (size_t)decoded) != KP_OK ||
                api->set_numeric(out->builder, 1, price, price_n) != KP_OK ||
                (has_size && api->set_numeric(out->builder, 2, size, size_n) != KP_OK)) {
                snprintf(err, err_cap, "price or size: not decimal text the kernel accepts");
                return KP_ERR_INVALID_PAYLOAD;
            }
            return KP_OK;
        }

        static void p_destroy(void *st) { free(st); }

        static const kp_plugin_descriptor descriptor = {
            .abi_major = KP_ABI_MAJOR, .abi_minor = KP_ABI_MINOR, .struct_size = sizeof(kp_plugin_descriptor),
            .flags = KP_PLUGIN_THREAD_SAFE, /* the state is read-only after init */
            .name = "__NAME__", .version = "0.1.0", .build_info = "cc, C11",
            .families = families, .family_count = 1,
            .init = p_init, .normalize = p_normalize, .normalize_batch = NULL, .destroy = p_destroy,
        };

        KP_EXPORT const kp_plugin_descriptor *kernel_plugin_entry_v1(void) { return &descriptor; }

        """#

    static let cMakefile = """
        # The __NAME__ plugin: `make` builds lib__NAME__.so from the header alone; `make test` runs the
        # kernel's own checks on it (a good sample stored, a bad one refused with its message).
        KERNEL ?= __KERNEL__
        KERNEL_INCLUDE ?= __INCLUDE__
        CC ?= cc
        CFLAGS ?= -std=c11 -O2 -Wall -Wextra -Werror

        lib__NAME__.so: __NAME__.c exports.map
        \t$(CC) $(CFLAGS) -shared -fPIC -I $(KERNEL_INCLUDE) -Wl,--version-script=exports.map -o $@ __NAME__.c

        test: lib__NAME__.so
        \t$(KERNEL) plugins check ./lib__NAME__.so --sample Fixtures/good-example.json
        \t@out=$$($(KERNEL) plugins check ./lib__NAME__.so --sample Fixtures/bad-negative-price.json 2>&1); status=$$?; \\
        \techo "$$out"; [ $$status -ne 0 ] && echo "$$out" | grep -qF "$$(cat Fixtures/bad-negative-price.expected.txt)" && \\
        \techo "OK   the bad sample was refused with its message"

        .PHONY: test

        """

    static let cReadme = """
        # __NAME__: a Data Kernel normalizer plugin (C)

        Written by `kernel plugins new __NAME__ --lang c`. Needs only a C compiler and kernel_plugin.h.

            make          # lib__NAME__.so, exporting kernel_plugin_entry_v1 only (exports.map)
            make test     # kernel plugins check with Fixtures/good-example.json, and the bad one refused

        Install: copy the .so into the kernel's `plugins.dir` under a name starting with `.`, then `mv`
        it into place. A C plugin works with any kernel of the same ABI major, whatever compiler built it.

        """
}
