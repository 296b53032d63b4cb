/// The arguments of `ssh-keygen -s`, which certifies a public key: the SSH suites and the
/// onboarding harness make their test certificates with it.
public enum SSHKeygenArguments {
    /// Certifies `publicKey` (a `.pub` path; the certificate lands beside it as `-cert.pub`) with
    /// the CA private key `ca`. `validity` is `-V` (nil: ssh-keygen's default, forever); `host`
    /// makes a host certificate; `options` are `-O` values; `signatureAlgorithm` is `-t` for RSA
    /// CAs (`rsa-sha2-256`, `rsa-sha2-512`, `ssh-rsa`).
    public static func certify(_ publicKey: String, ca: String, id: String, serial: UInt64, principals: [String],
                               validity: String?, host: Bool, options: [String], signatureAlgorithm: String?) -> [String] {
        var args = ["-q", "-s", ca, "-I", id, "-z", String(serial)]
        if !principals.isEmpty { args += ["-n", principals.joined(separator: ",")] }
        if let validity { args += ["-V", validity] }
        if host { args.append("-h") }
        for option in options { args += ["-O", option] }
        if let signatureAlgorithm { args += ["-t", signatureAlgorithm] }
        args.append(publicKey)
        return args
    }
}
