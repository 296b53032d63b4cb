import Foundation
@testable import KernelSSH
import KernelCrypto
import KernelTestSupport

/// Runs a program and returns its exit status and output.
@discardableResult
func run(_ program: String, _ arguments: [String], stdin: Data? = nil) -> (status: Int32, out: Data, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    do { try process.run() } catch { return (-1, Data(), "\(error)") }
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try? input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, outData, String(decoding: errData, as: UTF8.self))
}

/// Real OpenSSH material made by `ssh-keygen` in a temporary folder.
final class SSHMaterial: Sendable {
    let dir: String

    init() {
        dir = NSTemporaryDirectory() + "kernelssh-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    /// Generates a key pair; returns the private key path (the public key is `path.pub`).
    func key(_ name: String, type: String, bits: Int? = nil) -> String {
        let path = "\(dir)/\(name)"
        if FileManager.default.fileExists(atPath: path) { return path }
        var args = ["-q", "-t", type, "-N", "", "-C", "\(name)@test", "-f", path]
        if let bits { args += ["-b", String(bits)] }
        let r = run("/usr/bin/ssh-keygen", args)
        precondition(r.status == 0, "ssh-keygen failed: \(r.err)")
        return path
    }

    /// The public key line of a key made by `key`.
    func publicLine(_ path: String) -> String {
        try! String(contentsOfFile: path + ".pub", encoding: .utf8)
    }

    /// Certifies `keyPath.pub` with `caPath`; returns the certificate line, or nil if ssh-keygen
    /// refused (its stderr in `lastError`).
    func certify(_ keyPath: String, ca caPath: String, id: String = "test-id", principals: [String] = ["producer"],
                 validity: String? = nil, host: Bool = false, options: [String] = [], signatureAlgorithm: String? = nil,
                 serial: UInt64 = 7, name: String) -> String? {
        // Copy the public key so every certificate gets its own `-cert.pub` file.
        let pub = "\(dir)/\(name).pub"
        try? FileManager.default.removeItem(atPath: pub)
        try! FileManager.default.copyItem(atPath: keyPath + ".pub", toPath: pub)
        let args = SSHKeygenArguments.certify(pub, ca: caPath, id: id, serial: serial, principals: principals, validity: validity,
                                              host: host, options: options, signatureAlgorithm: signatureAlgorithm)
        let r = run("/usr/bin/ssh-keygen", args)
        guard r.status == 0 else { return nil }
        return try? String(contentsOfFile: "\(dir)/\(name)-cert.pub", encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }
}

/// Keys and certificates shared by the tests (RSA generation is slow: make everything once).
struct Fixture: Sendable {
    let material = SSHMaterial()
    /// CA name → private key path.
    let cas: [String: String]
    let user: String
    let userECDSA: String
    let otherCA: String

    static let shared = Fixture()

    init() {
        cas = [
            "ed25519": material.key("ca-ed25519", type: "ed25519"),
            "ecdsa256": material.key("ca-ecdsa256", type: "ecdsa", bits: 256),
            "ecdsa384": material.key("ca-ecdsa384", type: "ecdsa", bits: 384),
            "ecdsa521": material.key("ca-ecdsa521", type: "ecdsa", bits: 521),
            "rsa3072": material.key("ca-rsa3072", type: "rsa", bits: 3072),
        ]
        user = material.key("user", type: "ed25519")
        userECDSA = material.key("user-ecdsa", type: "ecdsa", bits: 256)
        otherCA = material.key("ca-other", type: "ed25519")
    }

    func caKey(_ name: String) -> SSHPublicKey {
        try! SSHPublicKey.parse(authorizedKeysLine: material.publicLine(cas[name] ?? otherCA))
    }

    /// A user certificate for the Ed25519 user key signed by the Ed25519 CA, valid forever.
    func basicCert(name: String = "basic", principals: [String] = ["producer"], options: [String] = []) -> String {
        material.certify(user, ca: cas["ed25519"]!, principals: principals, validity: "always:forever",
                         options: options, name: name)!
    }
}

/// Splits a certificate line into (type, blob, comment) for tampering.
func splitLine(_ line: String) -> (type: String, blob: [UInt8], rest: String) {
    let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
    return (String(parts[0]), Base64.standardDecode(Array(parts[1].utf8))!, parts.count > 2 ? String(parts[2]) : "")
}

func joinLine(_ type: String, _ blob: [UInt8], _ rest: String = "") -> String {
    "\(type) \(Base64.standardEncode(blob))\(rest.isEmpty ? "" : " " + rest)"
}
