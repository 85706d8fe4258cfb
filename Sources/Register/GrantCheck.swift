import Foundation
import Policy

/// Whether a Monitoring Officer's grant may be recorded: it must accept only what the Member
/// really fails in the latest audit run, and what it replaces is said. Every front end that
/// records a grant asks this first.
public enum GrantCheck {
    public struct Decision: Sendable {
        /// The controls the grant accepts (for a whole-Member grant: every failing one).
        public var controls: [String]
        /// Live grants for the same Member naming one of these controls: this one replaces them.
        public var supersedes: [ExceptionGrant]
        /// The run the grant was checked against: "the latest run (#4 of 2026-11-30)".
        public var checkedAgainst: String
    }

    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// `controls` nil: every required control the Member fails (a missing or lapsed assessment
    /// only when named: an exception never stands in for one by default).
    public static func check(memberId: String, controls: [String]?, confirmPersonal: Bool, policy: MemberEmailPolicy,
                             register: AuditRegister, now: Date) throws -> Decision {
        guard let latest = try register.latestRunEntry(memberId: memberId) else {
            throw Refusal("no audit run is recorded yet: run mailaudit audit first, so that the grant can be checked against what the Member fails")
        }
        let run = "the latest run (#\(latest.runId) of \(DateFormatter.day.string(from: latest.at)))"
        guard let member = latest.member else {
            throw Refusal("the Member was not in \(run): run mailaudit audit again, then decide")
        }
        let findings = member.findings ?? member.failingControls.map { .init(control: $0, required: true, status: "fail") }
        // Failing, or for assessment.current missing or lapsed: what a grant may accept.
        func isFailing(_ finding: AuditRegister.RunMember.FindingState) -> Bool {
            finding.required && (finding.status == "fail" || finding.status == "not-present")
        }
        let wanted = controls ?? findings.filter { isFailing($0) && $0.control != "assessment.current" }.map(\.control)
        guard !wanted.isEmpty else {
            throw Refusal("\(member.name) fails no required control in \(run): there is nothing to except")
        }
        for control in wanted {
            guard let finding = findings.first(where: { $0.control == control }) else {
                throw Refusal("\(control) is not judged for \(member.accountClass) accounts under the policy, so \(member.name) cannot fail it")
            }
            guard finding.required else {
                throw Refusal("\(control) is only advised for \(member.accountClass) accounts: it never counts against \(member.name), so there is nothing to except")
            }
            if finding.status == "error" {
                throw Refusal("\(control) could not be checked for \(member.name) in \(run): an exception is for a known shortfall; re-run the audit")
            }
            guard isFailing(finding) else {
                throw Refusal("\(member.name) does not fail \(control) in \(run) (it is \(finding.status)); an exception is only for what fails")
            }
        }
        if wanted.contains("email.personal") && !confirmPersonal {
            throw Refusal("personal webmail is never acceptable under the rule (\(policy.implements)); to except email.personal all the same, add --confirm-personal")
        }
        let live = try register.exceptions().filter { $0.memberId == memberId && $0.isLive(at: now) }
        let supersedes = live.filter { grant in wanted.contains(where: grant.names) }
        return Decision(controls: wanted, supersedes: supersedes, checkedAgainst: run)
    }

    /// The end of the day `day` (YYYY-MM-DD, UTC) as a grant's end: not past, and no further away
    /// than the policy's longest exception.
    public static func expiry(_ day: String, policy: MemberEmailPolicy, now: Date, option: String = "--until") throws -> Date {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.locale = Locale(identifier: "en_US_POSIX")
        guard day.count == 10, let start = formatter.date(from: day) else { throw Refusal("\(option) takes a day as YYYY-MM-DD, got \(day)") }
        let expires = start.addingTimeInterval(86_399)
        guard expires > now else { throw Refusal("\(option) \(day) is in the past") }
        let longest = Calendar(identifier: .gregorian).date(byAdding: .month, value: policy.exceptionMaxMonths, to: now)!
        guard expires <= longest else {
            throw Refusal("\(option) \(day) is more than the policy's \(policy.exceptionMaxMonths) months away (exceptions.maxMonths in \(policy.file))")
        }
        return expires
    }

    /// The latest day a grant may run to under the policy, as YYYY-MM-DD.
    public static func latestDay(policy: MemberEmailPolicy, now: Date) -> String {
        DateFormatter.day.string(from: Calendar(identifier: .gregorian).date(byAdding: .month, value: policy.exceptionMaxMonths, to: now)!.addingTimeInterval(-86_400))
    }
}
