/// Why the example producer stopped. `code` is the stable reason printed on exit.
struct ProducerError: Error, CustomStringConvertible {
    enum Code: String {
        case badKey = "bad_key"
        case badCertificate = "bad_certificate"
        case redis = "redis_error"
        /// The kernel answered the registration with a final refusal (denied, invalid_cert, …).
        case registrationRefused = "registration_refused"
        case noToken = "no_token"
        case subjectRefused = "subject_refused"
        case interrupted = "interrupted"
    }

    let code: Code
    let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { "\(code.rawValue): \(message)" }
}
