import Directory
import Foundation
import GRDB
import MailDomain
import XCTest
@testable import Policy
@testable import Register

final class ExceptionTests: XCTestCase {
    private let now = TestPolicy.now

    private func grant(_ id: Int64, controls: [String]?, expiresIn days: Double, revoked: Bool = false, decidedDaysAgo: Double = 1,
                       supersedes: [Int64] = []) -> ExceptionGrant {
        ExceptionGrant(id: id, memberId: "3", memberName: "C", controls: controls, reason: "r", decidedBy: "Monitoring Officer",
                       decidedAt: now.addingTimeInterval(-decidedDaysAgo * 86_400), expires: now.addingTimeInterval(days * 86_400),
                       supersedes: supersedes, revocation: revoked ? .init(id: 99, reason: "no", decidedBy: "MO", decidedAt: now) : nil)
    }

    private static let passedAssessment = AssessmentRecord(organisation: "C Council", domains: ["c.test"], passed: true,
                                                           assessedAt: TestPolicy.now, validUntil: TestPolicy.now.addingTimeInterval(86_400 * 300),
                                                           assessor: "ICT")

    private func evaluate(_ grants: [ExceptionGrant], assessment: AssessmentRecord? = ExceptionTests.passedAssessment,
                          statuses: [String: CheckStatus] = ["dmarc": .fail], at: Date? = nil) throws -> MemberResult {
        let engine = PolicyEngine(policy: try TestPolicy.demo(), mfaGroup: "cn=mfa", now: at ?? now)
        let report = DomainReport(domain: "c.test", asciiDomain: "c.test", checkedAt: now,
                                  checks: DomainChecker.checkIDs.map { CheckResult(id: $0, status: statuses[$0] ?? .pass, summary: "\($0) summary") })
        return engine.evaluate(Member(id: "3", dn: "CN=C", kind: .contact, displayName: "C", email: "c@c.test"), accountClass: .external,
                               domain: "c.test", domainReport: report, assessment: assessment, exceptions: grants)
    }

    /// The verdict rule, in order: known failures not accepted -> non-compliant; could not check
    /// -> unknown; assessment missing or lapsed -> assessment-due; all failures accepted ->
    /// exception; else compliant.
    func testAnExceptionNeverHidesAMissingLapsedOrFailedAssessment() throws {
        let dmarc = grant(1, controls: ["dmarc"], expiresIn: 30)
        let unassessed = try evaluate([dmarc], assessment: nil)
        XCTAssertEqual(unassessed.verdict, .assessmentDue, unassessed.reason)
        XCTAssertTrue(unassessed.reason.hasPrefix("Assessment due:"), unassessed.reason)
        XCTAssertTrue(unassessed.reason.contains("accepts only part"), unassessed.reason)
        XCTAssertEqual(unassessed.exception?.state, .partial)
        var lapsed = Self.passedAssessment
        lapsed.validUntil = now.addingTimeInterval(-86_400)
        XCTAssertEqual(try evaluate([dmarc], assessment: lapsed).verdict, .assessmentDue)
        var failed = Self.passedAssessment
        failed.passed = false
        failed.failedItems = ["mfa"]
        let failing = try evaluate([dmarc], assessment: failed)
        XCTAssertEqual(failing.verdict, .nonCompliant, "a failed assessment is a failure the dmarc grant does not accept")
        XCTAssertTrue(failing.reason.hasPrefix("Non-compliant:"), failing.reason)
        XCTAssertEqual(failing.exception?.uncovered, ["assessment.current"])
        // A whole-Member grant of an older register does not stand in for the assessment either.
        XCTAssertEqual(try evaluate([grant(2, controls: nil, expiresIn: 30)], assessment: nil).verdict, .assessmentDue)
        // Only a grant naming assessment.current does.
        let named = try evaluate([grant(3, controls: ["dmarc", "assessment.current"], expiresIn: 30)], assessment: nil)
        XCTAssertEqual(named.verdict, .exception, named.reason)
        XCTAssertEqual(named.exception?.wouldBe, .nonCompliant)
        let onlyAssessment = try evaluate([grant(4, controls: ["assessment.current"], expiresIn: 30)], assessment: nil, statuses: [:])
        XCTAssertEqual(onlyAssessment.verdict, .exception)
        XCTAssertEqual(onlyAssessment.exception?.wouldBe, .assessmentDue)
        // Could not check comes before assessment-due, after known failures.
        XCTAssertEqual(try evaluate([dmarc], assessment: nil, statuses: ["dmarc": .fail, "spf": .error]).verdict, .unknown)
        XCTAssertEqual(try evaluate([], assessment: nil, statuses: ["mx": .fail, "spf": .error]).verdict, .nonCompliant)
    }

