import Foundation
import KernelRedis
import KernelTestSupport
import Testing

/// The hiredis shim (`Sources/CHiredis/shim.h`) compiles against hiredis 0.14 and 1.x and picks
/// the right reply-object table for each (docs/platform-notes.md, "hiredis 0.14 and 1.x"). The C
/// compiler checks it against the system's headers (0.14 on Debian 12) and against the real 1.2.0
/// headers kept (vendored as released) in `Tests/Fixtures/vendor/hiredis-1.2.0`; static assertions
/// in the probe say which version and which table were compiled. What this does not prove:
/// linking and running against a 1.x library; `make hiredis1-check` builds one and runs the Redis
/// suites on it.
@Suite("hiredis shim: version guard")
struct HiredisShimTests {
    static let shimDir = Repository.root.path + "/Sources/CHiredis"
    static let headers1x = Repository.root.path + "/Tests/Fixtures/vendor/hiredis-1.2.0/include"

    struct Compile { var status: Int32; var output: String }

    /// `cc -fsyntax-only` of a probe that includes the shim, with `flags`; the probe's static
    /// assertions check what was compiled.
    static func compile(_ probe: String, flags: [String]) throws -> Compile {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dk-shim-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try probe.write(toFile: dir + "/probe.c", atomically: true, encoding: .utf8)
        let cc = ProcessInfo.processInfo.environment["CC"] ?? "cc"
        let (status, output) = try Command.run("/usr/bin/env", [cc, "-std=c11", "-Wall", "-Wextra", "-Werror",
                                                               "-Wno-unused-function", "-fsyntax-only"] + flags + ["-I", shimDir, dir + "/probe.c"])
        return Compile(status: status, output: output)
    }

    /// Asserts the hiredis major version and the number of slots in the shim's table.
    static func probe(major: Int, slots: Int, tls: Int) -> String {
        """
        #include "shim.h"
        _Static_assert(HIREDIS_MAJOR == \(major), "hiredis major version");
        _Static_assert(sizeof(dk_arena_functions) == \(slots) * sizeof(void (*)(void)), "reply-object table slots");
        _Static_assert(DK_HIREDIS_HAS_TLS == \(tls), "TLS compiled in");
        int main(void) { return 0; }

        """
    }

    /// Debian 12's is 0.14 (five slots); a system with 1.x gets seven.
    @Test func compilesAgainstTheSystemHiredis() throws {
        let probe = """
            #include "shim.h"
            #if HIREDIS_MAJOR >= 1
            _Static_assert(sizeof(dk_arena_functions) == 7 * sizeof(void (*)(void)), "1.x table");
            #else
            _Static_assert(HIREDIS_MAJOR == 0 && HIREDIS_MINOR == 14, "0.14");
            _Static_assert(sizeof(dk_arena_functions) == 5 * sizeof(void (*)(void)), "0.14 table");
            #endif
            _Static_assert(DK_HIREDIS_HAS_TLS == 0, "no TLS without DK_HIREDIS_SSL");
            int main(void) { return 0; }

            """
        let result = try Self.compile(probe, flags: [])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func compilesAgainstHiredis12WithItsSevenSlotTable() throws {
        let result = try Self.compile(Self.probe(major: 1, slots: 7, tls: 0), flags: ["-I", Self.headers1x])
        #expect(result.status == 0, "\(result.output)")
    }

    /// The TLS half (hiredis_ssl.h, OpenSSL, the kernel's own handshake with name checks)
    /// compiles against 1.2.0's headers.
    @Test func theTLSHalfCompilesAgainstHiredis12() throws {
        let result = try Self.compile(Self.probe(major: 1, slots: 7, tls: 1), flags: ["-I", Self.headers1x, "-DDK_HIREDIS_SSL"])
        #expect(result.status == 0, "\(result.output)")
    }

    /// Asking for TLS with a hiredis before 1.0 stops the build with the reason, not with a
    /// missing header or a wrong call deep in the TLS code.
    @Test func tlsWithHiredis014StopsTheBuildSayingWhy() throws {
        let old = try Self.fakeHiredis(major: 0, minor: 14)
        defer { try? FileManager.default.removeItem(atPath: old) }
        let result = try Self.compile(Self.probe(major: 0, slots: 5, tls: 1), flags: ["-I", old, "-DDK_HIREDIS_SSL"])
        #expect(result.status != 0)
        #expect(result.output.contains("DK_HIREDIS_SSL needs hiredis >= 1.0"), "\(result.output)")
    }

    @Test func aHiredisOlderThan014IsRefused() throws {
        let old = try Self.fakeHiredis(major: 0, minor: 13)
        defer { try? FileManager.default.removeItem(atPath: old) }
        let result = try Self.compile(Self.probe(major: 0, slots: 5, tls: 0), flags: ["-I", old])
        #expect(result.status != 0)
        #expect(result.output.contains("hiredis >= 0.14 is required"), "\(result.output)")
    }

    /// An include folder whose `hiredis/hiredis.h` is the system's with the version numbers
    /// replaced: only the guards look at them.
    static func fakeHiredis(major: Int, minor: Int) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dk-hiredis-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/hiredis", withIntermediateDirectories: true)
        let header = """
            #include_next <hiredis/hiredis.h>
            #undef HIREDIS_MAJOR
            #undef HIREDIS_MINOR
            #define HIREDIS_MAJOR \(major)
            #define HIREDIS_MINOR \(minor)

            """
        try header.write(toFile: dir + "/hiredis/hiredis.h", atomically: true, encoding: .utf8)
        return dir
    }
}
