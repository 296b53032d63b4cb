/// Why an admin request was refused (HTTP 401, empty body). `code` is the stable reason code of
/// the log line and of `kernel_admin_denied_total{reason}`; `detail` is for the log only.
struct AdminDenial: Error, Sendable, Equatable {
    enum Code: String, Sendable {
        /// `auth.admin_ssh_ca` is unset or unparseable: every admin request is refused.
        case adminCANotConfigured = "admin_ca_not_configured"
        /// TLS is configured and the client presented no certificate.
        case clientCertificateMissing = "mtls_client_cert_missing"
        /// The client certificate's CN/DNS SANs match no `auth.admin_allowed_subjects` entry.
        case clientSubjectNotAllowed = "mtls_subject_not_allowed"
        /// `X-SSH-Cert`/`X-Admin-Cert`, `X-Admin-Nonce` or `X-Admin-Signature` missing or empty.
        case missingHeaders = "missing_auth_headers"
        /// The nonce was used before (within 5 minutes).
        case replay = "nonce_replay"
        /// The nonce could not be recorded in Redis (fail closed).
        case nonceStoreUnavailable = "nonce_store_unavailable"
        /// The OpenSSH certificate failed an admin certificate check of docs/admin.md, "Admin authentication" (`detail` has the certificate reason).
        case certificateRefused = "certificate_refused"
        /// `X-SSH-Principal` is not among the certificate's principals or differs from `auth.admin_principal`.
        case principalMismatch = "principal_mismatch"
        /// The certificate's `source-address` option excludes the peer address.
        case sourceAddressMismatch = "source_address_mismatch"
        /// The Ed25519 signature over the admin signing string does not verify.
        case badSignature = "bad_signature"
        /// A method the endpoint does not serve (401 like any other failure).
        case methodNotAllowed = "method_not_allowed"
        /// The body exceeds the admin request limit.
        case bodyTooLarge = "body_too_large"
    }

    let code: Code
    let detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}

/// An admin request that passed every check.
struct AdminIdentity: Sendable, Equatable {
    /// The acting principal (`X-SSH-Principal` when sent, else the certificate's first principal):
    /// logged and stored as `reviewer`.
    let principal: String
    let keyID: String
    let serial: UInt64
    let fingerprint: String
}
