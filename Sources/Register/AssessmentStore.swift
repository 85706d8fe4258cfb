import Foundation
import GRDB
import Policy

/// A finished 10-minute assessment as the register keeps it: the organisation's mail system
/// (every Member on the domains it names is covered), or, for a checklist with questions about
/// a Member's own account, one Member's answers to those.
public struct StoredAssessment: Codable, Sendable, Equatable {
    public var id: Int64
    public var scope: AssessmentRecord.Scope
    public var organisation: String
    /// The mail domains covered (A-labels); empty for a Member's own answers.
    public var domains: [String]
    /// The Member it was carried out for or through ("" when it named domains only).
    public var memberId: String
    public var memberName: String
    public var itContact: String?
    public var assessor: String
    public var startedAt: Date
    public var completedAt: Date
    public var passed: Bool
    public var failedItems: [String]
    /// Why items failed beyond the answers themselves (e.g. a Cyber Essentials automatic fail).
    public var remarks: [String]
    public var answers: [AssessmentAnswer]
    /// The domain checks seen, one line each ("dmarc: pass — DMARC enforces p=reject ...").
    public var evidence: [String]
    public var validUntil: Date
    public var cyberEssentials: CyberEssentialsCertificate?
    /// For a Member's own answers: the organisation assessment they complete.
    public var basedOn: Int64?

    public init(id: Int64 = 0, scope: AssessmentRecord.Scope = .organisation, organisation: String, domains: [String], memberId: String,
                memberName: String, itContact: String?, assessor: String, startedAt: Date, completedAt: Date, passed: Bool,
                failedItems: [String], remarks: [String] = [], answers: [AssessmentAnswer], evidence: [String], validUntil: Date,
                cyberEssentials: CyberEssentialsCertificate? = nil, basedOn: Int64? = nil) {
        self.id = id; self.scope = scope; self.organisation = organisation; self.domains = domains; self.memberId = memberId
        self.memberName = memberName; self.itContact = itContact; self.assessor = assessor; self.startedAt = startedAt
        self.completedAt = completedAt; self.passed = passed; self.failedItems = failedItems; self.remarks = remarks
        self.answers = answers; self.evidence = evidence; self.validUntil = validUntil; self.cyberEssentials = cyberEssentials
        self.basedOn = basedOn
    }

    public var record: AssessmentRecord {
        AssessmentRecord(id: id, scope: scope, organisation: organisation, domains: domains, memberId: memberId, passed: passed,
                         assessedAt: completedAt, validUntil: validUntil, assessor: assessor, itContact: itContact,
                         failedItems: failedItems, cyberEssentials: cyberEssentials)
    }
}

/// An assessment in progress: saved after every answer, so that Ctrl-C or a crash loses at
/// most the answer being typed, and the assessment can be resumed or discarded.
public struct AssessmentDraft: Codable, Sendable, Equatable {
    /// What is being assessed: the Member's id, or "domain:<first domain>".
    public var memberId: String
    public var memberName: String
    public var assessor: String
    public var startedAt: Date
    public var answers: [AssessmentAnswer]
    public var cyberEssentials: CyberEssentialsCertificate?
    /// The organisation's IT contact, once given (the console asks for it first).
    public var itContact: String?

    public init(memberId: String, memberName: String, assessor: String, startedAt: Date, answers: [AssessmentAnswer],
                cyberEssentials: CyberEssentialsCertificate? = nil, itContact: String? = nil) {
        self.memberId = memberId; self.memberName = memberName; self.assessor = assessor; self.startedAt = startedAt; self.answers = answers
        self.cyberEssentials = cyberEssentials; self.itContact = itContact
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
        migrator.registerMigration("v4: assessments of organisations") { db in
            try db.alter(table: "assessment") { table in
                table.add(column: "scope", .text).notNull().defaults(to: "organisation")
                table.add(column: "organisation", .text)
                table.add(column: "itContact", .text)
                table.add(column: "remarks", .text)                 // JSON
                table.add(column: "cyberEssentials", .text)         // JSON of CyberEssentialsCertificate
                table.add(column: "basedOn", .integer).references("assessment")
            }
            try db.create(table: "assessmentDomain") { table in
                table.column("assessmentId", .integer).notNull().references("assessment")
                table.column("domain", .text).notNull().indexed()
                table.primaryKey(["assessmentId", "domain"])
            }
            // An assessment recorded for a Member covers that Member's domain.
            try db.execute(sql: "INSERT INTO assessmentDomain (assessmentId, domain) SELECT id, domain FROM assessment WHERE domain <> ''")
            try db.execute(sql: """
                CREATE TRIGGER assessmentDomainNoUpdate BEFORE UPDATE ON assessmentDomain
                BEGIN SELECT RAISE(ABORT, 'assessments are never edited: assess again'); END;
                CREATE TRIGGER assessmentDomainNoDelete BEFORE DELETE ON assessmentDomain
                BEGIN SELECT RAISE(ABORT, 'assessments are never deleted'); END;
                """)
        }
    }

