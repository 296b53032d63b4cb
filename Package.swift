// swift-tools-version: 6.1
// Data Kernel: Redis Streams → normalizer plugins → Postgres. See docs/architecture.md for the map.
import PackageDescription

let package = Package(
    name: "DataKernel",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kernel", targets: ["kernel"]),
        .executable(name: "kernel-bench", targets: ["kernel-bench"]),
        .executable(name: "producer-example", targets: ["ProducerExample"]),
        .library(name: "KernelPluginSDK", targets: ["KernelPluginSDK"]),
        .library(name: "KernelPluginTesting", targets: ["KernelPluginTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // The admin HTTP API (issue 6). Default traits off: no swift-configuration, no full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries, as system-library shims.
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis"),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),

        // The plugin boundary: one C header, and the Swift SDK over it.
        .target(name: "KernelPluginABI", path: "Sources/KernelPluginABI"),
        .target(name: "KernelJSON"),
        .target(name: "KernelPluginSDK", dependencies: ["KernelPluginABI", "KernelJSON"]),
        // The conformance kit plugin authors run from their tests (loads the .so like the kernel).
        .target(name: "KernelPluginTesting", dependencies: [
            "KernelPlugins", "KernelJSON", "KernelRuntime", .product(name: "Logging", package: "swift-log"),
        ]),

        // The kernel, in small modules with one job each.
        // The runtime every stage uses: threads, the bounded queue, locks with stable addresses,
        // semaphore, stop flag, clocks and sleeping.
        .target(name: "KernelRuntime"),
        // The kernel's JSON log lines and their bounded sink (docs/admin.md, "Logs").
        .target(name: "KernelLogging", dependencies: ["KernelJSON", "KernelRuntime", .product(name: "Logging", package: "swift-log")]),
        // Process lifecycle: shutdown and reload signals, systemd notifications.
        .target(name: "KernelLifecycle", dependencies: ["KernelRuntime"]),
        // The crypto toolkit: the one Base64, the SSH wire reader, libcrypto keys, signatures, digests.
        .target(name: "KernelCrypto", dependencies: ["COpenSSL"]),
        .target(name: "KernelEvents", dependencies: ["KernelJSON"]),
        .target(name: "KernelStore", dependencies: [
            "KernelCrypto", "KernelPostgres", "KernelSchema", "KernelEvents", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "KernelConfig", dependencies: ["KernelRuntime", "KernelJSON", "KernelCrypto", .product(name: "Yams", package: "Yams")]),
        .target(name: "KernelAuth", dependencies: ["COpenSSL", "KernelCrypto", "KernelJSON", "KernelEvents"]),
        // OpenSSH certificates, SSH keys, fingerprints and producer signatures (libcrypto).
        .target(name: "KernelSSH", dependencies: ["KernelCrypto", "KernelJSON"]),
        .target(name: "KernelPostgres", dependencies: [
            "CLibPQ", "KernelCrypto", "KernelJSON", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "KernelRedis", dependencies: [
            "CHiredis", .product(name: "Logging", package: "swift-log"),
        ], linkerSettings: [.linkedLibrary("hiredis")]),   // replaced below for DK_HIREDIS_PREFIX
        // Schema families, columns, values and tags: the vocabulary the plugin host and the store share.
        .target(name: "KernelSchema"),
        .target(name: "KernelPlugins", dependencies: [
            "KernelPluginABI", "KernelJSON", "KernelEvents", "KernelPluginSDK", "KernelSchema", "KernelRuntime", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: [
            // The builder callbacks mutate the collector's arrays a dozen times per event; the
            // runtime exclusivity checks on those class properties cost ~5 % of the host's time.
            // Compile-time exclusivity checking still applies.
            .unsafeFlags(["-enforce-exclusivity=unchecked"]),
        ]),
        // The filesystem spill: segment files of CRC32C-framed records (Postgres outages only).
        .target(name: "KernelSpill", dependencies: [
            "KernelStore", "KernelSchema", "KernelEvents", "KernelRuntime", .product(name: "Logging", package: "swift-log"),
        ]),
        // Producer onboarding over the control streams: registration, token exchange, subjects.
        .target(name: "KernelOnboarding", dependencies: [
            "KernelRuntime", "KernelSSH", "KernelAuth", "KernelCrypto", "KernelJSON", "KernelRedis", "KernelPostgres", "KernelEvents",
            "KernelPlugins", .product(name: "Logging", package: "swift-log"),
        ]),
        // The release version and the git commit built (`kernel --version`, `kernel_build_info`).
        .target(name: "KernelVersion", plugins: ["GitCommit"]),
        // Writes the commit into KernelVersion before every build (runs git; "unknown" without it).
        .plugin(name: "GitCommit", capability: .buildTool(), path: "BuildTools/GitCommit"),
                // Every metric of docs/admin.md, "Metrics", registered at start-up, rendered in Prometheus text.
        .target(name: "KernelMetrics", dependencies: [
            "KernelVersion",
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // The admin HTTP API, /metrics, /healthz, /readyz (Hummingbird).
        .target(name: "KernelAdmin", dependencies: [
            "KernelRuntime", "KernelSSH", "KernelAuth", "KernelCrypto", "KernelJSON", "KernelRedis", "KernelPostgres", "KernelMetrics",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "KernelCore", dependencies: [
            "KernelRuntime", "KernelConfig", "KernelPostgres", "KernelRedis", "KernelPlugins", "KernelJSON", "KernelEvents", "KernelStore",
            "KernelAuth", "KernelSpill", "KernelOnboarding", "KernelAdmin", "KernelMetrics", "KernelLogging", "KernelLifecycle",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "kernel", dependencies: [
            "KernelCore", "KernelLifecycle", "KernelLogging", "KernelConfig", "KernelPostgres", "KernelPlugins", "KernelAuth", "KernelSpill", "KernelAdmin",
            "KernelRedis", "KernelEvents", "KernelJSON", "KernelOnboarding", "KernelVersion", "KernelStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // `make bench`: prints measurements, asserts nothing.
        .executableTarget(name: "kernel-bench", dependencies: [
            "KernelCore", "KernelSpill", "KernelStore", "KernelPlugins", "KernelJSON", "KernelAuth", "KernelConfig", "KernelPostgres", "KernelRedis", "KernelEvents",
            "KernelRuntime", .product(name: "Logging", package: "swift-log"),
        ]),

        // The example producer (issue 7): register, wait for approval, exchange a token, register
        // subjects, publish market events.
        .executableTarget(name: "ProducerExample", dependencies: [
            "KernelSSH", "KernelAuth", "KernelJSON", "KernelRedis", "KernelEvents",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // `make fuzz`: bounded-time fuzzing of the parsers of untrusted bytes.
        .executableTarget(name: "kernel-fuzz", dependencies: ["KernelSSH", "KernelAuth", "KernelJSON", "KernelConfig", "KernelEvents", "KernelRuntime"]),

        // The example plugins are their own package (Plugins/Package.swift), built through the
        // standalone SDK package (sdk/Package.swift) as an author's plugin is: `make plugins`.

        // Tests mirror Sources.
        // Shared by the test targets: a seeded generator, throwaway Postgres databases, the local
        // Redis Cluster (finding it, its topology, the lock). Only test targets depend on it.
        .target(name: "KernelTestSupport", dependencies: ["KernelPostgres", "KernelRedis", "KernelRuntime", .product(name: "Logging", package: "swift-log")],
                path: "Tests/KernelTestSupport"),
        .testTarget(name: "KernelJSONTests", dependencies: ["KernelTestSupport", "KernelJSON"]),
        .testTarget(name: "KernelEventsTests", dependencies: ["KernelTestSupport", "KernelEvents", "KernelJSON"]),
        .testTarget(name: "KernelConfigTests", dependencies: ["KernelTestSupport", "KernelConfig", "KernelCrypto"]),
        .testTarget(name: "KernelAuthTests", dependencies: ["KernelTestSupport", "KernelAuth", "KernelCrypto", "KernelJSON", "KernelEvents"]),
        .testTarget(name: "KernelCryptoTests", dependencies: ["KernelCrypto"]),
        .testTarget(name: "KernelRuntimeTests", dependencies: ["KernelRuntime"]),
        .testTarget(name: "KernelSSHTests", dependencies: ["KernelTestSupport", "KernelSSH", "KernelCrypto", "KernelJSON"]),
        .testTarget(name: "KernelPostgresTests", dependencies: ["KernelTestSupport", "KernelPostgres", "KernelConfig"]),
        .testTarget(name: "KernelStoreTests", dependencies: ["KernelTestSupport", "KernelStore", "KernelPostgres", "KernelPlugins", "KernelEvents"]),
        .testTarget(name: "IngestTests", dependencies: [
            "KernelTestSupport", "KernelCore", "KernelSpill", "KernelStore", "KernelConfig", "KernelPostgres", "KernelRedis", "KernelEvents", "KernelAuth", "KernelPlugins", "KernelSSH",
            "KernelVersion",
            .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "KernelSpillTests", dependencies: ["KernelTestSupport", "KernelSpill", "KernelStore", "KernelPlugins", "KernelEvents"]),
        .testTarget(name: "OnboardingTests", dependencies: [
            "KernelTestSupport", "KernelOnboarding", "KernelSSH", "KernelAuth", "KernelCrypto", "KernelJSON", "KernelRedis", "KernelPostgres", "KernelConfig",
            "KernelCore", "KernelEvents", "KernelPlugins", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AdminTests", dependencies: [
            "KernelAdmin", "KernelMetrics", "KernelTestSupport", "KernelSSH", "KernelAuth", "KernelJSON", "KernelRedis", "KernelPostgres", "KernelConfig",
            "KernelCore", "KernelVersion",
            .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "KernelRedisTests", dependencies: ["KernelTestSupport", "KernelRedis"]),
        .testTarget(name: "KernelPluginSDKTests", dependencies: ["KernelPluginSDK"]),
        .testTarget(name: "KernelPluginsTests", dependencies: [
            "KernelPlugins", "KernelPluginABI", "KernelPluginTesting", "KernelJSON", "KernelPluginSDK", "KernelTestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)

// hiredis: the system's (Debian 12: 0.14, no TLS) unless the build's environment says otherwise
// (docs/platform-notes.md, "hiredis 0.14 and 1.x"):
//   DK_HIREDIS_PREFIX=/opt/hiredis   another install: headers from <prefix>/include, libraries from <prefix>/lib
//   DK_HIREDIS_SSL=1                 TLS to Redis (hiredis >= 1.0 with hiredis_ssl; `make hiredis1-check`)
// Every Swift target gets the same -I and -D: a target importing KernelRedis loads the CHiredis
// module too, and it must see the headers KernelRedis was compiled against. The prefix's
// libraries are linked by path: a `-lhiredis` would find the system's first, because libpq's
// and libcrypto's pkg-config flags put -L/usr/lib/<triple> ahead of any -L of ours.
let hiredisPrefix = Context.environment["DK_HIREDIS_PREFIX"].flatMap { $0.isEmpty ? nil : $0 }
let hiredisSSL = Context.environment["DK_HIREDIS_SSL"] == "1"
var hiredisCFlags: [String] = []
if let prefix = hiredisPrefix { hiredisCFlags += ["-Xcc", "-I\(prefix)/include"] }
if hiredisSSL { hiredisCFlags += ["-Xcc", "-DDK_HIREDIS_SSL"] }
if !hiredisCFlags.isEmpty {
    for target in package.targets where target.type == .regular || target.type == .executable || target.type == .test {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(hiredisCFlags)]
    }
}
if let redis = package.targets.first(where: { $0.name == "KernelRedis" }) {
    let libraries = hiredisPrefix.map { "\($0)/lib" }
    var settings: [LinkerSetting] = []
    if let libraries {
        settings.append(.unsafeFlags(["-Xlinker", "\(libraries)/libhiredis.so", "-Xlinker", "-rpath", "-Xlinker", libraries]
                                     + (hiredisSSL ? ["-Xlinker", "\(libraries)/libhiredis_ssl.so"] : [])))
    } else {
        settings.append(.linkedLibrary("hiredis"))
        if hiredisSSL { settings.append(.linkedLibrary("hiredis_ssl")) }
    }
    if hiredisSSL { settings += [.linkedLibrary("ssl"), .linkedLibrary("crypto")] }
    redis.linkerSettings = settings
}
