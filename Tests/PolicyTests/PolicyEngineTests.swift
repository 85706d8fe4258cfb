import ConfigFile
import Directory
import Foundation
import MailDomain
import XCTest
@testable import Policy

/// The shipped demo policy, loaded once.
enum TestPolicy {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func demo() throws -> MemberEmailPolicy { try MemberEmailPolicy.load(file: root.appendingPathComponent("examples/demo-policy.yaml").path) }
    static let now = ISO8601DateFormatter().date(from: "2026-11-22T12:00:00Z")!
}

final class PolicyEngineTests: XCTestCase {
    private func report(_ statuses: [String: CheckStatus]) -> DomainReport {
        DomainReport(domain: "council.test", asciiDomain: "council.test", checkedAt: TestPolicy.now,
                     checks: DomainChecker.checkIDs.map { CheckResult(id: $0, status: statuses[$0] ?? .pass, summary: "\($0) summary") })
    }

    private func account(_ configure: (inout AccountState) -> Void = { _ in }) -> Member {
        var state = AccountState()
        state.enabled = true; state.locked = false; state.expired = false
        state.lastLogon = TestPolicy.now.addingTimeInterval(-2 * 86_400)
        configure(&state)
        return Member(id: "1", dn: "CN=A", kind: .account, displayName: "A", email: "a@cpca.test", account: state,
                      groups: ["CN=MFA Enforced,OU=Groups,DC=cpca,DC=test"])
    }

    private func engine() throws -> PolicyEngine {
        PolicyEngine(policy: try TestPolicy.demo(), mfaGroup: "cn=mfa enforced, ou=groups, dc=cpca, dc=test", now: TestPolicy.now)
    }

    func testOrganisationAccounts() throws {
        let engine = try engine()
        let good = engine.evaluate(account(), accountClass: .organisation, domain: "cpca.test", domainReport: report([:]), assessment: nil)
        XCTAssertEqual(good.verdict, .compliant, good.reason)
        XCTAssertEqual(engine.evaluate(account { $0.enabled = false }, accountClass: .organisation, domain: nil, domainReport: nil, assessment: nil).verdict,
                       .nonCompliant)
        let stale = engine.evaluate(account { $0.lastLogon = TestPolicy.now.addingTimeInterval(-100 * 86_400); $0.lastLogonMayLagDays = 14 },
                                    accountClass: .organisation, domain: nil, domainReport: nil, assessment: nil)
        XCTAssertEqual(stale.verdict, .compliant, "100 days is within 90 + 14 days of replication lag")
        let reallyStale = engine.evaluate(account { $0.lastLogon = TestPolicy.now.addingTimeInterval(-120 * 86_400); $0.lastLogonMayLagDays = 14 },
                                          accountClass: .organisation, domain: nil, domainReport: nil, assessment: nil)
        XCTAssertEqual(reallyStale.verdict, .nonCompliant)
        var noMFA = account()
        noMFA.groups = []
        XCTAssertEqual(engine.evaluate(noMFA, accountClass: .organisation, domain: nil, domainReport: nil, assessment: nil).verdict, .nonCompliant)
        let unknownState = engine.evaluate(account { $0.enabled = nil }, accountClass: .organisation, domain: nil, domainReport: nil, assessment: nil)
        XCTAssertEqual(unknownState.verdict, .unknown, "the directory did not say: never silently compliant")
        let mustChange = engine.evaluate(account { $0.mustChangePassword = true }, accountClass: .organisation, domain: nil, domainReport: nil, assessment: nil)
        XCTAssertEqual(mustChange.verdict, .compliant)
        XCTAssertEqual(mustChange.findings.first { $0.control == "account.password" }?.status, .warn)
        // Advised domain controls are reported, never judged.
        let weakDomain = engine.evaluate(account(), accountClass: .organisation, domain: "cpca.test", domainReport: report(["dmarc": .fail]), assessment: nil)
        XCTAssertEqual(weakDomain.verdict, .compliant)
        XCTAssertEqual(weakDomain.findings.first { $0.control == "dmarc" }?.required, false)
    }

