import Directory
import Foundation
import MailDomain

/// Judges one Member against the policy: the controls their class requires (and those it only
/// advises), then exactly one verdict.
public struct PolicyEngine: Sendable {
    public let policy: MemberEmailPolicy
    /// The directory group whose members have MFA enforced (site.yaml accounts.mfaGroup).
    public let mfaGroup: String?
    public let now: Date

    public init(policy: MemberEmailPolicy, mfaGroup: String?, now: Date) {
        self.policy = policy
        self.mfaGroup = mfaGroup
        self.now = now
    }

    public func evaluate(_ member: Member, accountClass: AccountClass, domain: String?, domainReport: DomainReport?,
                         assessment: AssessmentRecord?, exceptions: [ExceptionGrant] = []) -> MemberResult {
        let rule = policy.classes[accountClass] ?? .init(require: [], advise: [])
        var findings: [Finding] = []
        for (control, required) in rule.require.map({ ($0, true) }) + rule.advise.map({ ($0, false) }) {
            findings.append(finding(control, required: required, member: member, domainReport: domainReport, assessment: assessment))
        }
        var (verdict, reason) = Self.verdict(findings, accountClass: accountClass)
        let note = exceptionNote(exceptions, verdict: verdict, failing: findings.filter(\.isFailing).map(\.control))
        if note?.state == .applied, let grant = note?.grant {
            reason = "Accepted by \(grant.decidedBy) until \(DateFormatter.day.string(from: grant.expires)): \(grant.reason) (otherwise: \(reason))"
            verdict = .exception
        } else if let note, note.state == .expired || note.state == .revoked {
            let when = note.state == .expired ? "expired on \(DateFormatter.day.string(from: note.grant.expires))"
                : "was revoked by \(note.grant.revocation?.decidedBy ?? "?")"
            reason += " (The exception granted by \(note.grant.decidedBy) \(when).)"
        }
        return MemberResult(id: member.id, name: member.displayName ?? member.dn, role: member.role,
                            organisation: member.organisation, address: member.effectiveAddress, domain: domain,
                            accountClass: accountClass, kind: member.kind, verdict: verdict, reason: reason, findings: findings,
                            exception: note, assessment: accountClass == .external ? assessment : nil)
    }

    /// A live grant covering every failing control turns non-compliant into exception. Otherwise
    /// the most recent grant is reported: lapsed ones bring the finding back, and say so.
    private func exceptionNote(_ grants: [ExceptionGrant], verdict: Verdict, failing: [String]) -> ExceptionNote? {
        let live = grants.filter { $0.isLive(at: now) }.sorted { $0.expires > $1.expires }
        if verdict == .nonCompliant, let grant = live.first(where: { $0.covers(failing) }) {
            return ExceptionNote(state: .applied, grant: grant, wouldBe: verdict)
        }
        if let grant = live.first {
            return ExceptionNote(state: .notCovering, grant: grant, wouldBe: nil)
        }
        guard let latest = grants.max(by: { $0.decidedAt < $1.decidedAt }) else { return nil }
        return ExceptionNote(state: latest.revocation != nil ? .revoked : .expired, grant: latest, wouldBe: nil)
    }

    /// Failures first (a known failure is known, whatever else could not be checked), then
    /// anything that could not be checked, then a missing assessment.
    static func verdict(_ findings: [Finding], accountClass: AccountClass) -> (Verdict, String) {
        // The findings' own sentences say what is wrong ("The account is disabled."); a control's
        // title says what should be true, and would read the wrong way round here.
        let failing = findings.filter(\.isFailing)
        if !failing.isEmpty {
            return (.nonCompliant, failing.map(\.summary).joined(separator: " "))
        }
        let unchecked = findings.filter(\.couldNotCheck)
        if !unchecked.isEmpty {
            return (.unknown, "Could not be checked (\(unchecked.map(\.control).joined(separator: ", "))): " + unchecked[0].summary)
        }
        if let assessment = findings.first(where: { $0.control == "assessment.current" && $0.required }), assessment.status != .pass {
            return (.assessmentDue, assessment.summary)
        }
        return (.compliant, accountClass == .organisation ? "A CPCA account in good order." : "Meets every required control, with a current assessment.")
    }

    private func finding(_ control: String, required: Bool, member: Member, domainReport: DomainReport?,
                         assessment: AssessmentRecord?) -> Finding {
        let description = policy.description(of: control)
            ?? ControlDescription(title: control, severity: "medium", reference: "", explanation: "")
        func make(_ status: CheckStatus, _ summary: String, advice: String? = nil, evidence: [Evidence] = []) -> Finding {
            Finding(control: control, required: required, status: status, title: description.title, severity: description.severity,
                    reference: description.reference, explanation: description.explanation, summary: summary,
                    advice: status == .pass ? nil : advice, evidence: evidence)
        }
        if Controls.domain.contains(control) {
            guard let check = domainReport?.check(control) else {
                return make(.error, "The mail domain was not checked (no usable address).")
            }
            // The evidence stays with the domain (AuditResult.domains), once however many Members
            // share it; the Member's `domain` points to it.
            return make(check.status, check.summary, advice: check.advice ?? description.fix)
        }
        switch control {
        case "email.personal":
            return make(.fail, "\(member.effectiveAddress ?? "The address") is personal webmail.",
                        advice: "Ask the Member to use a CPCA account, or a council or business account that passes the 10-minute assessment.")
        case "email.address":
            return make(.fail, "The directory holds no email address for this Member.",
                        advice: "Record the address the Member uses for CPCA business.")
        case "assessment.current":
            return assessmentFinding(assessment, make: make)
        default:
            return accountFinding(control, member: member, make: make)
        }
    }

