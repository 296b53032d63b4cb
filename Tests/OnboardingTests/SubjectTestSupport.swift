import Foundation
import KernelAuth
import KernelJSON
@testable import KernelOnboarding
import KernelPlugins
import KernelSSH

/// One approved producer on a fresh harness, and helpers to run subject and schema-upgrade
/// requests through the handlers and read what they answered and stored.
final class SubjectFixture {
    let h: OnboardingHarness
    let settings: OnboardingSettings
    let producer: ProducerIdentity
    let producerID: String
    let families: @Sendable () -> [FamilyDescriptor]
    let context: ControlContext

    /// - Parameters:
    ///   - authYAML: extra `auth:` lines (e.g. rpm 1 / burst 1); default: a rate limit high
    ///     enough never to interfere.
    ///   - keyStatus: the producer key's status.
    ///   - families: what the handlers see as loaded plugin families.
    init(authYAML: [String]? = nil, keyStatus: String = "approved",
         families: @escaping @Sendable () -> [FamilyDescriptor] = { [] }) throws {
        h = try OnboardingHarness()
        h.authYAML = authYAML ?? ["registration_rate_limit_rpm: 60000", "registration_rate_limit_burst: 1000"]
        settings = try h.settings()
        producer = try h.producerIdentity()
        producerID = try h.insertKey(producer, status: keyStatus)
        self.families = families
        context = try h.context(settings: settings)
    }

    func tearDown() {
        context.redis.close()
        h.tearDown()
    }

    /// Runs one signed subject request (`payload` as sent) through a new handler; returns every
    /// response now on `subject:resp:<producer_id>`.
    @discardableResult
    func subject(_ payload: String, nonce: String = OnboardingHarness.nonce(), as identity: ProducerIdentity? = nil,
                 fields: [(String, String)]? = nil) throws -> [[String: String]] {
        let fields = try fields ?? OnboardingHarness.signedFields(identity ?? producer, payload: payload, nonce: nonce)
        SubjectRegistrationHandler(settings: settings, families: families)
            .handle(OnboardingHarness.message(fields), context: context)
        return try responses()
    }

    /// The newest response after one more subject request; fails when none was added.
    func last(_ payload: String, nonce: String = OnboardingHarness.nonce()) throws -> [String: String] {
        let before = try responses().count
        let after = try subject(payload, nonce: nonce)
        guard after.count == before + 1, let newest = after.last else {
            throw HarnessError("expected one new response, had \(before), now \(after.count)")
        }
        return newest
    }

    /// Runs one signed schema-upgrade request through a new handler; returns every response on
    /// `subject:resp:<producer_id>`.
    @discardableResult
    func schemaUpgrade(_ payload: String, nonce: String = OnboardingHarness.nonce(),
                       as identity: ProducerIdentity? = nil) throws -> [[String: String]] {
        let fields = try OnboardingHarness.signedFields(identity ?? producer, payload: payload, nonce: nonce)
        SchemaUpgradeHandler(settings: settings, families: families)
            .handle(OnboardingHarness.message(fields), context: context)
        return try responses()
    }

    func responses() throws -> [[String: String]] {
        try h.responses("subject:resp:" + producerID)
    }

    /// A register payload.
    static func register(_ key: String, _ name: String, body: String, attrs: String? = nil) -> String {
        #"{"op":"register","subject_key":"\#(key)","schema_name":"\#(name)","schema_body":\#(body)"#
            + (attrs.map { #","attrs":\#($0)"# } ?? "") + "}"
    }

    /// An upgrade payload.
    static func upgrade(_ key: String, _ name: String, delta: String, attrsDelta: String? = nil) -> String {
        #"{"op":"upgrade","subject_key":"\#(key)","schema_name":"\#(name)","schema_delta":\#(delta)"#
            + (attrsDelta.map { #","attrs_delta":\#($0)"# } ?? "") + "}"
    }

    // MARK: database views

    func currentSchema(of key: String) throws -> String? {
        try h.scalar("SELECT current_schema_id::text FROM subjects WHERE subject_key = $1", [key])
    }

    /// True when the stored body of `schemaID` equals `json` as jsonb.
    func body(of schemaID: String, equals json: String) throws -> Bool {
        try h.scalar("SELECT (body = $2::jsonb)::text FROM schemas WHERE schema_id = $1::uuid", [schemaID, json]) == "true"
    }

    func attrsEqual(_ key: String, _ json: String) throws -> Bool {
        try h.scalar("SELECT (attrs = $2::jsonb)::text FROM subjects WHERE subject_key = $1", [key, json]) == "true"
    }

    func isBound(_ subjectID: String, producer: String? = nil) throws -> Bool {
        try h.count("SELECT count(*) FROM producer_subjects WHERE producer_id = $1::uuid AND subject_id = $2::uuid",
                    [producer ?? producerID, subjectID]) == 1
    }

    func historyCount(_ subjectID: String) throws -> Int {
        try h.count("SELECT count(*) FROM subject_schemas WHERE subject_id = $1::uuid", [subjectID])
    }

    func cachedSchema(_ subjectID: String) throws -> String? {
        try h.redis.command(["GET", h.prefix + "schemas:" + subjectID]).text
    }

    /// Signs raw payload bytes (for invalid UTF-8) the way a producer would.
    static func sign(bytes: [UInt8], nonce: String, keyPath: String) throws -> String {
        let key = try Ed25519PrivateKey(openSSHFile: keyPath)
        return Data(key.sign(ProducerSignature.signingBytes(payload: bytes, nonce: nonce))).base64EncodedString()
    }
}