    func testGrantsTogetherAndSuperseded() throws {
        let both = try evaluate([grant(1, controls: ["dmarc"], expiresIn: 30), grant(2, controls: ["spf"], expiresIn: 60)],
                                statuses: ["dmarc": .fail, "spf": .fail])
        XCTAssertEqual(both.verdict, .exception, "two live grants together accept both failures")
        XCTAssertEqual(both.exception?.grants.map(\.id).sorted(), [1, 2])
        // #2 renews #1 for dmarc but has already ended: #1 no longer counts for dmarc.
        let renewed = try evaluate([grant(1, controls: ["dmarc"], expiresIn: 60, decidedDaysAgo: 10),
                                    grant(2, controls: ["dmarc"], expiresIn: -1, decidedDaysAgo: 5, supersedes: [1])])
        XCTAssertEqual(renewed.verdict, .nonCompliant, "a superseded grant does not come back")
    }

    func testJudgingAnEarlierDayUsesOnlyWhatWasDecidedByThen() throws {
        let decidedLater = grant(1, controls: ["dmarc"], expiresIn: 30, decidedDaysAgo: 1)
        XCTAssertEqual(try evaluate([decidedLater], at: now.addingTimeInterval(-3 * 86_400)).verdict, .nonCompliant,
                       "a grant decided after the day judged did not exist then")
        let revokedToday = grant(2, controls: ["dmarc"], expiresIn: 30, revoked: true, decidedDaysAgo: 10)
        XCTAssertEqual(try evaluate([revokedToday], at: now.addingTimeInterval(-3 * 86_400)).verdict, .exception,
                       "a revocation made after the day judged did not apply then")
        XCTAssertEqual(try evaluate([revokedToday]).verdict, .nonCompliant)
    }

    func testACompliantMemberIsNotToldOfOldExceptions() throws {
        let result = try evaluate([grant(1, controls: ["dmarc"], expiresIn: -1, decidedDaysAgo: 40)], statuses: [:])
        XCTAssertEqual(result.verdict, .compliant)
        XCTAssertFalse(result.reason.contains("exception"), result.reason)
        XCTAssertTrue(result.reason.contains("C Council's mail system (c.test)"), result.reason)
    }

    func testAFindingThatCouldNotBeCheckedGetsAdviceAboutTheFailure() throws {
        let result = try evaluate([], statuses: ["dmarc": .error])
        let dmarc = try XCTUnwrap(result.findings.first { $0.control == "dmarc" })
        XCTAssertTrue(dmarc.advice?.contains("Re-run the audit") == true, dmarc.advice ?? "")
        XCTAssertFalse(dmarc.advice?.contains("Publish") == true, "never the fix for an absent record")
        XCTAssertEqual(CouldNotCheck.cause(of: "The DMARC record could not be read: Timeout was reached (curl 28)."), "a look-up timed out")
        XCTAssertEqual(CouldNotCheck.cause(of: "The MX records could not be read: SERVFAIL."), "the domain's name servers did not answer (SERVFAIL)")
        XCTAssertEqual(CouldNotCheck.cause(of: "The TLS-RPT record could not be read: weird."), "the TLS-RPT record could not be read")
        let down = try evaluate([], statuses: ["spf": .error])
        XCTAssertFalse(down.reason.contains("curl"), down.reason)
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
        XCTAssertEqual(partial.exception?.state, .notCovering, "spf does not fail: the grant accepts nothing failing")
        let part = try evaluate([grant(1, controls: ["spf"], expiresIn: 30)], statuses: ["dmarc": .fail, "spf": .fail])
        XCTAssertEqual(part.verdict, .nonCompliant)
        XCTAssertEqual(part.exception?.state, .partial)
        XCTAssertEqual(part.exception?.uncovered, ["dmarc"])
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
    private func database(_ path: String) throws -> DatabaseQueue { try DatabaseQueue(path: path) }

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
        let stored = try register.recordAssessment(StoredAssessment(organisation: "C Council", domains: ["c.test", "c2.test"], memberId: "m1",
                                                                   memberName: "M", itContact: "IT", assessor: "ICT",
                                                                   startedAt: now, completedAt: now, passed: false, failedItems: ["devices"],
                                                                   answers: draft.answers, evidence: ["mx: pass"], validUntil: now.addingTimeInterval(86_400)))
        XCTAssertEqual(stored.id, 1)
        XCTAssertNil(try register.draft(memberId: "m1"), "recording removes the draft in the same transaction")
        XCTAssertEqual(try register.assessments().last?.failedItems, ["devices"])
        XCTAssertEqual(try register.assessments().last?.domains, ["c.test", "c2.test"], "the domains it covers")
        XCTAssertThrowsError(try database(path).write { try $0.execute(sql: "DELETE FROM assessmentDomain") })
        let database = try database(path)
        XCTAssertThrowsError(try database.write { try $0.execute(sql: "UPDATE assessment SET passed = 1") })
        XCTAssertThrowsError(try database.write { try $0.execute(sql: "DELETE FROM assessment") })
        try register.saveDraft(draft)
        try register.discardDraft(memberId: "m1")
        XCTAssertNil(try register.draft(memberId: "m1"))
    }
}

