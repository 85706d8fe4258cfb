import Directory
import Foundation
import Synchronization
import MailDomain

/// Exactly one per Member.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    case compliant
    case nonCompliant = "non-compliant"
    case assessmentDue = "assessment-due"
    case exception
    case unknown
}

/// One control judged for one Member.
public struct Finding: Codable, Sendable, Equatable {
    public var control: String
    /// Required by the Member's class (else only advised: reported, not judged).
    public var required: Bool
    public var status: CheckStatus
    public var title: String
    public var severity: String
    public var reference: String
    public var explanation: String
    public var summary: String
    public var advice: String?
    /// Evidence of member controls. Domain controls' evidence is in `AuditResult.domains`,
    /// under the Member's `domain`, stored once per domain.
    public var evidence: [Evidence]

    /// Counts against the Member. A missing assessment is "due", not a failure.
    public var isFailing: Bool {
        guard required else { return false }
        if control == "assessment.current" { return status == .fail }
        return status == .fail || status == .notPresent
    }

    public var couldNotCheck: Bool { required && status == .error }

    public init(control: String, required: Bool, status: CheckStatus, title: String, severity: String, reference: String,
                explanation: String, summary: String, advice: String?, evidence: [Evidence]) {
        self.control = control; self.required = required; self.status = status; self.title = title; self.severity = severity
        self.reference = reference; self.explanation = explanation; self.summary = summary; self.advice = advice; self.evidence = evidence
    }

    /// The control's own text, the same in every finding of that control.
    public var text: ControlText {
        get { ControlText(title: title, severity: severity, reference: reference, explanation: explanation) }
        set { title = newValue.title; severity = newValue.severity; reference = newValue.reference; explanation = newValue.explanation }
    }

    enum CodingKeys: String, CodingKey {
        case control, required, status, title, severity, reference, explanation, summary, advice, evidence
    }

    /// A finding as audit.json keeps it from schema 3 on: the control's text is not repeated in
    /// each of thousands of findings but written once in the audit's `controls` catalogue, and
    /// `AuditResult.init(from:)` puts it back. (Schema 2 results, which carry it in every
    /// finding, still read.) Decoded with a `StringInterner` in the user info, equal strings
    /// (the summaries most Members share) are stored once.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let interner = decoder.userInfo[.stringInterner] as? StringInterner
        func text(_ key: CodingKeys) throws -> String {
            let value = try container.decodeIfPresent(String.self, forKey: key) ?? ""
            return interner?.intern(value) ?? value
        }
        control = try container.decode(String.self, forKey: .control)
        control = interner?.intern(control) ?? control
        required = try container.decode(Bool.self, forKey: .required)
        status = try container.decode(CheckStatus.self, forKey: .status)
        title = try text(.title)
        severity = try text(.severity)
        reference = try text(.reference)
        explanation = try text(.explanation)
        summary = try container.decode(String.self, forKey: .summary)
        summary = interner?.intern(summary) ?? summary
        advice = try container.decodeIfPresent(String.self, forKey: .advice).map { interner?.intern($0) ?? $0 }
        evidence = try container.decode([Evidence].self, forKey: .evidence)
    }

    /// Without the control's text: that is in the audit's `controls` (see `init(from:)`).
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(control, forKey: .control)
        try container.encode(required, forKey: .required)
        try container.encode(status, forKey: .status)
        try container.encode(summary, forKey: .summary)
        try container.encodeIfPresent(advice, forKey: .advice)
        try container.encode(evidence, forKey: .evidence)
    }
}

/// What a control is, as every report shows it: audit.json's `controls` holds one per control
/// judged, keyed by its id.
public struct ControlText: Codable, Sendable, Equatable {
    public var title: String
    public var severity: String
    public var reference: String
    public var explanation: String
}

/// Gives back one stored copy of each equal string (see `Finding.init(from:)`).
public final class StringInterner: Sendable {
    // One decoder may call from any thread.
    private let strings = Mutex<Set<String>>([])

    public init() {}

    public func intern(_ text: String) -> String {
        strings.withLock { strings in
            if let stored = strings.firstIndex(of: text) { return strings[stored] }
            strings.insert(text)
            return text
        }
    }
}

extension CodingUserInfoKey {
    /// A `StringInterner` to share equal strings while decoding.
    public static let stringInterner = CodingUserInfoKey(rawValue: "mailaudit.stringInterner")!
}

public struct MemberResult: Codable, Sendable {
    public var id: String
    public var name: String
    public var role: String?
    public var organisation: String?
    public var address: String?
    /// The address's domain as checked (A-labels).
    public var domain: String?
    public var accountClass: AccountClass
    public var kind: Member.Kind
    public var verdict: Verdict
    /// One sentence: why this verdict.
    public var reason: String
    public var findings: [Finding]
    /// The Monitoring Officer's exception: applied, not covering what fails, expired or revoked.
    public var exception: ExceptionNote?
    /// The 10-minute assessment that covers the Member's organisation (external accounts).
    public var assessment: AssessmentRecord?

