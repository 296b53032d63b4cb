import KernelConfig
import Testing

/// `server.deployment`: production unless the file says development; nothing else is accepted,
/// since it decides whether the certificate flow can be skipped (`kernel dev producer`).
@Suite struct DeploymentTests {
    @Test func productionUnlessSaidOtherwise() throws {
        #expect(try Fixture.parse(Fixture.yaml()).server.deployment == .production)
        #expect(try Fixture.parse(Fixture.yaml(["server": ["deployment: development"]])).server.deployment == .development)
    }

    @Test func anotherWordIsRefused() {
        let issues = Fixture.issues(Fixture.yaml(["server": ["deployment: dev"]]))
        #expect(Fixture.issue(at: "server.deployment", in: issues)?.message.contains("production or development") == true, "\(issues)")
    }
}