/// One assessment of an organisation's mail system covers every Member on its domains.
final class AssessmentCoverageTests: XCTestCase {
    private let now = TestPolicy.now

    private func assessment(_ id: Int64, domains: [String], passed: Bool = true, daysAgo: Double, memberId: String = "m1",
                            scope: AssessmentRecord.Scope = .organisation) -> AssessmentRecord {
        AssessmentRecord(id: id, scope: scope, organisation: "Fenland DC", domains: domains, memberId: memberId, passed: passed,
                         assessedAt: now.addingTimeInterval(-daysAgo * 86_400), validUntil: now.addingTimeInterval(300 * 86_400),
                         assessor: "ICT", failedItems: passed ? [] : ["mfa"])
    }

    func testEveryMemberOnACoveredDomainIsCovered() {
        let coverage = AssessmentCoverage([assessment(1, domains: ["fenland.test", "fenland2.test"], daysAgo: 10)], memberQuestions: [], asOf: now)
        XCTAssertEqual(coverage.assessment(memberId: "m1", domain: "fenland.test")?.id, 1)
        XCTAssertEqual(coverage.assessment(memberId: "m2", domain: "fenland.test")?.id, 1, "a second councillor of the same council")
        XCTAssertEqual(coverage.assessment(memberId: "m3", domain: "fenland2.test")?.id, 1, "the council's other domain")
        XCTAssertNil(coverage.assessment(memberId: "m4", domain: "other.test"))
        XCTAssertNil(coverage.assessment(memberId: "m4", domain: nil))
    }

    func testTheLatestAssessmentKnownOnTheDayJudgedStands() {
        let records = [assessment(1, domains: ["f.test"], daysAgo: 100), assessment(2, domains: ["f.test"], passed: false, daysAgo: 5)]
        XCTAssertEqual(AssessmentCoverage(records, memberQuestions: [], asOf: now).assessment(memberId: "m", domain: "f.test")?.passed, false,
                       "a later failed assessment replaces an earlier pass")
        XCTAssertEqual(AssessmentCoverage(records, memberQuestions: [], asOf: now.addingTimeInterval(-10 * 86_400))
                        .assessment(memberId: "m", domain: "f.test")?.id, 1, "judged before the failure, the earlier pass stands")
        XCTAssertNil(AssessmentCoverage(records, memberQuestions: [], asOf: now.addingTimeInterval(-200 * 86_400))
                        .assessment(memberId: "m", domain: "f.test"), "before any assessment, none counts")
    }

    func testQuestionsAboutAMembersOwnAccountAreAskedPerMember() throws {
        let organisation = assessment(1, domains: ["f.test"], daysAgo: 10, memberId: "m1")
        let coverage = AssessmentCoverage([organisation], memberQuestions: ["own-mfa"], asOf: now)
        XCTAssertEqual(coverage.assessment(memberId: "m1", domain: "f.test")?.pendingMemberQuestions, [], "answered for the Member assessed")
        XCTAssertEqual(coverage.assessment(memberId: "m2", domain: "f.test")?.pendingMemberQuestions, ["own-mfa"])
        let own = assessment(2, domains: [], passed: false, daysAgo: 5, memberId: "m2", scope: .member)
        let answered = AssessmentCoverage([organisation, own], memberQuestions: ["own-mfa"], asOf: now).assessment(memberId: "m2", domain: "f.test")
        XCTAssertEqual(answered?.pendingMemberQuestions, [])
        XCTAssertEqual(answered?.passed, false, "the Member's own answers failed")
        let engine = PolicyEngine(policy: try TestPolicy.demo(), mfaGroup: nil, now: now)
        let pending = try XCTUnwrap(coverage.assessment(memberId: "m2", domain: "f.test"))
        let report = DomainReport(domain: "f.test", asciiDomain: "f.test", checkedAt: now,
                                  checks: DomainChecker.checkIDs.map { CheckResult(id: $0, status: .pass, summary: $0) })
        let result = engine.evaluate(Member(id: "m2", dn: "CN=M2", kind: .contact, email: "m2@f.test"), accountClass: .external,
                                     domain: "f.test", domainReport: report, assessment: pending)
        XCTAssertEqual(result.verdict, .assessmentDue)
        XCTAssertTrue(result.reason.contains("own-mfa"), result.reason)
    }
}

