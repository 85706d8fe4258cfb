import Foundation

/// A Monitoring Officer's decision to accept a shortfall for a while. Decisions are never edited:
/// a revocation or a renewal is a new decision, so the history of who decided what survives.
public struct ExceptionGrant: Codable, Sendable, Equatable {
    public var id: Int64
    public var memberId: String
    public var memberName: String
    /// The controls accepted. nil (only in registers written before grants were checked against
    /// the Member's findings) accepts whatever the Member fails except `assessment.current`.
    public var controls: [String]?
    public var reason: String
    public var decidedBy: String
    public var decidedAt: Date
    public var expires: Date
    /// Earlier live grants for the same Member and a control this one names: for those controls
    /// this decision replaces them.
    public var supersedes: [Int64]
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
                decidedAt: Date, expires: Date, supersedes: [Int64] = [], revocation: Revocation? = nil) {
        self.id = id; self.memberId = memberId; self.memberName = memberName; self.controls = controls; self.reason = reason
        self.decidedBy = decidedBy; self.decidedAt = decidedAt; self.expires = expires; self.supersedes = supersedes
        self.revocation = revocation
    }

    /// In force at `now`: decided by then, not revoked by then, and not past its end.
    public func isLive(at now: Date) -> Bool {
        decidedAt <= now && expires > now && !(revocation.map { $0.decidedAt <= now } ?? false)
    }

    /// Does it accept this control? Only a grant that names `assessment.current` stands in for
    /// a missing, lapsed or failed assessment.
    public func names(_ control: String) -> Bool {
        guard let controls else { return control != "assessment.current" }
        return controls.contains(control)
    }

    public var scope: String { controls.map { $0.joined(separator: ", ") } ?? "all controls but assessment.current" }
}

/// One Member's exception decisions as they stood on a day: what is in force for which control.
public struct ExceptionBook: Sendable {
    /// Decisions made by the day judged, with revocations made after it left out.
    public let known: [ExceptionGrant]
    public let asOf: Date

    public init(_ grants: [ExceptionGrant], asOf: Date) {
        self.asOf = asOf
        known = grants.filter { $0.decidedAt <= asOf }.map { grant in
            var grant = grant
            if let revocation = grant.revocation, revocation.decidedAt > asOf { grant.revocation = nil }
            return grant
        }
    }

    /// The live grants accepting `control`, leaving out those a later decision superseded for it.
    public func grants(for control: String) -> [ExceptionGrant] {
        let naming = known.filter { $0.names(control) }
        let superseded = Set(naming.flatMap(\.supersedes))
        return naming.filter { $0.isLive(at: asOf) && !superseded.contains($0.id) }.sorted { $0.expires > $1.expires }
    }

    public var live: [ExceptionGrant] { known.filter { $0.isLive(at: asOf) } }

    /// The most recent decision that is no longer in force (expired or revoked), if any.
    public var latestLapsed: ExceptionGrant? {
        known.filter { !$0.isLive(at: asOf) }.max { $0.decidedAt < $1.decidedAt }
    }
}

/// What the report says about a Member's exceptions: those applied, those covering only part
/// of what fails, or the one that lapsed.
public struct ExceptionNote: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Live grants accept every failing control: the verdict is `exception`.
        case applied
        /// Live grants accept some failing controls, not all: the others still count.
        case partial
        /// A live grant exists, but accepts none of what fails now.
        case notCovering = "not-covering"
        case expired, revoked
    }
    public var state: State
    /// applied/partial: the grants accepting failing controls; not-covering: the live grants;
    /// expired/revoked: the decision that lapsed.
    public var grants: [ExceptionGrant]
    /// Failing controls no live grant accepts (partial, not-covering).
    public var uncovered: [String]
    /// The verdict without the exception.
    public var wouldBe: Verdict?

    public init(state: State, grants: [ExceptionGrant], uncovered: [String] = [], wouldBe: Verdict? = nil) {
        self.state = state; self.grants = grants; self.uncovered = uncovered; self.wouldBe = wouldBe
    }

    /// "#3 (dmarc) and #5 (spf)".
    public var grantList: String {
        grants.map { "#\($0.id) (\($0.scope))" }.joined(separator: " and ")
    }
}
