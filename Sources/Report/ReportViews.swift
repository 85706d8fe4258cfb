import Foundation
import MailDomain
import Policy

/// One thing someone must do for a Member: a required control that fails, could not be checked,
/// or an assessment that is due. The Monitoring Officer's section, the action plan and the
/// committee summary all list these, so they are worked out once, here.
public struct ActionItem: Sendable {
    public var finding: Finding
    /// "Member", "IT of Fenland District Council", "ICT provider (re-run the check)".
    public var owner: String
    public var nextStep: String
    /// The exception in force that accepts this control, if any.
    public var acceptedBy: ExceptionGrant?

    /// What must be done for the Member, in the order the findings are shown.
    public static func of(_ member: MemberResult) -> [ActionItem] {
        guard member.verdict != .compliant else { return [] }
        return FindingGroups(member.findings).actionable.map { finding in
            let accepting = member.exception.flatMap { note in
                note.state == .applied || note.state == .partial ? note.grants.first { $0.names(finding.control) } : nil
            }
            return ActionItem(finding: finding,
                              owner: WhoMustAct.who(finding, accountClass: member.accountClass, organisation: member.organisation),
                              nextStep: nextStep(finding), acceptedBy: accepting)
        }
    }

    private static func nextStep(_ finding: Finding) -> String {
        if let advice = finding.advice, !advice.isEmpty { return advice }
        if finding.status == .error { return "Re-run the audit; if it fails again, check the resolver and the domain's name servers." }
        if finding.control == "assessment.current" { return "Carry out the 10-minute assessment with the organisation's IT contact." }
        return finding.summary
    }
}

/// What a finding means for the reader: the one classification behind the order and colour of
/// findings, the action lists and the counts by control.
public enum FindingKind: Sendable {
    /// A required control that fails (or a required assessment that is missing or failed).
    case requiredFailure
    /// A required control whose check could not run.
    case couldNotCheck
    /// Falls short without counting against the Member: advised only, or a required control's warning.
    case shortfall
    case passed

    public init(_ finding: Finding) {
        if finding.isFailing || (finding.required && finding.control == "assessment.current" && finding.status != .pass && finding.status != .error) {
            self = .requiredFailure
        } else if finding.couldNotCheck {
            self = .couldNotCheck
        } else if finding.status == .pass || finding.status == .notApplicable {
            self = .passed
        } else {
            self = .shortfall
        }
    }
}

/// A Member's findings in the order a reader needs them: required failures, then what could not
/// be checked, then advised shortfalls and warnings, then what passes.
public struct FindingGroups: Sendable {
    public var requiredFailures: [Finding] = []
    public var couldNotCheck: [Finding] = []
    public var shortfalls: [Finding] = []
    public var passes: [Finding] = []

    public init(_ findings: [Finding]) {
        for finding in findings {
            switch FindingKind(finding) {
            case .requiredFailure: requiredFailures.append(finding)
            case .couldNotCheck: couldNotCheck.append(finding)
            case .shortfall: shortfalls.append(finding)
            case .passed: passes.append(finding)
            }
        }
    }

    public var ordered: [Finding] { requiredFailures + couldNotCheck + shortfalls + passes }
    /// What someone must act on.
    public var actionable: [Finding] { requiredFailures + couldNotCheck }
}

/// One council, business or the CPCA itself: its domains, its Members, the assessment that
/// covers it and the required controls its Members fail.
public struct OrganisationRow: Sendable {
    public var name: String
    public var accountClasses: [AccountClass]
    public var domains: [String]
    public var members: [MemberResult]
    /// "passed, until 2027-05-30", "failed on 2026-11-02", "due", "not needed".
    public var assessment: String
    public var assessmentUntil: Date?
    public var failingControls: [String]

    /// Grouped by the organisation the directory names (else the domain); personal webmail is
    /// listed under the Member's organisation, since it is that organisation's Member who acts.
    public static func rows(_ result: AuditResult) -> [OrganisationRow] {
        var order: [String] = []
        var grouped: [String: [MemberResult]] = [:]
        for member in result.members {
            let key = member.organisation.flatMap { $0.isEmpty ? nil : $0 } ?? member.domain ?? "(no organisation in the directory)"
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(member)
        }
        // Domains as a reader writes them (bücher.test, not xn--bcher-kva.test).
        var shown: [String: String] = [:]
        for member in result.members {
            if let domain = member.domain, let address = member.address, let at = address.lastIndex(of: "@") {
                shown[domain] = shown[domain] ?? address[address.index(after: at)...].lowercased()
            }
        }
        return order.sorted { $0.lowercased() < $1.lowercased() }.map { name in
            let members = grouped[name]!.sorted(by: HTMLReport.attentionOrder)
            let classes = AccountClass.allCases.filter { accountClass in members.contains { $0.accountClass == accountClass } }
            let domains = Array(Set(members.compactMap { member in
                member.domain.map { member.accountClass == .personal ? "\(shown[$0] ?? $0) (personal)" : shown[$0] ?? $0 }
            })).sorted()
            var failing: [String] = []
            for member in members {
                for finding in member.findings where finding.isFailing && !failing.contains(finding.control) { failing.append(finding.control) }
            }
            let (state, until) = assessmentState(members)
            return OrganisationRow(name: name, accountClasses: classes, domains: domains, members: members, assessment: state,
                                   assessmentUntil: until, failingControls: failing)
        }
    }