/// A register written before organisations were assessed opens, and its assessments cover
/// the assessed Member's domain.
final class RegisterMigrationTests: XCTestCase {
    func testAnAssessmentRecordedForAMemberCoversTheirDomain() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("old.sqlite").path
        // The register as the three earlier migrations left it, with one run and one assessment.
        let old = try DatabaseQueue(path: path)
        try old.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1: audit runs'), ('v2: exception decisions'), ('v3: assessments');
                CREATE TABLE auditRun (id INTEGER PRIMARY KEY AUTOINCREMENT, startedAt DATETIME NOT NULL, policyFile TEXT NOT NULL,
                    policyHash TEXT NOT NULL, directorySource TEXT NOT NULL, memberCount INTEGER NOT NULL, summary TEXT NOT NULL);
                CREATE TABLE auditRunMember (runId INTEGER NOT NULL REFERENCES auditRun(id) ON DELETE CASCADE, memberId TEXT NOT NULL,
                    name TEXT NOT NULL, accountClass TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL,
                    failingControls TEXT NOT NULL, PRIMARY KEY (runId, memberId));
                CREATE TABLE exceptionDecision (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, memberId TEXT NOT NULL,
                    memberName TEXT NOT NULL, controls TEXT, reason TEXT NOT NULL, decidedBy TEXT NOT NULL, decidedAt DATETIME NOT NULL,
                    expires DATETIME, revokes INTEGER REFERENCES exceptionDecision(id));
                CREATE TRIGGER exceptionDecisionNoUpdate BEFORE UPDATE ON exceptionDecision BEGIN SELECT RAISE(ABORT, 'no'); END;
                CREATE TABLE assessment (id INTEGER PRIMARY KEY AUTOINCREMENT, memberId TEXT NOT NULL, memberName TEXT NOT NULL,
                    domain TEXT NOT NULL, assessor TEXT NOT NULL, startedAt DATETIME NOT NULL, completedAt DATETIME NOT NULL,
                    passed BOOLEAN NOT NULL, failedItems TEXT NOT NULL, answers TEXT NOT NULL, evidence TEXT NOT NULL,
                    validUntil DATETIME NOT NULL);
                CREATE TRIGGER assessmentNoUpdate BEFORE UPDATE ON assessment BEGIN SELECT RAISE(ABORT, 'no'); END;
                CREATE TABLE assessmentDraft (memberId TEXT NOT NULL PRIMARY KEY, draft TEXT NOT NULL);
                INSERT INTO auditRun (startedAt, policyFile, policyHash, directorySource, memberCount, summary)
                    VALUES ('2026-11-01 12:00:00.000', 'p', 'h', 's', 1, '{}');
                INSERT INTO auditRunMember VALUES (1, 'm1', 'M', 'external', 'assessment-due', 'r', '[]');
                INSERT INTO assessment (memberId, memberName, domain, assessor, startedAt, completedAt, passed, failedItems, answers,
                    evidence, validUntil) VALUES ('m1', 'M', 'council.test', 'ICT', '2026-11-02 10:00:00.000', '2026-11-02 10:10:00.000',
                    1, '[]', '[]', '[]', '2027-11-02 10:10:00.000');
                """)
        }
        try old.close()
        let register = try AuditRegister(path: path)
        let migrated = try XCTUnwrap(try register.assessments().first)
        XCTAssertEqual(migrated.domains, ["council.test"])
        XCTAssertEqual(migrated.scope, .organisation)
        let coverage = AssessmentCoverage(try register.assessments().map(\.record), memberQuestions: [], asOf: TestPolicy.now)
        XCTAssertEqual(coverage.assessment(memberId: "another", domain: "council.test")?.id, migrated.id)
        XCTAssertEqual(try register.runs().first?.backdated, false)
        XCTAssertEqual(try register.previousRun()?.entries.first?.verdict, .assessmentDue)
        XCTAssertEqual(try register.integrityCheck(), "ok")
    }
}
