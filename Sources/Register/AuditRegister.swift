import Foundation
import GRDB
import Policy

/// The register: an SQLite file (GRDB) that remembers every audit run, so that each audit can
/// say what changed since the last one. Every write is one transaction: a run killed half-way
/// leaves the register as it was.
public final class AuditRegister: Sendable {
    private let database: DatabaseQueue
    public let path: String

    public init(path: String) throws {
        self.path = path
        do {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            database = try DatabaseQueue(path: path)
            try Self.migrator.migrate(database)
        } catch {
            throw RegisterError("\(path): cannot open the register: \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: audit runs") { db in
            try db.create(table: "auditRun") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("startedAt", .datetime).notNull()
                table.column("policyFile", .text).notNull()
                table.column("policyHash", .text).notNull()
                table.column("directorySource", .text).notNull()
                table.column("memberCount", .integer).notNull()
                table.column("summary", .text).notNull()   // JSON: verdict -> count
            }
            try db.create(table: "auditRunMember") { table in
                table.column("runId", .integer).notNull().references("auditRun", onDelete: .cascade)
                table.column("memberId", .text).notNull()
                table.column("name", .text).notNull()
                table.column("accountClass", .text).notNull()
                table.column("verdict", .text).notNull()
                table.column("reason", .text).notNull()
                table.column("failingControls", .text).notNull()   // JSON array
                table.primaryKey(["runId", "memberId"])
            }
        }
        migrator.registerMigration("v2: exception decisions") { db in
            try db.create(table: "exceptionDecision") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("kind", .text).notNull()          // grant or revoke
                table.column("memberId", .text).notNull()
                table.column("memberName", .text).notNull()
                table.column("controls", .text)                // JSON array; NULL: every control
                table.column("reason", .text).notNull()
                table.column("decidedBy", .text).notNull()
                table.column("decidedAt", .datetime).notNull()
                table.column("expires", .datetime)             // grants only
                table.column("revokes", .integer).references("exceptionDecision")   // revocations only
            }
            // The history of decisions is kept whole: the database itself refuses edits.
            try db.execute(sql: """
                CREATE TRIGGER exceptionDecisionNoUpdate BEFORE UPDATE ON exceptionDecision
                BEGIN SELECT RAISE(ABORT, 'exception decisions are never edited: record a new decision'); END;
                CREATE TRIGGER exceptionDecisionNoDelete BEFORE DELETE ON exceptionDecision
                BEGIN SELECT RAISE(ABORT, 'exception decisions are never deleted: record a revocation'); END;
                """)
        }
        registerAssessmentMigrations(&migrator)
        return migrator
    }

    /// A write transaction whose failure names the register and what was lost.
    func writing<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do { return try database.write(body) } catch { throw RegisterError("\(path): \(what): \(error)") }
    }

    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch { throw RegisterError("\(path): cannot read the register: \(error)") }
    }

    /// Records a Monitoring Officer's exception.
    public func grant(memberId: String, memberName: String, controls: [String]?, reason: String, decidedBy: String,
                      at: Date, expires: Date) throws -> ExceptionGrant {
        do {
            return try database.write { db in
                let controlText = try controls.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
                try db.execute(sql: """
                    INSERT INTO exceptionDecision (kind, memberId, memberName, controls, reason, decidedBy, decidedAt, expires)
                    VALUES ('grant', ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [memberId, memberName, controlText, reason, decidedBy, at, expires])
                return ExceptionGrant(id: db.lastInsertedRowID, memberId: memberId, memberName: memberName, controls: controls,
                                      reason: reason, decidedBy: decidedBy, decidedAt: at, expires: expires)
            }
        } catch {
            throw RegisterError("\(path): the exception could not be recorded: \(error)")
        }
    }

    /// Records the revocation of a grant; the grant itself stays as it was decided.
    public func revoke(_ id: Int64, reason: String, decidedBy: String, at: Date) throws -> ExceptionGrant {
        guard let grant = try exceptions().first(where: { $0.id == id }) else {
            throw RegisterError("there is no exception \(id) (mailaudit exceptions list shows them)")
        }
        if let revocation = grant.revocation {
            throw RegisterError("exception \(id) was already revoked by \(revocation.decidedBy) (decision \(revocation.id))")
        }
        do {
            try database.write { db in
                try db.execute(sql: """
                    INSERT INTO exceptionDecision (kind, memberId, memberName, reason, decidedBy, decidedAt, revokes)
                    VALUES ('revoke', ?, ?, ?, ?, ?, ?)
                    """, arguments: [grant.memberId, grant.memberName, reason, decidedBy, at, id])
            }
        } catch {
            throw RegisterError("\(path): the revocation could not be recorded: \(error)")
        }
        return try exceptions().first { $0.id == id }!
    }

    /// Every grant, with its revocation if there is one, oldest first.
    public func exceptions() throws -> [ExceptionGrant] {
        try database.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM exceptionDecision ORDER BY id")
            var revocations: [Int64: ExceptionGrant.Revocation] = [:]
            for row in rows where (row["kind"] as String) == "revoke" {
                let revoked: Int64 = row["revokes"], id: Int64 = row["id"]
                let reason: String = row["reason"], decidedBy: String = row["decidedBy"], decidedAt: Date = row["decidedAt"]
                revocations[revoked] = ExceptionGrant.Revocation(id: id, reason: reason, decidedBy: decidedBy, decidedAt: decidedAt)
            }
            var grants: [ExceptionGrant] = []
            for row in rows where (row["kind"] as String) == "grant" {
                let controlText: String? = row["controls"]
                let controls = controlText.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
                let id: Int64 = row["id"]
                let memberId: String = row["memberId"], memberName: String = row["memberName"]
                let reason: String = row["reason"], decidedBy: String = row["decidedBy"]
                let decidedAt: Date = row["decidedAt"], expires: Date = row["expires"]
                grants.append(ExceptionGrant(id: id, memberId: memberId, memberName: memberName, controls: controls, reason: reason,
                                             decidedBy: decidedBy, decidedAt: decidedAt, expires: expires, revocation: revocations[id]))
            }
            return grants
        }
    }

    /// Everything the register holds, for `mailaudit register export`.
    public struct Export: Encodable {
        public var schema = "mailaudit.register/1"
        public var runs: [RunSummary]
        public var exceptionDecisions: [ExceptionGrant]
        public var assessments: [StoredAssessment]
    }

    public func export() throws -> Export {
        Export(runs: try runs(), exceptionDecisions: try exceptions(), assessments: try assessments())
    }

    /// Stores a run and its Members' verdicts, all or nothing.
    @discardableResult
    public func record(_ result: AuditResult) throws -> Int64 {
        do {
            return try database.write { db in
                let summary = String(decoding: try JSONEncoder().encode(result.summary), as: UTF8.self)
                try db.execute(sql: """
                    INSERT INTO auditRun (startedAt, policyFile, policyHash, directorySource, memberCount, summary)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [result.generatedAt, result.policy.file, result.policy.sha256, result.directory.source,
                                     result.members.count, summary])
                let runId = db.lastInsertedRowID
                for member in result.members {
                    let failing = member.findings.filter(\.isFailing).map(\.control)
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO auditRunMember (runId, memberId, name, accountClass, verdict, reason, failingControls)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [runId, member.id, member.name, member.accountClass.rawValue, member.verdict.rawValue,
                                         member.reason, String(decoding: try JSONEncoder().encode(failing), as: UTF8.self)])
                }
                return runId
            }
        } catch {
            throw RegisterError("\(path): the run could not be recorded (nothing was written): \(error)")
        }
    }

    /// The most recent run, for "what changed since".
    public func lastRun() throws -> PreviousRun? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, startedAt FROM auditRun ORDER BY id DESC LIMIT 1") else { return nil }
            let id: Int64 = row["id"]
            let at: Date = row["startedAt"]
            let entries = try Row.fetchAll(db, sql: "SELECT memberId, name, verdict FROM auditRunMember WHERE runId = ?", arguments: [id])
                .compactMap { member -> PreviousRun.Entry? in
                    guard let verdict = Verdict(rawValue: member["verdict"]) else { return nil }
                    return PreviousRun.Entry(id: member["memberId"], name: member["name"], verdict: verdict)
                }
            return PreviousRun(at: at, entries: entries)
        }
    }

    public struct RunSummary: Codable, Sendable {
        public var id: Int64
        public var startedAt: Date
        public var policyHash: String
        public var directorySource: String
        public var memberCount: Int
        public var summary: [String: Int]
    }

    /// Every run, newest first.
    public func runs() throws -> [RunSummary] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM auditRun ORDER BY id DESC").map { row in
                let summaryText: String = row["summary"]
                let summary = (try? JSONDecoder().decode([String: Int].self, from: Data(summaryText.utf8))) ?? [:]
                return RunSummary(id: row["id"], startedAt: row["startedAt"], policyHash: row["policyHash"],
                                  directorySource: row["directorySource"], memberCount: row["memberCount"], summary: summary)
            }
        }
    }
}

public struct RegisterError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
