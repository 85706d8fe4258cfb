import Foundation
import GRDB
import Policy

/// A finished 10-minute assessment as the register keeps it.
public struct StoredAssessment: Codable, Sendable, Equatable {
    public var id: Int64
    public var memberId: String
    public var memberName: String
    public var domain: String
    public var assessor: String
    public var startedAt: Date
    public var completedAt: Date
    public var passed: Bool
    public var failedItems: [String]
    public var answers: [AssessmentAnswer]
    /// The domain checks seen, one line each ("dmarc: pass — DMARC enforces p=reject ...").
    public var evidence: [String]
    public var validUntil: Date

    public init(id: Int64, memberId: String, memberName: String, domain: String, assessor: String, startedAt: Date, completedAt: Date,
                passed: Bool, failedItems: [String], answers: [AssessmentAnswer], evidence: [String], validUntil: Date) {
        self.id = id; self.memberId = memberId; self.memberName = memberName; self.domain = domain; self.assessor = assessor
        self.startedAt = startedAt; self.completedAt = completedAt; self.passed = passed; self.failedItems = failedItems
        self.answers = answers; self.evidence = evidence; self.validUntil = validUntil
    }

    public var record: AssessmentRecord {
        AssessmentRecord(passed: passed, assessedAt: completedAt, validUntil: validUntil, assessor: assessor, failedItems: failedItems)
    }
}

/// An assessment in progress: saved after every answer, so that Ctrl-C or a crash loses at
/// most the answer being typed, and the assessment can be resumed or discarded.
public struct AssessmentDraft: Codable, Sendable, Equatable {
    public var memberId: String
    public var memberName: String
    public var assessor: String
    public var startedAt: Date
    public var answers: [AssessmentAnswer]

    public init(memberId: String, memberName: String, assessor: String, startedAt: Date, answers: [AssessmentAnswer]) {
        self.memberId = memberId; self.memberName = memberName; self.assessor = assessor; self.startedAt = startedAt; self.answers = answers
    }
}

extension AuditRegister {
    static func registerAssessmentMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3: assessments") { db in
            try db.create(table: "assessment") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("memberId", .text).notNull().indexed()
                table.column("memberName", .text).notNull()
                table.column("domain", .text).notNull()
                table.column("assessor", .text).notNull()
                table.column("startedAt", .datetime).notNull()
                table.column("completedAt", .datetime).notNull()
                table.column("passed", .boolean).notNull()
                table.column("failedItems", .text).notNull()   // JSON
                table.column("answers", .text).notNull()       // JSON
                table.column("evidence", .text).notNull()      // JSON
                table.column("validUntil", .datetime).notNull()
            }
            try db.execute(sql: """
                CREATE TRIGGER assessmentNoUpdate BEFORE UPDATE ON assessment
                BEGIN SELECT RAISE(ABORT, 'assessments are never edited: assess again'); END;
                CREATE TRIGGER assessmentNoDelete BEFORE DELETE ON assessment
                BEGIN SELECT RAISE(ABORT, 'assessments are never deleted'); END;
                """)
            try db.create(table: "assessmentDraft") { table in
                table.primaryKey("memberId", .text)
                table.column("draft", .text).notNull()          // JSON of AssessmentDraft
            }
        }
    }

    public func saveDraft(_ draft: AssessmentDraft) throws {
        let text = String(decoding: try Self.encoder.encode(draft), as: UTF8.self)
        try writing("the unfinished assessment could not be saved") { db in
            try db.execute(sql: "INSERT OR REPLACE INTO assessmentDraft (memberId, draft) VALUES (?, ?)", arguments: [draft.memberId, text])
        }
    }

    public func draft(memberId: String) throws -> AssessmentDraft? {
        try reading { db in
            guard let text = try String.fetchOne(db, sql: "SELECT draft FROM assessmentDraft WHERE memberId = ?", arguments: [memberId]) else { return nil }
            return try Self.decoder.decode(AssessmentDraft.self, from: Data(text.utf8))
        }
    }

    public func discardDraft(memberId: String) throws {
        try writing("the unfinished assessment could not be discarded") { db in
            try db.execute(sql: "DELETE FROM assessmentDraft WHERE memberId = ?", arguments: [memberId])
        }
    }

    /// Stores the finished assessment and removes its draft, together or not at all.
    @discardableResult
    public func recordAssessment(_ assessment: StoredAssessment) throws -> StoredAssessment {
        try writing("the assessment could not be recorded (nothing was written)") { db in
            try db.execute(sql: """
                INSERT INTO assessment (memberId, memberName, domain, assessor, startedAt, completedAt, passed, failedItems, answers, evidence, validUntil)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [assessment.memberId, assessment.memberName, assessment.domain, assessment.assessor,
                                 assessment.startedAt, assessment.completedAt, assessment.passed,
                                 String(decoding: try Self.encoder.encode(assessment.failedItems), as: UTF8.self),
                                 String(decoding: try Self.encoder.encode(assessment.answers), as: UTF8.self),
                                 String(decoding: try Self.encoder.encode(assessment.evidence), as: UTF8.self),
                                 assessment.validUntil])
            var stored = assessment
            stored.id = db.lastInsertedRowID
            try db.execute(sql: "DELETE FROM assessmentDraft WHERE memberId = ?", arguments: [assessment.memberId])
            return stored
        }
    }

    /// Every assessment, oldest first.
    public func assessments() throws -> [StoredAssessment] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM assessment ORDER BY id").map { row in
                let failed: String = row["failedItems"], answers: String = row["answers"], evidence: String = row["evidence"]
                let id: Int64 = row["id"], memberId: String = row["memberId"], memberName: String = row["memberName"]
                let domain: String = row["domain"], assessor: String = row["assessor"]
                let startedAt: Date = row["startedAt"], completedAt: Date = row["completedAt"], validUntil: Date = row["validUntil"]
                let passed: Bool = row["passed"]
                return StoredAssessment(id: id, memberId: memberId, memberName: memberName, domain: domain, assessor: assessor,
                                        startedAt: startedAt, completedAt: completedAt, passed: passed,
                                        failedItems: try Self.decoder.decode([String].self, from: Data(failed.utf8)),
                                        answers: try Self.decoder.decode([AssessmentAnswer].self, from: Data(answers.utf8)),
                                        evidence: try Self.decoder.decode([String].self, from: Data(evidence.utf8)),
                                        validUntil: validUntil)
            }
        }
    }

    /// Each Member's most recent assessment, as the audit judges it.
    public func latestAssessments() throws -> [String: AssessmentRecord] {
        var latest: [String: AssessmentRecord] = [:]
        for assessment in try assessments() { latest[assessment.memberId] = assessment.record }
        return latest
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
