import Foundation
import Policy

/// A Markdown summary, to append to a committee report.
public enum MarkdownReport {
    public static func render(_ result: AuditResult) -> String {
        let day = ISO8601DateFormatter.string(from: result.generatedAt, timeZone: TimeZone(secondsFromGMT: 0)!, formatOptions: [.withFullDate])
        var out = [
            "# Members' email accounts: assessment of \(day)",
            "",
            "\(Escape.markdown(result.policy.organisation)). Rule applied: \(Escape.markdown(result.policy.implements)). "
                + "Baseline: \(Escape.markdown(result.policy.baseline)). Policy SHA-256 `\(result.policy.sha256.prefix(16))…`.",
            "",
            "| Verdict | Members |",
            "|---|---:|",
        ]
        for verdict in Verdict.allCases { out.append("| \(verdict.rawValue) | \(result.summary[verdict.rawValue] ?? 0) |") }
        out.append("| **total** | **\(result.members.count)** |")
        if let changes = result.changes {
            out += ["", "## Changes since the previous audit", ""]
            if changes.isEmpty { out.append("No change.") }
            for (label, list) in [("Newly non-compliant", changes.newlyNonCompliant), ("Resolved", changes.resolved),
                                  ("Other changes", changes.otherChanges), ("New Members", changes.newMembers),
                                  ("Departed Members", changes.departedMembers)] where !list.isEmpty {
                out.append("- \(label): " + list.map { change in
                    Escape.markdown(change.name) + (change.from != nil && change.to != nil ? " (\(change.from!.rawValue) → \(change.to!.rawValue))" : "")
                }.joined(separator: "; "))
            }
        }
        if !result.exceptions.isEmpty {
            out += ["", "## Exceptions in force", "", "| # | Member | Accepted | Reason | Decided by | Until |", "|---|---|---|---|---|---|"]
            for grant in result.exceptions {
                let until = ISO8601DateFormatter.string(from: grant.expires, timeZone: TimeZone(secondsFromGMT: 0)!, formatOptions: [.withFullDate])
                out.append("| \(grant.id) | \(Escape.markdown(grant.memberName)) | \(Escape.markdown(grant.scope)) | \(Escape.markdown(grant.reason)) | \(Escape.markdown(grant.decidedBy)) | \(until) |")
            }
        }
        out += ["", "## Members", "", "| Member | Role | Account | Verdict | Why |", "|---|---|---|---|---|"]
        for member in result.members.sorted(by: HTMLReport.attentionOrder) {
            out.append("| \(Escape.markdown(member.name)) | \(Escape.markdown(member.role ?? "")) | \(member.accountClass.rawValue) | "
                       + "\(member.verdict.rawValue) | \(Escape.markdown(member.reason)) |")
        }
        return out.joined(separator: "\n") + "\n"
    }
}