    /// Anything but compliant or excepted: someone has to act.
    public var needsAction: Bool { verdict != .compliant && verdict != .exception }
}

/// What changed since the previous run in the register.
public struct RunChanges: Codable, Sendable, Equatable {
    public struct Change: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var from: Verdict?
        public var to: Verdict?
    }
    /// The run compared with: the latest earlier run by real time (backdated runs are never it).
    public var previousRunId: Int64?
    public var previousRunAt: Date
    public var newlyNonCompliant: [Change]
    /// Now compliant, from anything else but an exception.
    public var resolved: [Change]
    /// Now an exception: the shortfall is still there, the Monitoring Officer accepted it.
    public var nowExcepted: [Change]
    public var otherChanges: [Change]
    public var newMembers: [Change]
    public var departedMembers: [Change]

    /// Each list with the heading the reports give it, in the order they show them.
    public var labelled: [(String, [Change])] {
        [("Newly non-compliant", newlyNonCompliant), ("Resolved", resolved), ("Now excepted", nowExcepted),
         ("Other changes", otherChanges), ("New Members", newMembers), ("Departed Members", departedMembers)]
    }

    public var isEmpty: Bool {
        newlyNonCompliant.isEmpty && resolved.isEmpty && nowExcepted.isEmpty && otherChanges.isEmpty && newMembers.isEmpty && departedMembers.isEmpty
    }
}

/// Members per verdict in one recorded run: a point of the trend the reports draw.
public struct TrendPoint: Codable, Sendable, Equatable {
    public var runId: Int64?
    /// When the run happened.
    public var at: Date
    public var counts: [String: Int]

    public init(runId: Int64?, at: Date, counts: [String: Int]) {
        self.runId = runId; self.at = at; self.counts = counts
    }
}

/// The whole audit: the one model every report is written from.
public struct AuditResult: Codable, Sendable {
    /// 3: each control's text once, in `controls`, instead of in every finding.
    public static let schemaVersion = "mailaudit.audit/3"
    /// The versions this one reads (a register keeps the runs of earlier versions).
    public static let readableSchemas: Set<String> = ["mailaudit.audit/2", "mailaudit.audit/3"]

    public struct PolicyInfo: Codable, Sendable {
        public var file: String
        public var sha256: String
        public var implements: String
        public var organisation: String
        public var baseline: String
    }

    public struct DirectoryInfo: Codable, Sendable {
        public var source: String
        public var profile: String
    }

    public var schema = AuditResult.schemaVersion
    /// When the run really happened.
    public var generatedAt: Date
    /// The moment judged: now, or the end of the day given with --as-of. Only assessments and
    /// decisions recorded by then count.
    public var asOf: Date
    /// Judged as of an earlier day.
    public var backdated: Bool
    /// The register's number for this run; nil when it was not recorded.
    public var runId: Int64?
    /// Why the run is not in the register (--no-record, a backdated run, a busy register), or nil.
    public var notRecorded: String?
    public var toolVersion = ToolVersion.current
    public var policy: PolicyInfo
    public var directory: DirectoryInfo
    public var members: [MemberResult]
    /// Each distinct domain checked, with its evidence.
    public var domains: [DomainReport]
    public var changes: RunChanges?
    /// Live exceptions, soonest expiry first.
    public var exceptions: [ExceptionGrant] = []
    public var warnings: [String]
    /// Verdict counts of the recorded runs up to this one, oldest first (at most the last 24).
    public var trend: [TrendPoint] = []
    /// Names and addresses of Members without a CPCA account were replaced (--redact).
    public var redacted = false
    /// A replay (`audit --replay N`): run N's directory read and domain checks judged again
    /// under the current policy, without the network. nil for an audit that checked.
    public var replayOf: Int64?

    /// How a replay's notice begins: it is the first of its warnings, so audit.json carries it.
    public static let replayNoticeOpening = "This is a replay of run #"

    /// A replay's notice (what was judged again, and what was not), shown on every output.
    public var replayNotice: String? {
        replayOf == nil ? nil : warnings.first { $0.hasPrefix(Self.replayNoticeOpening) }
    }

    public init(generatedAt: Date, asOf: Date, backdated: Bool, policy: PolicyInfo, directory: DirectoryInfo, members: [MemberResult],
                domains: [DomainReport], changes: RunChanges?, warnings: [String]) {
        self.generatedAt = generatedAt
        self.asOf = asOf
        self.backdated = backdated
        self.policy = policy
        self.directory = directory
        self.members = members
        self.domains = domains
        self.changes = changes
        self.warnings = warnings
    }

