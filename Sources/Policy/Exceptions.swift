import Foundation

/// A Monitoring Officer's decision to accept a shortfall for a while. Decisions are never edited:
/// a revocation or a renewal is a new decision, so the history of who decided what survives.
public struct ExceptionGrant: Codable, Sendable, Equatable {
    public var id: Int64
    public var memberId: String
    public var memberName: String
    /// The controls accepted; nil accepts whatever the Member fails.
    public var controls: [String]?
    public var reason: String
    public var decidedBy: String
    public var decidedAt: Date
    public var expires: Date
    /// Set when a later decision revoked it.
    public var revocation: Revocation?

    public struct Revocation: Codable, Sendable, Equatable {
        public var id: Int64
        public var reason: String
        public var decidedBy: String
        public var decidedAt: Date

        public init(id: Int64, reason: String, decidedBy: String, decidedAt: Date) {
            self.id = id; self.reason = reason; self.decidedBy = decidedBy; self.decidedAt = decidedAt
        }
    }

    public init(id: Int64, memberId: String, memberName: String, controls: [String]?, reason: String, decidedBy: String,
                decidedAt: Date, expires: Date, revocation: Revocation? = nil) {
        self.id = id; self.memberId = memberId; self.memberName = memberName; self.controls = controls; self.reason = reason
        self.decidedBy = decidedBy; self.decidedAt = decidedAt; self.expires = expires; self.revocation = revocation
    }

    /// In force: not revoked and not past its end. (When it was decided is for the record; an
    /// audit judged "as of" an earlier day still honours it.)
    public func isLive(at now: Date) -> Bool { revocation == nil && expires > now }

    /// Does it accept every one of these failing controls?
    public func covers(_ failing: [String]) -> Bool {
        guard let controls else { return true }
        return failing.allSatisfy(controls.contains)
    }

    public var scope: String { controls.map { $0.joined(separator: ", ") } ?? "all controls" }
}

/// What the report says about a Member's exception: the one applied, or the one that lapsed.
public struct ExceptionNote: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case applied, notCovering = "not-covering", expired, revoked }
    public var state: State
    public var grant: ExceptionGrant
    /// The verdict without the exception.
    public var wouldBe: Verdict?
}
