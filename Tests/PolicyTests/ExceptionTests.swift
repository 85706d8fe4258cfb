import Directory
import Foundation
import GRDB
import MailDomain
import XCTest
@testable import Policy
@testable import Register

final class ExceptionTests: XCTestCase {
    private let now = TestPolicy.now

    private func grant(_ id: Int64, controls: [String]?, expiresIn days: Double, revoked: Bool = false) -> ExceptionGrant {
        ExceptionGrant(id: id, memberId: "3", memberName: "C", controls: controls, reason: "r", decidedBy: "Monitoring Officer",
                       decidedAt: now.addingTimeInterval(-86_400), expires: now.addingTimeInterval(days * 86_400),
                       revocation: revoked ? .init(id: 99, reason: "no", decidedBy: "MO", decidedAt: now) : nil)
    }

    private func evaluate(_ grants: [ExceptionGrant]) throws -> MemberResult {
        let engine = PolicyEngine(policy: try TestPolicy.demo(), mfaGroup: "cn=mfa", now: now)
        let report = DomainReport(domain: "c.test", asciiDomain: "c.test", checkedAt: now,
                                  checks: DomainChecker.checkIDs.map { CheckResult(id: $0, status: $0 == "dmarc" ? .fail : .pass, summary: "\($0)") })
        let passed = AssessmentRecord(passed: true, assessedAt: now, validUntil: now.addingTimeInterval(86_400 * 300), assessor: "ICT")
        return engine.evaluate(Member(id: "3", dn: "CN=C", kind: .contact, displayName: "C", email: "c@c.test"), accountClass: .external,
                               domain: "c.test", domainReport: report, assessment: passed, exceptions: grants)
    }

    func testALiveGrantCoveringEveryFailureIsAnException() throws {
        let result = try evaluate([grant(1, controls: ["dmarc"], expiresIn: 30)])
        XCTAssertEqual(result.verdict, .exception)
        XCTAssertEqual(result.exception?.wouldBe, .nonCompliant)
        XCTAssertEqual(try evaluate([grant(1, controls: nil, expiresIn: 30)]).verdict, .exception, "a whole-Member grant")
    }

    func testGrantsThatDoNotApply() throws {
        let partial = try evaluate([grant(1, controls: ["spf"], expiresIn: 30)])
        XCTAssertEqual(partial.verdict, .nonCompliant)
        XCTAssertEqual(partial.exception?.state, .notCovering)
        let expired = try evaluate([grant(1, controls: ["dmarc"], expiresIn: -1)])
        XCTAssertEqual(expired.verdict, .nonCompliant)
        XCTAssertEqual(expired.exception?.state, .expired)
        XCTAssertTrue(expired.reason.contains("expired on"))
        let revoked = try evaluate([grant(1, controls: ["dmarc"], expiresIn: 30, revoked: true)])
        XCTAssertEqual(revoked.verdict, .nonCompliant)
        XCTAssertEqual(revoked.exception?.state, .revoked)
    }

    func testDecisionsAreAppendOnly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("exceptions-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("r.sqlite").path
        let register = try AuditRegister(path: path)
        let first = try register.grant(memberId: "3", memberName: "C", controls: ["dmarc"], reason: "migrating", decidedBy: "MO",
                                       at: now, expires: now.addingTimeInterval(86_400 * 60))
        let revoked = try register.revoke(first.id, reason: "done", decidedBy: "MO", at: now)
        XCTAssertEqual(revoked.revocation?.reason, "done")
        XCTAssertEqual(revoked.reason, "migrating", "the grant is kept as decided")
        XCTAssertThrowsError(try register.revoke(first.id, reason: "again", decidedBy: "MO", at: now), "no second revocation")
        XCTAssertThrowsError(try register.revoke(42, reason: "x", decidedBy: "MO", at: now), "no such exception")
        // The database itself refuses edits and deletions.
        let database = try DatabaseQueue(path: path)
        XCTAssertThrowsError(try database.write { try $0.execute(sql: "UPDATE exceptionDecision SET reason = 'edited'") })
        XCTAssertThrowsError(try database.write { try $0.execute(sql: "DELETE FROM exceptionDecision") })
        XCTAssertEqual(try register.export().exceptionDecisions.count, 1)
    }
}

final class AssessmentStoreTests: XCTestCase {
    func testDraftsAndAppendOnlyAssessments() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("assessments-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("r.sqlite").path
        let register = try AuditRegister(path: path)
        let now = TestPolicy.now
        let answer = AssessmentAnswer(question: "mfa", value: .yes, source: .assessor, note: "CA policy")
        var draft = AssessmentDraft(memberId: "m1", memberName: "M", assessor: "ICT", startedAt: now, answers: [answer])
        try register.saveDraft(draft)
        draft.answers.append(AssessmentAnswer(question: "devices", value: .no, source: .assessor, note: nil))
        try register.saveDraft(draft)
        XCTAssertEqual(try register.draft(memberId: "m1"), draft, "the latest save wins")
        let stored = try register.recordAssessment(StoredAssessment(id: 0, memberId: "m1", memberName: "M", domain: "c.test", assessor: "ICT",
                                                                   startedAt: now, completedAt: now, passed: false, failedItems: ["devices"],
                                                                   answers: draft.answers, evidence: ["mx: pass"], validUntil: now.addingTimeInterval(86_400)))
        XCTAssertEqual(stored.id, 1)
        XCTAssertNil(try register.draft(memberId: "m1"), "recording removes the draft in the same transaction")
        XCTAssertEqual(try register.latestAssessments()["m1"]?.failedItems, ["devices"])
        let database = try DatabaseQueue(path: path)
        XCTAssertThrowsError(try database.write { try $0.execute(sql: "UPDATE assessment SET passed = 1") })
        XCTAssertThrowsError(try database.write { try $0.execute(sql: "DELETE FROM assessment") })
        try register.saveDraft(draft)
        try register.discardDraft(memberId: "m1")
        XCTAssertNil(try register.draft(memberId: "m1"))
    }
}
