import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PKI made with the `openssl` command, for the TLS tests of Redis and Postgres: a CA,
/// a server certificate it signed (for `localhost` and 127.0.0.1 unless told otherwise), a client
/// certificate it signed, and a second CA that signed nothing the servers present (the wrong CA).
/// EC P-256 keys, valid for two days. `remove()` deletes the folder.
public struct TestCertificates: Sendable {
    public let dir: String
    public var caFile: String { dir + "/ca.pem" }
    public var otherCAFile: String { dir + "/other-ca.pem" }
    public var serverCertFile: String { dir + "/server.pem" }
    public var serverKeyFile: String { dir + "/server.key" }
    public var clientCertFile: String { dir + "/client.pem" }
    public var clientKeyFile: String { dir + "/client.key" }

    /// `serverNames`: the server certificate's subjectAltName entries (`DNS:…`, `IP:…`).
    public init(serverNames: [String] = ["DNS:localhost", "IP:127.0.0.1"]) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("dk-pki-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["ca", "other-ca"] {
            try Self.openssl(["req", "-x509"] + key + ["-keyout", "\(dir)/\(ca).key", "-out", "\(dir)/\(ca).pem",
                              "-days", "2", "-subj", "/CN=dk-test-\(ca)"])
        }
        try "subjectAltName=\(serverNames.joined(separator: ","))\nextendedKeyUsage=serverAuth\n"
            .write(toFile: dir + "/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: dir + "/client.ext", atomically: true, encoding: .utf8)
        for (name, subject) in [("server", "/CN=dk-test-server"), ("client", "/CN=dk-test-kernel")] {
            try Self.openssl(["req"] + key + ["-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr", "-subj", subject])
            try Self.openssl(["x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", caFile, "-CAkey", "\(dir)/ca.key",
                              "-CAcreateserial", "-out", "\(dir)/\(name).pem", "-days", "2", "-extfile", "\(dir)/\(name).ext"])
        }
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func openssl(_ arguments: [String]) throws {
        let (status, output) = try Command.run("openssl", arguments)
        guard status == 0 else {
            throw TestCertificatesError(message: "openssl \(arguments.joined(separator: " ")): " + output)
        }
    }

}

public struct TestCertificatesError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