    public func saveDraft(_ draft: AssessmentDraft) throws {
        let text = try Self.json(draft)
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

    /// Every assessment in progress, oldest first.
    public func drafts() throws -> [AssessmentDraft] {
        try reading { db in
            try String.fetchAll(db, sql: "SELECT draft FROM assessmentDraft").map { try Self.decoder.decode(AssessmentDraft.self, from: Data($0.utf8)) }
                .sorted { $0.startedAt < $1.startedAt }
        }
    }

    public func discardDraft(memberId: String) throws {
        try writing("the unfinished assessment could not be discarded") { db in
            try db.execute(sql: "DELETE FROM assessmentDraft WHERE memberId = ?", arguments: [memberId])
        }
    }

    /// Stores the finished assessment and removes its draft, together or not at all.
    @discardableResult
    public func recordAssessment(_ assessment: StoredAssessment, draftKey: String? = nil) throws -> StoredAssessment {
        try writing("the assessment could not be recorded (nothing was written)") { db in
            try db.execute(sql: """
                INSERT INTO assessment (memberId, memberName, domain, assessor, startedAt, completedAt, passed, failedItems, answers, evidence,
                                        validUntil, scope, organisation, itContact, remarks, cyberEssentials, basedOn)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [assessment.memberId, assessment.memberName, assessment.domains.first ?? "", assessment.assessor,
                                 assessment.startedAt, assessment.completedAt, assessment.passed,
                                 try Self.json(assessment.failedItems), try Self.json(assessment.answers), try Self.json(assessment.evidence),
                                 assessment.validUntil, assessment.scope.rawValue, assessment.organisation, assessment.itContact,
                                 try Self.json(assessment.remarks), try assessment.cyberEssentials.map(Self.json), assessment.basedOn])
            var stored = assessment
            stored.id = db.lastInsertedRowID
            for domain in Set(assessment.domains) {
                try db.execute(sql: "INSERT INTO assessmentDomain (assessmentId, domain) VALUES (?, ?)", arguments: [stored.id, domain])
            }
            try db.execute(sql: "DELETE FROM assessmentDraft WHERE memberId = ?", arguments: [draftKey ?? assessment.memberId])
            return stored
        }
    }

    /// Every assessment, oldest first.
    public func assessments() throws -> [StoredAssessment] {
        try reading { db in
            var covered: [Int64: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT assessmentId, domain FROM assessmentDomain ORDER BY domain") {
                covered[row["assessmentId"], default: []].append(row["domain"])
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM assessment ORDER BY id").map { row in
                let failed: String = row["failedItems"], answers: String = row["answers"], evidence: String = row["evidence"]
                let remarks: String? = row["remarks"], certificate: String? = row["cyberEssentials"]
                let id: Int64 = row["id"], memberId: String = row["memberId"], memberName: String = row["memberName"]
                let domain: String = row["domain"]
                let scope = AssessmentRecord.Scope(rawValue: row["scope"] ?? "organisation") ?? .organisation
                // Assessments recorded for a Member before organisations were assessed name no
                // organisation: the Member's domain stands for it.
                let organisation: String = row["organisation"] ?? domain
                let domains = scope == .member ? [] : (covered[id] ?? (domain.isEmpty ? [] : [domain]))
                return StoredAssessment(id: id, scope: scope, organisation: organisation, domains: domains, memberId: memberId,
                                        memberName: memberName, itContact: row["itContact"], assessor: row["assessor"],
                                        startedAt: row["startedAt"], completedAt: row["completedAt"], passed: row["passed"],
                                        failedItems: try Self.decoder.decode([String].self, from: Data(failed.utf8)),
                                        remarks: try remarks.map { try Self.decoder.decode([String].self, from: Data($0.utf8)) } ?? [],
                                        answers: try Self.decoder.decode([AssessmentAnswer].self, from: Data(answers.utf8)),
                                        evidence: try Self.decoder.decode([String].self, from: Data(evidence.utf8)),
                                        validUntil: row["validUntil"],
                                        cyberEssentials: try certificate.map { try Self.decoder.decode(CyberEssentialsCertificate.self, from: Data($0.utf8)) },
                                        basedOn: row["basedOn"])
            }
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
