import Directory
import Foundation
import GRDB
import GRDBSQLite
import Policy

/// The register: an SQLite file (GRDB) that remembers every audit run, so that each audit can
/// say what changed since the last one. Every write is one transaction: a run killed half-way
/// leaves the register as it was. Runs, their Members' rows, decisions and assessments are
/// append-only: the database itself refuses UPDATE and DELETE on them.
///
/// The file is in WAL mode, so readers never wait for a writer, and a writer waits up to
/// `busyTimeout` for another process's write to finish before giving up.
public final class AuditRegister: Sendable {
    private let database: DatabasePool
    public let path: String
    public let busyTimeout: TimeInterval

    public static let defaultBusyTimeout: TimeInterval = 30

    public init(path: String, busyTimeout: TimeInterval = AuditRegister.defaultBusyTimeout) throws {
        self.path = path
        self.busyTimeout = busyTimeout
        do {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(busyTimeout)
            configuration.maximumReaderCount = 2   // each reader holds descriptors; two are plenty here
            // Keep the WAL file when the last connection closes: opening then needs no write,
            // so an audit can start (and read) while another process holds the write lock.
            configuration.prepareDatabase { db in
                var persist: Int32 = 1
                _ = sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
            }
            database = try DatabasePool(path: path, configuration: configuration)
            // Migrating takes the write lock; an up-to-date register is only read, so another
            // process writing at the same moment does not stop an audit from starting.
            let migrator = Self.migrator
            if !(try database.read { try migrator.hasCompletedMigrations($0) }) {
                try migrator.migrate(database)
            }
        } catch {
            throw RegisterError("\(path): cannot open the register: \(Self.explain(error, busyTimeout: busyTimeout))")
        }
    }

    /// SQLite's "database is locked" in words an operator can act on.
    static func explain(_ error: Error, busyTimeout: TimeInterval) -> String {
        if let database = error as? DatabaseError, database.resultCode == .SQLITE_BUSY || database.resultCode == .SQLITE_LOCKED {
            return "the register is busy: another process held it for more than \(Int(busyTimeout)) s (register.busyTimeout in site.yaml)"
        }
        return "\(error)"
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
        migrator.registerMigration("v5: runs with their day judged, append-only; superseding grants") { db in
            try db.alter(table: "auditRun") { table in
                table.add(column: "asOf", .datetime)
                table.add(column: "backdated", .boolean).notNull().defaults(to: false)
                table.add(column: "toolVersion", .text)
            }
            // Runs recorded before: the day judged was the day stored.
            try db.execute(sql: "UPDATE auditRun SET asOf = startedAt")
            try db.alter(table: "auditRunMember") { table in
                table.add(column: "findings", .text)          // JSON: [{control, required, status}]
            }
            try db.alter(table: "exceptionDecision") { table in
                table.add(column: "supersedes", .text)        // JSON array of grant ids
            }
            try makeAppendOnly(db, "auditRun", edited: "audit runs are never edited", deleted: "audit runs are never deleted")
            try makeAppendOnly(db, "auditRunMember", edited: "audit runs are never edited", deleted: "audit runs are never deleted")
        }
        registerConsoleMigrations(&migrator)
        registerStoredResultMigrations(&migrator)
        return migrator
    }

    /// The database itself refuses to change or remove a row of `table`: history is kept whole.
    static func makeAppendOnly(_ db: Database, _ table: String, edited: String, deleted: String) throws {
        try db.execute(sql: """
            CREATE TRIGGER \(table)NoUpdate BEFORE UPDATE ON \(table) BEGIN SELECT RAISE(ABORT, '\(edited)'); END;
            CREATE TRIGGER \(table)NoDelete BEFORE DELETE ON \(table) BEGIN SELECT RAISE(ABORT, '\(deleted)'); END;
            """)
    }

