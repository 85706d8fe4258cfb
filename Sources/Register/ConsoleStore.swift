import Foundation
import GRDB
import MailDomain
import Policy

/// What the web console keeps in the register: its users, their sessions, an append-only log of
/// sign-ins, failures and decisions. (v6 also made the table of each run's whole result, see
/// StoredResults.swift.)
extension AuditRegister {
    static func registerConsoleMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6: stored run results; console users, sessions and log") { db in
            try db.create(table: "auditRunResult") { table in
                table.column("runId", .integer).primaryKey().references("auditRun")
                table.column("format", .text).notNull()          // "json": the AuditResult as audit.json holds it,
                table.column("body", .blob).notNull()            // without its domains,
                table.column("domains", .blob).notNull()         // which are kept apart: most pages need only the Members
            }
            // A Member's history across runs is read by Member.
            try db.create(index: "auditRunMemberByMember", on: "auditRunMember", columns: ["memberId"])
            try db.create(table: "consoleUser") { table in
                table.column("username", .text).primaryKey()
                table.column("role", .text).notNull()
                table.column("passwordHash", .text).notNull()    // bcrypt
                table.column("totpSecret", .text).notNull()
                table.column("disabled", .boolean).notNull().defaults(to: false)
                table.column("failedSignIns", .integer).notNull().defaults(to: 0)
                table.column("lockedUntil", .datetime)
                table.column("lastTOTPStep", .integer).notNull().defaults(to: 0)   // a code is used once
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "consoleSession") { table in
                table.column("tokenHash", .text).primaryKey()    // SHA-256 of the cookie's value
                table.column("username", .text).notNull().references("consoleUser", onDelete: .cascade)
                table.column("csrfToken", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("lastSeenAt", .datetime).notNull()
            }
            try db.create(table: "consoleAddress") { table in
                table.column("address", .text).primaryKey()
                table.column("failures", .integer).notNull()
                table.column("lastFailureAt", .datetime).notNull()
            }
            try db.create(table: "consoleLog") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("at", .datetime).notNull()
                table.column("username", .text).notNull()
                table.column("address", .text).notNull()
                table.column("event", .text).notNull()
                table.column("detail", .text).notNull()
            }
            try makeAppendOnly(db, "auditRunResult", edited: "audit runs are never edited", deleted: "audit runs are never deleted")
            try makeAppendOnly(db, "consoleLog", edited: "the console log is append-only", deleted: "the console log is append-only")
        }
    }

    /// The latest run by real time that judged its own day, with its result kept.
    public func latestResultRunId() throws -> Int64? {
        try reading { db in
            try Int64.fetchOne(db, sql: """
                SELECT auditRun.id FROM auditRun JOIN auditRunResult ON auditRunResult.runId = auditRun.id
                WHERE auditRun.backdated = 0 ORDER BY auditRun.startedAt DESC, auditRun.id DESC LIMIT 1
                """)
        }
    }

    /// One Member's verdict in each recorded run, newest first.
    public func verdictHistory(memberId: String) throws -> [(runId: Int64, at: Date, backdated: Bool, verdict: String, reason: String)] {
        try reading { db in
            try Row.fetchAll(db, sql: """
                SELECT auditRun.id, auditRun.startedAt, auditRun.backdated, auditRunMember.verdict, auditRunMember.reason
                FROM auditRunMember JOIN auditRun ON auditRun.id = auditRunMember.runId
                WHERE auditRunMember.memberId = ? ORDER BY auditRun.startedAt DESC, auditRun.id DESC
                """, arguments: [memberId]).map { ($0["id"], $0["startedAt"], $0["backdated"], $0["verdict"], $0["reason"]) }
        }
    }

    // MARK: Users

    public struct ConsoleUser: Sendable, Equatable {
        public var username: String
        public var role: String
        public var passwordHash: String
        public var totpSecret: String
        public var disabled: Bool
        public var failedSignIns: Int
        public var lockedUntil: Date?
        public var lastTOTPStep: Int64
        public var createdAt: Date

        public init(username: String, role: String, passwordHash: String, totpSecret: String, disabled: Bool, failedSignIns: Int,
                    lockedUntil: Date?, lastTOTPStep: Int64, createdAt: Date) {
            self.username = username; self.role = role; self.passwordHash = passwordHash; self.totpSecret = totpSecret
            self.disabled = disabled; self.failedSignIns = failedSignIns; self.lockedUntil = lockedUntil
            self.lastTOTPStep = lastTOTPStep; self.createdAt = createdAt
        }
    }

    private static func user(_ row: Row) -> ConsoleUser {
        ConsoleUser(username: row["username"], role: row["role"], passwordHash: row["passwordHash"], totpSecret: row["totpSecret"],
                    disabled: row["disabled"], failedSignIns: row["failedSignIns"], lockedUntil: row["lockedUntil"],
                    lastTOTPStep: row["lastTOTPStep"], createdAt: row["createdAt"])
    }

    public func addUser(username: String, role: String, passwordHash: String, totpSecret: String, at: Date) throws {
        try writing("the user could not be added") { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM consoleUser WHERE username = ?", arguments: [username]) == true {
                throw RegisterError("a user \(username) exists already: use mailaudit users reset to give new credentials")
            }
            try db.execute(sql: "INSERT INTO consoleUser (username, role, passwordHash, totpSecret, createdAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [username, role, passwordHash, totpSecret, at])
        }
    }

    public func consoleUsers() throws -> [ConsoleUser] {
        try reading { db in try Row.fetchAll(db, sql: "SELECT * FROM consoleUser ORDER BY username").map(Self.user) }
    }

    public func consoleUser(_ username: String) throws -> ConsoleUser? {
        try reading { db in try Row.fetchOne(db, sql: "SELECT * FROM consoleUser WHERE username = ?", arguments: [username]).map(Self.user) }
    }

    /// Disables (or enables) a user; a disabled user's sessions end at once.
    public func setUserDisabled(_ username: String, _ disabled: Bool) throws {
        try writing("the user could not be changed") { db in
            try db.execute(sql: "UPDATE consoleUser SET disabled = ? WHERE username = ?", arguments: [disabled, username])
            guard db.changesCount == 1 else { throw RegisterError("no user \(username)") }
            if disabled { try db.execute(sql: "DELETE FROM consoleSession WHERE username = ?", arguments: [username]) }
        }
    }

    /// New password and one-time-code secret; the lock and every session are cleared.
    public func resetUser(_ username: String, passwordHash: String, totpSecret: String) throws {
        try writing("the user could not be reset") { db in
            try db.execute(sql: """
                UPDATE consoleUser SET passwordHash = ?, totpSecret = ?, failedSignIns = 0, lockedUntil = NULL, lastTOTPStep = 0
                WHERE username = ?
                """, arguments: [passwordHash, totpSecret, username])
            guard db.changesCount == 1 else { throw RegisterError("no user \(username)") }
            try db.execute(sql: "DELETE FROM consoleSession WHERE username = ?", arguments: [username])
        }
    }

    /// Counts a failed sign-in; the fifth in a row locks the account until `now + lockFor`.
    @discardableResult
    public func failedSignIn(_ username: String, address: String, now: Date, lockAfter: Int = 5, lockFor: TimeInterval = 900) throws -> Date? {
        try writing("the failed sign-in could not be counted") { db in
            try db.execute(sql: """
                INSERT INTO consoleAddress (address, failures, lastFailureAt) VALUES (?, 1, ?)
                ON CONFLICT(address) DO UPDATE SET failures = failures + 1, lastFailureAt = excluded.lastFailureAt
                """, arguments: [address, now])
            try db.execute(sql: "UPDATE consoleUser SET failedSignIns = failedSignIns + 1 WHERE username = ?", arguments: [username])
            let failures = try Int.fetchOne(db, sql: "SELECT failedSignIns FROM consoleUser WHERE username = ?", arguments: [username]) ?? 0
            guard failures >= lockAfter else { return nil }
            let until = now.addingTimeInterval(lockFor)
            try db.execute(sql: "UPDATE consoleUser SET lockedUntil = ?, failedSignIns = 0 WHERE username = ?", arguments: [until, username])
            return until
        }
    }

    /// Recent failures from an address (for slowing it down), forgotten after `window` seconds.
    public func addressFailures(_ address: String, now: Date, window: TimeInterval = 900) throws -> Int {
        try reading { db in
            try Int.fetchOne(db, sql: "SELECT failures FROM consoleAddress WHERE address = ? AND lastFailureAt > ?",
                             arguments: [address, now.addingTimeInterval(-window)]) ?? 0
        }
    }

    /// A successful sign-in: the code's time step is used up, failures cleared, a new session
    /// stored (an old one of the same browser is not reused: the cookie is new at each sign-in).
    public func signedIn(_ username: String, totpStep: Int64, address: String, tokenHash: String, csrfToken: String, now: Date) throws -> Bool {
        try writing("the sign-in could not be recorded") { db in
            // The code's step must be later than the last one used: a code works once.
            try db.execute(sql: "UPDATE consoleUser SET lastTOTPStep = ?, failedSignIns = 0, lockedUntil = NULL WHERE username = ? AND lastTOTPStep < ?",
                           arguments: [totpStep, username, totpStep])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "DELETE FROM consoleAddress WHERE address = ?", arguments: [address])
            try db.execute(sql: "INSERT INTO consoleSession (tokenHash, username, csrfToken, createdAt, lastSeenAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [tokenHash, username, csrfToken, now, now])
            return true
        }
    }

    // MARK: Sessions

    public struct ConsoleSession: Sendable {
        public var username: String
        public var role: String
        public var csrfToken: String
        public var createdAt: Date
        public var lastSeenAt: Date
    }

    /// The session behind a cookie, if it is still within both limits. Every request asks this,
    /// so it is a read; the register is written only to remove an expired session or to note the
    /// session's use, at most once a minute (the idle limit is then kept to within a minute).
    public func session(tokenHash: String, now: Date, idle: TimeInterval, absolute: TimeInterval) throws -> ConsoleSession? {
        let found: (session: ConsoleSession, disabled: Bool)? = try reading { db in
            try Row.fetchOne(db, sql: """
                SELECT consoleSession.*, consoleUser.role, consoleUser.disabled FROM consoleSession
                JOIN consoleUser ON consoleUser.username = consoleSession.username WHERE tokenHash = ?
                """, arguments: [tokenHash]).map { row in
                (ConsoleSession(username: row["username"], role: row["role"], csrfToken: row["csrfToken"],
                                createdAt: row["createdAt"], lastSeenAt: row["lastSeenAt"]), row["disabled"])
            }
        }
        guard let (session, disabled) = found else { return nil }
        if disabled || now.timeIntervalSince(session.lastSeenAt) > idle || now.timeIntervalSince(session.createdAt) > absolute {
            try writing("the expired session could not be removed") { db in
                try db.execute(sql: "DELETE FROM consoleSession WHERE tokenHash = ?", arguments: [tokenHash])
            }
            return nil
        }
        if now.timeIntervalSince(session.lastSeenAt) > 60 {
            try writing("the session's use could not be noted") { db in
                try db.execute(sql: "UPDATE consoleSession SET lastSeenAt = ? WHERE tokenHash = ?", arguments: [now, tokenHash])
            }
        }
        return session
    }

    public func endSession(tokenHash: String) throws {
        try writing("the session could not be ended") { db in
            try db.execute(sql: "DELETE FROM consoleSession WHERE tokenHash = ?", arguments: [tokenHash])
        }
    }

    // MARK: Log

    public struct ConsoleLogEntry: Codable, Sendable, Equatable {
        public var id: Int64
        public var at: Date
        public var username: String
        public var address: String
        public var event: String
        public var detail: String
    }

    /// Appends to the console's log: sign-ins and failures, decisions, assessments.
    public func log(_ event: String, username: String, address: String, detail: String, at: Date) throws {
        try writing("the console log could not be written") { db in
            try db.execute(sql: "INSERT INTO consoleLog (at, username, address, event, detail) VALUES (?, ?, ?, ?, ?)",
                           arguments: [at, username, address, event, detail])
        }
    }

    public func consoleLog(limit: Int = 200) throws -> [ConsoleLogEntry] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM consoleLog ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                ConsoleLogEntry(id: row["id"], at: row["at"], username: row["username"], address: row["address"], event: row["event"], detail: row["detail"])
            }
        }
    }
}