    private func assessmentFinding(_ assessment: AssessmentRecord?, make: (CheckStatus, String, String?, [Evidence]) -> Finding) -> Finding {
        let day = DateFormatter.day
        guard let assessment else {
            return make(.notPresent, "No 10-minute assessment is on record.", "Book the 10-minute assessment with the organisation's IT contact.", [])
        }
        if !assessment.passed {
            let items = assessment.failedItems.isEmpty ? "" : " (failed: \(assessment.failedItems.joined(separator: ", ")))"
            return make(.fail, "The 10-minute assessment of \(day.string(from: assessment.assessedAt)) by \(assessment.assessor) failed\(items).",
                        "Fix the failed items with the organisation, then assess again.", [])
        }
        if assessment.validUntil <= now {
            return make(.notPresent, "The 10-minute assessment lapsed on \(day.string(from: assessment.validUntil)).",
                        "Assess again: an assessment stays current for \(policy.assessmentValidMonths) months.", [])
        }
        return make(.pass, "Assessed by \(assessment.assessor) on \(day.string(from: assessment.assessedAt)); current until \(day.string(from: assessment.validUntil)).", nil, [])
    }

    private func accountFinding(_ control: String, member: Member, make: (CheckStatus, String, String?, [Evidence]) -> Finding) -> Finding {
        guard let account = member.account else {
            return make(.fail, "The address is the organisation's, but the directory has no account for this Member (a contact).",
                        "Create the Member's CPCA account, or record the address they really use.", [])
        }
        let day = DateFormatter.day
        func unknown(_ what: String) -> Finding { make(.error, "The directory does not say whether \(what).", nil, []) }
        switch control {
        case "account.enabled":
            guard let enabled = account.enabled else { return unknown("the account is enabled") }
            return enabled ? make(.pass, "The account is enabled.", nil, [])
                : make(.fail, "The account is disabled.", "Enable the account if the Member still uses it, or record the address they use.", [])
        case "account.locked":
            guard let locked = account.locked else { return unknown("the account is locked") }
            return locked ? make(.fail, "The account is locked out.", "Find out why (forgotten password or an attack), then unlock it.", [])
                : make(.pass, "The account is not locked.", nil, [])
        case "account.expired":
            guard let expired = account.expired else { return make(.notApplicable, "The directory sets no expiry date on accounts.", nil, []) }
            return expired ? make(.fail, "The account expired on \(account.accountExpires.map(day.string) ?? "an earlier date").", "Extend the account, or close it if the Member has left.", [])
                : make(.pass, "The account has not expired.", nil, [])
        case "account.stale":
            let lag = account.lastLogonMayLagDays ?? 0
            guard let last = account.lastLogon else {
                return make(.fail, "No sign-in is recorded for the account.", "Confirm the Member uses this account; disable it if not.", [])
            }
            let days = Int(now.timeIntervalSince(last) / 86_400)
            if days > policy.staleAfterDays + lag {
                return make(.fail, "Last sign-in \(day.string(from: last)), \(days) days ago (more than \(policy.staleAfterDays)\(lag > 0 ? " + \(lag) days' replication lag" : "")).",
                            "Confirm the Member uses this account; disable it if not.", [])
            }
            return make(.pass, "Last sign-in \(day.string(from: last)) (\(days) days ago).", nil, [])
        case "account.password":
            if account.passwordNotRequired == true {
                return make(.fail, "The account is allowed to have no password (PASSWD_NOTREQD).", "Clear the flag and set a password.", [])
            }
            if account.mustChangePassword {
                return make(.warn, "The initial or reset password has not been changed yet.", "Make sure the Member signs in and sets their own password.", [])
            }
            if let maxAge = policy.passwordMaxAgeDays, let set = account.passwordLastSet {
                let age = Int(now.timeIntervalSince(set) / 86_400)
                if age > maxAge {
                    return make(.fail, "The password was set \(age) days ago (policy: at most \(maxAge)).", "Ask the Member to change the password.", [])
                }
            }
            return make(.pass, account.passwordLastSet.map { "The password was last set on \(day.string(from: $0))." } ?? "A password is required.", nil, [])
        case "account.mfa":
            guard let group = mfaGroup else {
                return make(.error, "No MFA group is configured (site.yaml accounts.mfaGroup).", nil, [])
            }
            let wanted = normalizedDN(group)
            return member.groups.contains(where: { normalizedDN($0) == wanted })
                ? make(.pass, "The account is in the MFA-enforced group.", nil, [])
                : make(.fail, "The account is not in the MFA-enforced group, so a password alone opens it.", "Add the account to \(group).", [])
        default:
            return make(.error, "Unknown control \(control).", nil, [])
        }
    }
}

extension DateFormatter {
    /// "2026-11-22", UTC: dates in reports are days.
    static let day: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.locale = Locale(identifier: "en_GB_POSIX")
        return formatter
    }()
}
