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
        return migrator
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