    private static func assessmentState(_ members: [MemberResult]) -> (String, Date?) {
        let records = members.compactMap(\.assessment).filter { $0.scope == .organisation }
        if let latest = records.max(by: { $0.assessedAt < $1.assessedAt }) {
            let until = DateFormatter.day.string(from: latest.validUntil)
            if members.contains(where: { $0.verdict == .assessmentDue }) { return ("ended or incomplete (was until \(until))", latest.validUntil) }
            return latest.passed ? ("passed, until \(until)", latest.validUntil)
                : ("failed on \(DateFormatter.day.string(from: latest.assessedAt))", latest.validUntil)
        }
        if members.contains(where: { $0.verdict == .assessmentDue }) { return ("due: none on record", nil) }
        if members.allSatisfy({ $0.accountClass == .organisation }) { return ("not needed (the authority's own accounts)", nil) }
        return ("none", nil)
    }
}

/// One control across the audit: how many domains and Members pass, fail or could not be checked.
public struct ControlRow: Sendable {
    public var control: String
    public var title: String
    public var domainsPassing = 0, domainsFailing = 0, domainsNotChecked = 0
    /// Members for whom the control is required.
    public var requiredFor = 0
    public var membersPassing = 0, membersFailing = 0, membersNotChecked = 0
    /// Members for whom it is advised only and who fall short of it.
    public var membersAdvised = 0

    public static func rows(_ result: AuditResult) -> [ControlRow] {
        var order: [String] = []
        var rows: [String: ControlRow] = [:]
        for member in result.members {
            for finding in member.findings {
                if rows[finding.control] == nil {
                    order.append(finding.control)
                    rows[finding.control] = ControlRow(control: finding.control, title: finding.title)
                }
                if finding.required { rows[finding.control]!.requiredFor += 1 }
                switch FindingKind(finding) {
                case .requiredFailure: rows[finding.control]!.membersFailing += 1
                case .couldNotCheck: rows[finding.control]!.membersNotChecked += 1
                case .shortfall where !finding.required: rows[finding.control]!.membersAdvised += 1
                case .shortfall, .passed: if finding.required { rows[finding.control]!.membersPassing += 1 }
                }
            }
        }
        for domain in result.domains {
            for check in domain.checks where rows[check.id] != nil {
                switch check.status {
                case .pass, .warn: rows[check.id]!.domainsPassing += 1
                case .fail, .notPresent: rows[check.id]!.domainsFailing += 1
                case .error: rows[check.id]!.domainsNotChecked += 1
                case .notApplicable: break
                }
            }
        }
        // The controls that fail most first: the view an auditor leads with.
        return order.map { rows[$0]! }.sorted {
            ($0.membersFailing, $0.membersNotChecked) != ($1.membersFailing, $1.membersNotChecked)
                ? ($0.membersFailing, $0.membersNotChecked) > ($1.membersFailing, $1.membersNotChecked)
                : order.firstIndex(of: $0.control)! < order.firstIndex(of: $1.control)!
        }
    }

    public var isDomainControl: Bool { Controls.domain.contains(control) }
}

extension MemberResult {
    /// The day the verdict holds until, where one is set: the exception's end, or the end of the
    /// assessment that makes the Member compliant.
    public var verdictUntil: Date? {
        if verdict == .exception, let grants = exception?.grants, !grants.isEmpty { return grants.map(\.expires).min() }
        if verdict == .compliant, let assessment, assessment.passed { return assessment.validUntil }
        return nil
    }
}

/// What ends within 30 days of the day judged: marked in the Monitoring Officer's section,
/// listed in the mailed report, and news for `when: on-change`.
public enum EndingSoon {
    public static func horizon(_ result: AuditResult) -> Date { result.asOf.addingTimeInterval(30 * 86_400) }

    /// Exceptions in force that end by the horizon, soonest first (as `result.exceptions` is).
    public static func exceptions(_ result: AuditResult) -> [ExceptionGrant] {
        let horizon = horizon(result)
        return result.exceptions.filter { $0.expires <= horizon }
    }

    /// The `members` whose passed assessment is still current and ends by the horizon.
    public static func assessments(_ result: AuditResult, members: [MemberResult]) -> [MemberResult] {
        let horizon = horizon(result)
        return members.filter { member in
            guard let assessment = member.assessment, assessment.passed else { return false }
            return assessment.validUntil > result.asOf && assessment.validUntil <= horizon
        }
    }
}
