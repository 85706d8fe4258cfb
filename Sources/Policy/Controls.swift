import Foundation
import MailDomain

/// Every control the policy can name. Domain controls are the checks of `check-domain`; member
/// controls are judged from the directory and the register.
public enum Controls {
    public static let domain = DomainChecker.checkIDs + DomainChecker.optionalCheckIDs
    public static let member = ["email.personal", "email.address", "account.enabled", "account.locked",
                                "account.expired", "account.stale", "account.password", "account.mfa",
                                "assessment.current"]
    public static let all = domain + member

    /// Plain-English titles and references of the member controls. (The domain controls' come
    /// from the baseline file.)
    public static let memberDescriptions: [String: ControlDescription] = [
        "email.personal": ControlDescription(
            title: "The Member does not use personal webmail", severity: "high",
            reference: "CPCA Member/Officer protocol, paragraph 4.3",
            explanation: "Personal webmail is outside the CPCA's and any council's control: no assurance of its security, and CPCA information leaves the organisation's records."),
        "email.address": ControlDescription(
            title: "An email address is on record", severity: "high",
            reference: "CPCA Member/Officer protocol, paragraph 4.3",
            explanation: "Without an address of record nobody can tell which account the Member uses for CPCA business."),
        "account.enabled": ControlDescription(
            title: "The CPCA account is enabled", severity: "high", reference: "CPCA ICT account management",
            explanation: "A disabled account cannot be used: the Member is using something else, or has left."),
        "account.locked": ControlDescription(
            title: "The CPCA account is not locked out", severity: "medium", reference: "CPCA ICT account management",
            explanation: "A locked-out account may be under a password-guessing attack, or the Member cannot get in."),
        "account.expired": ControlDescription(
            title: "The CPCA account has not expired", severity: "high", reference: "CPCA ICT account management",
            explanation: "An expired account cannot be used."),
        "account.stale": ControlDescription(
            title: "The CPCA account is in use", severity: "medium", reference: "NCSC: manage user accounts",
            explanation: "An account nobody signs in to is not the one the Member uses, and is an unwatched way in."),
        "account.password": ControlDescription(
            title: "The password is set and required", severity: "high", reference: "NCSC password guidance",
            explanation: "An account that needs no password, or whose first password was never changed, can be used by someone else."),
        "account.mfa": ControlDescription(
            title: "Multi-factor authentication is enforced", severity: "high", reference: "NCSC: multi-factor authentication",
            explanation: "With MFA, a stolen password alone does not open the account."),
        "assessment.current": ControlDescription(
            title: "A 10-minute assessment has passed and is current", severity: "high",
            reference: "CPCA Member/Officer protocol, paragraph 4.3",
            explanation: "A council or business account is acceptable only when the CPCA's ICT provider has confirmed, in a quick assessment, that its system meets the CPCA's baseline security."),
    ]
}

public struct ControlDescription: Codable, Sendable, Equatable {
    public var title: String
    public var severity: String
    public var reference: String
    public var explanation: String
    /// What to do in general; a check's own advice, when it has one, is more specific.
    public var fix: String?
}

/// Plain words for a check that could not run. The Monitoring Officer's one-line reason and the
/// action plan say what kind of failure it was and what to do; the raw error (curl's text, the
/// DNS status) stays in the evidence.
public enum CouldNotCheck {
    public static func cause(of summary: String) -> String {
        let text = summary.lowercased()
        if text.contains("timed out") || text.contains("timeout") { return "a look-up timed out" }
        if text.contains("servfail") { return "the domain's name servers did not answer (SERVFAIL)" }
        if text.contains("refused") && !text.contains("redirect") { return "a server refused the question" }
        if text.contains("could not connect") || text.contains("could not be reached") || text.contains("unreachable")
            || text.contains("port 25") { return "a server could not be reached" }
        if text.contains("malformed") || text.contains("truncated") || text.contains("not a dns response") { return "an answer was malformed" }
        if text.contains("directory does not say") { return "the directory does not hold the value" }
        if text.contains("no mfa group") { return "no MFA group is configured" }
        // "The DMARC record could not be read: <raw error>." -> "the DMARC record could not be read"
        let head = summary.split(separator: ":", maxSplits: 1).first.map(String.init) ?? summary
        let trimmed = head.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
        return trimmed.prefix(1).lowercased() + trimmed.dropFirst()
    }

    public static func advice(for summary: String) -> String {
        "This says nothing yet about the domain: the check could not be completed (\(cause(of: summary))). "
            + "Re-run the audit; if it fails again, check the resolver (checks.resolver in site.yaml) and that the domain's "
            + "name servers and web servers answer. The evidence holds the exact error."
    }
}

/// Who must act on a finding: the Member, the organisation's IT, or the CPCA's ICT provider.
public enum WhoMustAct {
    public static func who(_ finding: Finding, accountClass: AccountClass, organisation: String?) -> String {
        if finding.status == .error { return "ICT provider (re-run the check)" }
        switch finding.control {
        case "email.personal", "email.address": return "Member"
        case "assessment.current": return "ICT provider (10-minute assessment)"
        default:
            if Controls.domain.contains(finding.control) && accountClass == .external {
                return "IT of \(organisation.flatMap { $0.isEmpty ? nil : $0 } ?? "the Member's organisation")"
            }
            return "ICT provider"
        }
    }
}