    /// A write transaction whose failure names the register and what was lost.
    func writing<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do { return try database.write(body) } catch let refusal as RegisterError {
            throw refusal          // a refusal of the register's own, already in words
        } catch {
            throw RegisterError("\(path): \(what): \(Self.explain(error, busyTimeout: busyTimeout))")
        }
    }

    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch { throw RegisterError("\(path): cannot read the register: \(error)") }
    }

    /// Records a Monitoring Officer's exception; `supersedes` names the live grants it replaces.
    public func grant(memberId: String, memberName: String, controls: [String], reason: String, decidedBy: String,
                      at: Date, expires: Date, supersedes: [Int64] = []) throws -> ExceptionGrant {
        try writing("the exception could not be recorded") { db in
            try db.execute(sql: """
                INSERT INTO exceptionDecision (kind, memberId, memberName, controls, reason, decidedBy, decidedAt, expires, supersedes)
                VALUES ('grant', ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [memberId, memberName, try Self.json(controls), reason, decidedBy, at, expires,
                                 supersedes.isEmpty ? nil : try Self.json(supersedes)])
            return ExceptionGrant(id: db.lastInsertedRowID, memberId: memberId, memberName: memberName, controls: controls,
                                  reason: reason, decidedBy: decidedBy, decidedAt: at, expires: expires, supersedes: supersedes)
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }

    /// Records the revocation of a grant; the grant itself stays as it was decided.
    public func revoke(_ id: Int64, reason: String, decidedBy: String, at: Date) throws -> ExceptionGrant {
        guard let grant = try exceptions().first(where: { $0.id == id }) else {
            throw RegisterError("there is no exception \(id) (mailaudit exceptions list shows them)")
        }
        if let revocation = grant.revocation {
            throw RegisterError("exception \(id) was already revoked by \(revocation.decidedBy) (decision \(revocation.id))")
        }
        try writing("the revocation could not be recorded") { db in
            try db.execute(sql: """
                INSERT INTO exceptionDecision (kind, memberId, memberName, reason, decidedBy, decidedAt, revokes)
                VALUES ('revoke', ?, ?, ?, ?, ?, ?)
                """, arguments: [grant.memberId, grant.memberName, reason, decidedBy, at, id])
        }
        return try exceptions().first { $0.id == id }!
    }

    /// Every grant, with its revocation if there is one, oldest first.
    public func exceptions() throws -> [ExceptionGrant] {
        try reading { db in
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
                let supersedesText: String? = row["supersedes"]
                let supersedes = supersedesText.flatMap { try? JSONDecoder().decode([Int64].self, from: Data($0.utf8)) } ?? []
                grants.append(ExceptionGrant(id: id, memberId: memberId, memberName: memberName, controls: controls, reason: reason,
                                             decidedBy: decidedBy, decidedAt: decidedAt, expires: expires, supersedes: supersedes,
                                             revocation: revocations[id]))
            }
            return grants
        }
    }

    /// Everything the register holds, for `mailaudit register export`.
    public struct Export: Encodable {
        public var schema = "mailaudit.register/2"
        public var runs: [RunSummary]
        public var exceptionDecisions: [ExceptionGrant]
        public var assessments: [StoredAssessment]
    }

    public func export() throws -> Export {
        Export(runs: try runs(withMembers: true), exceptionDecisions: try exceptions(), assessments: try assessments())
    }

    /// Stores a run, its whole result, the directory read it judged and its Members' verdicts,
    /// all or nothing; returns the run's number.
    @discardableResult
    public func record(_ result: AuditResult, directory: DirectoryRead? = nil) throws -> Int64 {
        try writing("the run could not be recorded (nothing was written)") { db in
            try db.execute(sql: """
                INSERT INTO auditRun (startedAt, asOf, backdated, toolVersion, policyFile, policyHash, directorySource, memberCount, summary, replayOf)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [result.generatedAt, result.asOf, result.backdated, result.toolVersion, result.policy.file,
                                 result.policy.sha256, result.directory.source, result.members.count, try Self.json(result.summary),
                                 result.replayOf])
            let runId = db.lastInsertedRowID
            var kept = result
            kept.runId = runId
            kept.notRecorded = nil
            try Self.storeResult(kept, directory: directory, runId: runId, in: db)
            for member in result.members {
                let failing = member.findings.filter(\.isFailing).map(\.control)
                let findings = member.findings.map { RunMember.FindingState(control: $0.control, required: $0.required, status: $0.status.rawValue) }
                // A directory that repeats an id keeps its first row: rows are never replaced.
                try db.execute(sql: """
                    INSERT OR IGNORE INTO auditRunMember (runId, memberId, name, accountClass, verdict, reason, failingControls, findings)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [runId, member.id, member.name, member.accountClass.rawValue, member.verdict.rawValue,
                                     member.reason, try Self.json(failing), try Self.json(findings)])
            }
            return runId
        }
    }

    /// The run to compare with: the latest recorded, by real time, that judged its own day
    /// (a backdated run is a look at the past, never the "previous run").
    public func previousRun() throws -> PreviousRun? {
        try reading { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT id, startedAt FROM auditRun WHERE backdated = 0 ORDER BY startedAt DESC, id DESC LIMIT 1
                """) else { return nil }
            let id: Int64 = row["id"]
            let at: Date = row["startedAt"]
            let entries = try Row.fetchAll(db, sql: "SELECT memberId, name, verdict FROM auditRunMember WHERE runId = ?", arguments: [id])
                .compactMap { member -> PreviousRun.Entry? in
                    guard let verdict = Verdict(rawValue: member["verdict"]) else { return nil }
                    return PreviousRun.Entry(id: member["memberId"], name: member["name"], verdict: verdict)
                }
            return PreviousRun(id: id, at: at, entries: entries)
        }
    }

    /// One Member as a run recorded them.
    public struct RunMember: Codable, Sendable, Equatable {
        public struct FindingState: Codable, Sendable, Equatable {
            public var control: String
            public var required: Bool
            public var status: String
        }
        public var memberId: String
        public var name: String
        public var accountClass: String
        public var verdict: String
        public var reason: String
        public var failingControls: [String]
        /// Every control judged (runs recorded before findings were kept: nil).
        public var findings: [FindingState]?
    }

    /// A Member in the latest run that judged its own day, with that run's number and time.
    public func latestRunEntry(memberId: String) throws -> (runId: Int64, at: Date, member: RunMember?)? {
        try reading { db in
            guard let run = try Row.fetchOne(db, sql: """
                SELECT id, startedAt FROM auditRun WHERE backdated = 0 ORDER BY startedAt DESC, id DESC LIMIT 1
                """) else { return nil }
            let runId: Int64 = run["id"]
            let row = try Row.fetchOne(db, sql: "SELECT * FROM auditRunMember WHERE runId = ? AND memberId = ?", arguments: [runId, memberId])
            return (runId, run["startedAt"], try row.map(Self.runMember))
        }
    }

    static func runMember(_ row: Row) throws -> RunMember {
        let failing: String = row["failingControls"]
        let findings: String? = row["findings"]
        return RunMember(memberId: row["memberId"], name: row["name"], accountClass: row["accountClass"], verdict: row["verdict"],
                         reason: row["reason"], failingControls: try decoder.decode([String].self, from: Data(failing.utf8)),
                         findings: try findings.map { try decoder.decode([RunMember.FindingState].self, from: Data($0.utf8)) })
    }

    public struct RunSummary: Codable, Sendable {
        public var id: Int64
        /// When the run happened.
        public var startedAt: Date
        /// The moment it judged.
        public var asOf: Date
        public var backdated: Bool
        public var toolVersion: String?
        public var policyHash: String
        public var directorySource: String
        public var memberCount: Int
        public var summary: [String: Int]
        /// A recorded replay (`audit --replay N --record`): the run it judged again.
        public var replayOf: Int64?
        /// Each Member's verdict (register export only).
        public var members: [RunMember]?
    }

    /// Every run, newest first by real time.
    public func runs(withMembers: Bool = false) throws -> [RunSummary] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM auditRun ORDER BY startedAt DESC, id DESC").map { row in
                let summaryText: String = row["summary"]
                let summary = (try? JSONDecoder().decode([String: Int].self, from: Data(summaryText.utf8))) ?? [:]
                let id: Int64 = row["id"]
                let members = withMembers
                    ? try Row.fetchAll(db, sql: "SELECT * FROM auditRunMember WHERE runId = ? ORDER BY name, memberId", arguments: [id]).map(Self.runMember)
                    : nil
                let startedAt: Date = row["startedAt"]
                return RunSummary(id: id, startedAt: startedAt, asOf: row["asOf"] ?? startedAt, backdated: row["backdated"],
                                  toolVersion: row["toolVersion"], policyHash: row["policyHash"], directorySource: row["directorySource"],
                                  memberCount: row["memberCount"], summary: summary, replayOf: row["replayOf"], members: members)
            }
        }
    }

    /// The verdict counts of the recorded runs up to and including `result` (the last 24, oldest
    /// first), for the reports' trend. Backdated runs judge another day, so they are left out,
    /// unless it is the run being reported; a run not recorded is the last point all the same.
    public func trend(endingWith result: AuditResult, limit: Int = 24) throws -> [TrendPoint] {
        let recorded = try runs().filter { $0.id == result.runId || (!$0.backdated && $0.startedAt <= result.generatedAt) }
        var points = recorded.prefix(result.runId == nil ? limit - 1 : limit).reversed().map {
            TrendPoint(runId: $0.id, at: $0.startedAt, counts: $0.summary)
        }
        if result.runId == nil { points.append(TrendPoint(runId: nil, at: result.generatedAt, counts: result.summary)) }
        return points
    }

    /// SQLite's own check that the file is whole.
    public func integrityCheck() throws -> String {
        try reading { try String.fetchOne($0, sql: "PRAGMA integrity_check") ?? "no answer" }
    }
}

public struct RegisterError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