    func testExternalAccounts() throws {
        let engine = try engine()
        let contact = Member(id: "2", dn: "CN=B", kind: .contact, displayName: "B", email: "b@council.test")
        let passed = AssessmentRecord(passed: true, assessedAt: TestPolicy.now.addingTimeInterval(-30 * 86_400),
                                      validUntil: TestPolicy.now.addingTimeInterval(300 * 86_400), assessor: "ICT")
        XCTAssertEqual(engine.evaluate(contact, accountClass: .external, domain: "council.test", domainReport: report([:]), assessment: nil).verdict,
                       .assessmentDue, "no assessment on record is never compliant")
        XCTAssertEqual(engine.evaluate(contact, accountClass: .external, domain: "council.test", domainReport: report([:]), assessment: passed).verdict,
                       .compliant)
        var lapsed = passed
        lapsed.validUntil = TestPolicy.now.addingTimeInterval(-86_400)
        XCTAssertEqual(engine.evaluate(contact, accountClass: .external, domain: "council.test", domainReport: report([:]), assessment: lapsed).verdict,
                       .assessmentDue)
        var failed = passed
        failed.passed = false
        XCTAssertEqual(engine.evaluate(contact, accountClass: .external, domain: "council.test", domainReport: report([:]), assessment: failed).verdict,
                       .nonCompliant)
        let noDMARC = engine.evaluate(contact, accountClass: .external, domain: "council.test", domainReport: report(["dmarc": .notPresent]), assessment: passed)
        XCTAssertEqual(noDMARC.verdict, .nonCompliant)
        XCTAssertEqual(noDMARC.reason, "Non-compliant: dmarc summary")
        let dnsDown = engine.evaluate(contact, accountClass: .external, domain: "council.test", domainReport: report(["mx": .error, "spf": .error]), assessment: passed)
        XCTAssertEqual(dnsDown.verdict, .unknown, "a check that could not run is never compliant")
        XCTAssertTrue(dnsDown.reason.hasPrefix("Unknown: mx, spf could not be checked"), dnsDown.reason)
        let failedAndDown = engine.evaluate(contact, accountClass: .external, domain: "council.test", domainReport: report(["mx": .error, "spf": .fail]), assessment: passed)
        XCTAssertEqual(failedAndDown.verdict, .nonCompliant, "a known failure outweighs what could not be checked")
        let warnings = engine.evaluate(contact, accountClass: .external, domain: "council.test",
                                       domainReport: report(["mta-sts": .notPresent, "dmarc": .warn]), assessment: passed)
        XCTAssertEqual(warnings.verdict, .compliant, "warnings and advised controls do not fail a Member")
    }

    func testPersonalAndMissingAddresses() throws {
        let engine = try engine()
        let personal = Member(id: "3", dn: "CN=C", kind: .contact, displayName: "C", email: "c@gmail.com")
        let result = engine.evaluate(personal, accountClass: .personal, domain: "gmail.com", domainReport: nil, assessment: nil)
        XCTAssertEqual(result.verdict, .nonCompliant)
        XCTAssertTrue(result.reason.contains("personal webmail"))
        XCTAssertEqual(engine.evaluate(Member(id: "4", dn: "CN=D", kind: .contact), accountClass: .noAddress, domain: nil, domainReport: nil,
                                       assessment: nil).verdict, .nonCompliant)
    }

    func testChangesSinceThePreviousRun() {
        func result(_ id: String, _ verdict: Verdict) -> MemberResult {
            MemberResult(id: id, name: id, accountClass: .external, kind: .contact, verdict: verdict, reason: "", findings: [])
        }
        let previous = PreviousRun(at: TestPolicy.now, entries: [
            .init(id: "a", name: "a", verdict: .compliant), .init(id: "b", name: "b", verdict: .nonCompliant),
            .init(id: "c", name: "c", verdict: .assessmentDue), .init(id: "gone", name: "gone", verdict: .compliant),
        ])
        var previousEntries = previous.entries
        previousEntries.append(.init(id: "d", name: "d", verdict: .nonCompliant))
        previousEntries.append(.init(id: "e", name: "e", verdict: .exception))
        let changes = RunChanges.between(PreviousRun(at: previous.at, entries: previousEntries),
                                         and: [result("a", .nonCompliant), result("b", .compliant), result("c", .unknown), result("new", .compliant),
                                               result("d", .exception), result("e", .compliant)])
        XCTAssertEqual(changes.newlyNonCompliant.map(\.id), ["a"])
        XCTAssertEqual(changes.resolved.map(\.id), ["b", "e"], "an exception that is no longer needed is resolved")
        XCTAssertEqual(changes.nowExcepted.map(\.id), ["d"], "non-compliant to exception is not resolved: the shortfall is accepted, not fixed")
        XCTAssertEqual(changes.otherChanges.map(\.id), ["c"])
        XCTAssertEqual(changes.newMembers.map(\.id), ["new"])
        XCTAssertEqual(changes.departedMembers.map(\.id), ["gone"])
    }
}