    /// Members per verdict; every verdict is present, zero or not.
    public var summary: [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: Verdict.allCases.map { ($0.rawValue, 0) })
        for member in members { counts[member.verdict.rawValue, default: 0] += 1 }
        return counts
    }

    /// Each control judged, with its text, keyed by id (audit.json's `controls`).
    public func controlCatalogue() throws -> [String: ControlText] {
        var catalogue: [String: ControlText] = [:]
        for member in members {
            for finding in member.findings {
                let text = finding.text
                if let known = catalogue[finding.control] {
                    // The policy gives a control one text; two would lose one of them in the file.
                    guard known == text else {
                        throw EncodingError.invalidValue(text, .init(codingPath: [], debugDescription: "control \(finding.control) has two different texts"))
                    }
                } else {
                    catalogue[finding.control] = text
                }
            }
        }
        return catalogue
    }

    /// audit.json's top-level fields in the order they are written (sorted, as the encoder sorts
    /// keys): the one list both `encode(to:)` and `StreamedJSON` follow.
    public func fields() throws -> [(key: String, value: StreamedJSON.Field)] {
        var fields: [(key: String, value: StreamedJSON.Field)] = [
            ("schema", .value(schema)),
            ("toolVersion", .value(toolVersion)),
            ("runId", .value(runId)),              // null rather than absent: a stable shape
            ("notRecorded", .value(notRecorded)),
            ("generatedAt", .value(generatedAt)),
            ("asOf", .value(asOf)),
            ("backdated", .value(backdated)),
            ("policy", .value(policy)),
            ("directory", .value(directory)),
            ("summary", .value(summary)),
            ("controls", .value(try controlCatalogue())),
            ("members", .list(members)),
            ("domains", .list(domains)),
            ("exceptions", .value(exceptions)),
            ("warnings", .value(warnings)),
            ("trend", .value(trend)),
            ("redacted", .value(redacted)),
            ("replayOf", .value(replayOf)),
        ]
        if let changes { fields.append(("changes", .value(changes))) }
        return fields.sorted { $0.key < $1.key }
    }

    struct FieldKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    enum CodingKeys: String, CodingKey {
        case schema, toolVersion, runId, notRecorded, generatedAt, asOf, backdated, policy, directory, summary, controls, members, domains, changes,
             exceptions, warnings, trend, redacted, replayOf
    }

    /// Reads an `audit.json` back, of this schema or an earlier one (the counts in `summary`
    /// are worked out again from `members`; the findings get their control's text again).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let schema = try container.decode(String.self, forKey: .schema)
        guard Self.readableSchemas.contains(schema) else {
            throw DecodingError.dataCorruptedError(forKey: .schema, in: container,
                                                   debugDescription: "schema '\(schema)' is not one this version reads (\(Self.readableSchemas.sorted().joined(separator: ", ")))")
        }
        // Read into the current model, which is written back in the current schema.
        self.schema = Self.schemaVersion
        toolVersion = try container.decode(String.self, forKey: .toolVersion)
        runId = try container.decodeIfPresent(Int64.self, forKey: .runId)
        notRecorded = try container.decodeIfPresent(String.self, forKey: .notRecorded)
        generatedAt = try container.decode(Date.self, forKey: .generatedAt)
        asOf = try container.decode(Date.self, forKey: .asOf)
        backdated = try container.decode(Bool.self, forKey: .backdated)
        policy = try container.decode(PolicyInfo.self, forKey: .policy)
        directory = try container.decode(DirectoryInfo.self, forKey: .directory)
        members = try container.decode([MemberResult].self, forKey: .members)
        domains = try container.decode([DomainReport].self, forKey: .domains)
        changes = try container.decodeIfPresent(RunChanges.self, forKey: .changes)
        exceptions = try container.decodeIfPresent([ExceptionGrant].self, forKey: .exceptions) ?? []
        warnings = try container.decodeIfPresent([String].self, forKey: .warnings) ?? []
        trend = try container.decodeIfPresent([TrendPoint].self, forKey: .trend) ?? []
        redacted = try container.decodeIfPresent(Bool.self, forKey: .redacted) ?? false
        replayOf = try container.decodeIfPresent(Int64.self, forKey: .replayOf)
        if schema != "mailaudit.audit/2" {
            let catalogue = try container.decode([String: ControlText].self, forKey: .controls)
            for m in members.indices {
                for f in members[m].findings.indices {
                    let control = members[m].findings[f].control
                    guard let text = catalogue[control] else {
                        throw DecodingError.dataCorruptedError(forKey: .controls, in: container,
                                                               debugDescription: "member \(members[m].id)'s finding of \(control) has no entry in controls")
                    }
                    members[m].findings[f].text = text
                }
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        for (key, field) in try fields() {
            switch field {
            case .value(let value): try container.encode(value, forKey: FieldKey(stringValue: key))
            case .list(let list):
                var elements = container.nestedUnkeyedContainer(forKey: FieldKey(stringValue: key))
                for element in list { try elements.encode(element) }
            }
        }
    }

    /// Anything but compliant or excepted means someone has to act.
    public var needsAction: Bool { members.contains(where: \.needsAction) }
}

/// The tool's version: `mailaudit --version`, `toolVersion` in audit.json, the reports' footers.
public enum ToolVersion {
    public static let current = "0.11.0"
}
