import Foundation
import MailDomain

/// Two recorded runs compared Member by Member: how each verdict moved (in the kinds the reports'
/// "changes" use) and which controls' statuses changed. `mailaudit diff` and the console's
/// comparison both show this.
public struct RunDiff: Codable, Sendable {
    public static let schemaVersion = "mailaudit.diff/1"

    public struct ControlChange: Codable, Sendable, Equatable {
        public var control: String
        /// The status in each run; nil where the control was not judged for the Member.
        public var from: CheckStatus?
        public var to: CheckStatus?
    }

    public struct Entry: Codable, Sendable {
        public enum Kind: String, Codable, Sendable, CaseIterable {
            case newlyNonCompliant = "newly-non-compliant", resolved, nowExcepted = "now-excepted", otherChange = "other-change"
            case controlsChanged = "controls-changed", new, departed, unchanged
        }
        public var id: String
        public var name: String
        public var kind: Kind
        public var from: Verdict?
        public var to: Verdict?
        public var controlsChanged: [ControlChange]
    }

    public var schema = RunDiff.schemaVersion
    public var fromRun: Int64?
    public var toRun: Int64?
    public var fromAt: Date
    public var toAt: Date
    /// In the order of `Entry.Kind`, then by name.
    public var entries: [Entry]

    public static func between(_ earlier: AuditResult, _ later: AuditResult) -> RunDiff {
        let previous = PreviousRun(id: earlier.runId, at: earlier.generatedAt,
                                   entries: earlier.members.map { .init(id: $0.id, name: $0.name, verdict: $0.verdict) })
        let changes = RunChanges.between(previous, and: later.members)
        var kinds: [String: Entry.Kind] = [:]
        for (kind, list) in [(Entry.Kind.newlyNonCompliant, changes.newlyNonCompliant), (.resolved, changes.resolved),
                             (.nowExcepted, changes.nowExcepted), (.otherChange, changes.otherChanges), (.new, changes.newMembers)] {
            for change in list { kinds[change.id] = kind }
        }
        let before = Dictionary(earlier.members.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var entries: [Entry] = later.members.map { member in
            let old = before[member.id]
            let controls = old.map { controlChanges($0.findings, member.findings) } ?? []
            let kind = kinds[member.id] ?? (controls.isEmpty ? .unchanged : .controlsChanged)
            return Entry(id: member.id, name: member.name, kind: kind, from: old?.verdict, to: member.verdict, controlsChanged: controls)
        }
        let now = Set(later.members.map(\.id))
        entries += earlier.members.filter { !now.contains($0.id) }.map {
            Entry(id: $0.id, name: $0.name, kind: .departed, from: $0.verdict, to: nil, controlsChanged: [])
        }
        let order = Dictionary(uniqueKeysWithValues: Entry.Kind.allCases.enumerated().map { ($1, $0) })
        entries.sort { order[$0.kind]! != order[$1.kind]! ? order[$0.kind]! < order[$1.kind]! : $0.name.lowercased() < $1.name.lowercased() }
        return RunDiff(fromRun: earlier.runId, toRun: later.runId, fromAt: earlier.generatedAt, toAt: later.generatedAt, entries: entries)
    }

    private static func controlChanges(_ old: [Finding], _ new: [Finding]) -> [ControlChange] {
        let before = Dictionary(old.map { ($0.control, $0.status) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.map { ($0.control, $0.status) }, uniquingKeysWith: { first, _ in first })
        let controls = new.map(\.control) + old.map(\.control).filter { after[$0] == nil }
        return controls.compactMap { control in
            before[control] == after[control] ? nil : ControlChange(control: control, from: before[control], to: after[control])
        }
    }

    /// The entries a reader is shown: every one with `all`, else those that changed.
    public func shown(all: Bool) -> [Entry] { all ? entries : entries.filter { $0.kind != .unchanged } }
}