final class PolicyFileTests: XCTestCase {
    private func write(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    private func shipped(_ path: String) throws -> String { try String(contentsOf: TestPolicy.root.appendingPathComponent(path), encoding: .utf8) }

    private func assertError(policy: String, baseline: String? = nil, line: Int, key: String, file: StaticString = #filePath, lineNumber: UInt = #line) throws {
        let folder = try write(["policy.yaml": policy, "list.txt": "gmail.com\n",
                                "baseline.yaml": try baseline ?? shipped("policies/baselines/uk-public-sector-email.yaml")])
        XCTAssertThrowsError(try MemberEmailPolicy.load(file: folder.appendingPathComponent("policy.yaml").path), file: file, line: lineNumber) { error in
            guard let error = error as? ConfigError else { return XCTFail("\(error)", file: file, line: lineNumber) }
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: lineNumber)
            XCTAssertEqual(error.key, key, "\(error)", file: file, line: lineNumber)
        }
    }

    private var validPolicy: String {
        get throws {
            try shipped("policies/cpca-member-email.yaml")
                .replacingOccurrences(of: "lists/personal-webmail-domains.txt", with: "list.txt")
                .replacingOccurrences(of: "baselines/uk-public-sector-email.yaml", with: "baseline.yaml")
        }
    }

    func testShippedPolicyLoads() throws {
        let policy = try MemberEmailPolicy.load(file: TestPolicy.root.appendingPathComponent("policies/cpca-member-email.yaml").path)
        XCTAssertEqual(policy.classes[.external]?.require, ["assessment.current", "mx", "spf", "dmarc"])
        XCTAssertEqual(policy.baseline.settings.spfMaxLookups, 10)
        XCTAssertEqual(policy.hash.count, 64)
    }

    func testUnknownControlIsRefusedWithLineAndKey() throws {
        let policy = try validPolicy.replacingOccurrences(of: "require: [assessment.current, mx, spf, dmarc]",
                                                          with: "require: [assessment.current, mx, spf, dmarcc]")
        let line = policy.components(separatedBy: "\n").firstIndex { $0.contains("dmarcc") }! + 1
        try assertError(policy: policy, line: line, key: "classes.external.require")
    }

    func testBadThresholdIsRefusedWithLineAndKey() throws {
        let baseline = try shipped("policies/baselines/uk-public-sector-email.yaml")
            .replacingOccurrences(of: "maxLookups: 10 ", with: "maxLookups: ten ")
        let line = baseline.components(separatedBy: "\n").firstIndex { $0.contains("maxLookups: ten") }! + 1
        let folder = try write(["policy.yaml": try validPolicy, "list.txt": "gmail.com\n", "baseline.yaml": baseline])
        XCTAssertThrowsError(try MemberEmailPolicy.load(file: folder.appendingPathComponent("policy.yaml").path)) { error in
            guard let error = error as? ConfigError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.file.hasSuffix("baseline.yaml"))
            XCTAssertEqual(error.line, line, "\(error)")
            XCTAssertEqual(error.key, "thresholds.spf.maxLookups")
        }
    }

    func testYAMLErrorAndMissingClass() throws {
        try assertError(policy: try validPolicy.replacingOccurrences(of: "  no-address:              # no address on record: the account in use is unknown\n    require: [email.address]\n", with: ""),
                        line: try validPolicy.components(separatedBy: "\n").firstIndex { $0.hasPrefix("classes:") }! + 2, key: "classes")
        let folder = try write(["policy.yaml": "organisation: [unclosed\n"])
        XCTAssertThrowsError(try MemberEmailPolicy.load(file: folder.appendingPathComponent("policy.yaml").path)) { error in
            XCTAssertNotNil((error as? ConfigError)?.line, "\(error)")
        }
    }
}
