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
        let judgement = Self.judge(findings, accountClass: accountClass, exceptions: ExceptionBook(exceptions, asOf: now))
        return MemberResult(id: member.id, name: member.displayName ?? member.dn, role: member.role,
                            organisation: member.organisation, address: member.effectiveAddress, domain: domain,
                            accountClass: accountClass, kind: member.kind, verdict: judgement.verdict, reason: judgement.reason,
                            findings: findings, exception: judgement.note, assessment: accountClass == .external ? assessment : nil)
    }

    /// The verdict rule, in order: a known failure no live grant accepts makes the Member
    /// non-compliant (a known failure is known, whatever else could not be checked); then a
    /// required check that could not run makes them unknown; then a missing or lapsed assessment
    /// makes them assessment-due (only a grant naming assessment.current stands in for one);
    /// then failures all accepted by live grants make an exception; else compliant.
    static func judge(_ findings: [Finding], accountClass: AccountClass, exceptions: ExceptionBook)
        -> (verdict: Verdict, reason: String, note: ExceptionNote?) {
        let day = DateFormatter.day
        // The findings' own sentences say what is wrong ("The account is disabled."); a control's
        // title says what should be true, and would read the wrong way round here.
        let failing = findings.filter(\.isFailing)
        let due = findings.first { $0.control == "assessment.current" && $0.required && $0.status == .notPresent }
        var accepted: [ExceptionGrant] = []
        var uncovered: [Finding] = []
        for finding in failing + (due.map { [$0] } ?? []) {
            if let grant = exceptions.grants(for: finding.control).first {
                if !accepted.contains(grant) { accepted.append(grant) }
            } else {
                uncovered.append(finding)
            }
        }
        let uncoveredFailures = uncovered.filter(\.isFailing)
        let assessmentDue = uncovered.contains { $0.control == "assessment.current" && !$0.isFailing }
        let unchecked = findings.filter(\.couldNotCheck)
        let wouldBe: Verdict = failing.isEmpty ? (unchecked.isEmpty ? .assessmentDue : .unknown) : .nonCompliant
        let partialNote: ExceptionNote? = accepted.isEmpty ? nil
            : ExceptionNote(state: .partial, grants: accepted, uncovered: uncovered.map(\.control), wouldBe: nil)
        func acceptedOnly() -> String {
            " Exception \(partialNote!.grantList) accepts only part of this; it does not change the verdict."
        }

        if !uncoveredFailures.isEmpty {
            var reason = "Non-compliant: " + uncoveredFailures.map(\.summary).joined(separator: " ")
            if partialNote != nil { reason += acceptedOnly() }
            return (.nonCompliant, reason + lapsedRemark(exceptions, shown: partialNote == nil), partialNote ?? otherNote(exceptions, failing: failing))
        }
        if !unchecked.isEmpty {
            let cause = CouldNotCheck.cause(of: unchecked[0].summary)
            var reason = "Unknown: \(unchecked.map(\.control).joined(separator: ", ")) could not be checked (\(cause)); re-run the audit."
            if partialNote != nil { reason += " Exception \(partialNote!.grantList) is in force." }
            return (.unknown, reason, partialNote ?? otherNote(exceptions, failing: failing))
        }
        if assessmentDue, let due {
            var reason = "Assessment due: " + due.summary
            if partialNote != nil { reason += acceptedOnly() }
            return (.assessmentDue, reason + lapsedRemark(exceptions, shown: partialNote == nil), partialNote ?? otherNote(exceptions, failing: failing))
        }
        if !accepted.isEmpty {
            let otherwise = (failing + (due.map { [$0] } ?? [])).map(\.summary).joined(separator: " ")
            let decisions = accepted.map { "Accepted by \($0.decidedBy) until \(day.string(from: $0.expires)) (#\($0.id), \($0.scope)): \($0.reason)" }
            let reason = decisions.joined(separator: "; ") + " (otherwise \(wouldBe.rawValue): \(otherwise))"
            return (.exception, reason, ExceptionNote(state: .applied, grants: accepted, wouldBe: wouldBe))
        }
        let assessed = findings.first { $0.control == "assessment.current" && $0.status == .pass }
        let reason = accountClass == .organisation ? "Compliant: a CPCA account in good order."
            : "Compliant: meets every required control." + (assessed.map { " " + $0.summary } ?? "")
        return (.compliant, reason, otherNote(exceptions, failing: failing))
    }

    /// A live grant that accepts nothing failing now, else the decision that lapsed last.
    private static func otherNote(_ exceptions: ExceptionBook, failing: [Finding]) -> ExceptionNote? {
        if !exceptions.live.isEmpty {
            return ExceptionNote(state: .notCovering, grants: exceptions.live, uncovered: failing.map(\.control))
        }
        guard let lapsed = exceptions.latestLapsed else { return nil }
        return ExceptionNote(state: lapsed.revocation != nil ? .revoked : .expired, grants: [lapsed])
    }

    /// For a Member who needs action, why an earlier exception no longer helps. A compliant
    /// Member's reason never quotes one.
    private static func lapsedRemark(_ exceptions: ExceptionBook, shown: Bool) -> String {
        guard shown, exceptions.live.isEmpty, let lapsed = exceptions.latestLapsed else { return "" }
        let when = lapsed.revocation.map { "was revoked by \($0.decidedBy) on \(DateFormatter.day.string(from: $0.decidedAt))" }
            ?? "expired on \(DateFormatter.day.string(from: lapsed.expires))"
        return " (The exception #\(lapsed.id) granted by \(lapsed.decidedBy) \(when).)"
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
                return make(.error, "The mail domain was not checked (no usable address).",
                            advice: "Correct the Member's address in the directory, then re-run the audit.")
            }
            // The evidence stays with the domain (AuditResult.domains), once however many Members
            // share it; the Member's `domain` points to it.
            // A check that could not run says so; the fix for an absent record would be wrong advice.
            let advice = check.status == .error ? CouldNotCheck.advice(for: check.summary) : (check.advice ?? description.fix)
            return make(check.status, check.summary, advice: advice)
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
            return make(.notPresent, "No 10-minute assessment of the organisation's mail system is on record.",
                        "Book the 10-minute assessment with the organisation's IT contact (mailaudit assess).", [])
        }
        let subject = "The 10-minute assessment of \(assessment.subject) on \(day.string(from: assessment.assessedAt)) by \(assessment.assessor)"
        if !assessment.passed {
            let items = assessment.failedItems.isEmpty ? "" : " (failed: \(assessment.failedItems.joined(separator: ", ")))"
            return make(.fail, "\(subject) failed\(items).", "Fix the failed items with the organisation, then assess again.", [])
        }
        if assessment.validUntil <= now {
            return make(.notPresent, "\(subject) lapsed on \(day.string(from: assessment.validUntil)).",
                        "Assess the organisation again: an assessment stays current for \(policy.assessmentValidMonths) months"
                            + " (or until its Cyber Essentials certificate expires, if sooner).", [])
        }
        if !assessment.pendingMemberQuestions.isEmpty {
            return make(.notPresent, "\(subject) covers the mail system, but the questions about this Member's own account "
                            + "(\(assessment.pendingMemberQuestions.joined(separator: ", "))) are still to be answered.",
                        "Answer them for this Member: mailaudit assess --member <this Member>.", [])
        }
        return make(.pass, "\(subject) passed; current until \(day.string(from: assessment.validUntil)).", nil, [])
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
    public static let day: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.locale = Locale(identifier: "en_GB_POSIX")
        return formatter
    }()
}
