import Foundation
import Policy

/// A Markdown summary, to append to a committee report.
public enum MarkdownReport {
    public static func render(_ result: AuditResult) -> String {
        let day = { (date: Date) in ISO8601DateFormatter.string(from: date, timeZone: TimeZone(secondsFromGMT: 0)!, formatOptions: [.withFullDate]) }
        let generated = ISO8601DateFormatter().string(from: result.generatedAt)
        var out = [
            result.replayOf.map { "# Members' email accounts: replay of run #\($0), as of \(day(result.asOf))" }
                ?? "# Members' email accounts: assessment as of \(day(result.asOf))",
            "",
            result.backdated
                ? "Judged as of \(day(result.asOf)) (backdated: only the assessments and decisions recorded by the end of that day count); generated \(generated)."
                : "Generated \(generated).",
            "",
            "\(Escape.markdown(result.policy.organisation)). Rule applied: \(Escape.markdown(result.policy.implements)). "
                + "Baseline: \(Escape.markdown(result.policy.baseline)). Policy SHA-256 `\(result.policy.sha256.prefix(16))…`.",
            "",
            "| Verdict | Members |",
            "|---|---:|",
        ]
        if let notRecorded = result.notRecorded {
            out.insert(contentsOf: ["> **This run was not recorded:** \(Escape.markdown(notRecorded)).", ""], at: 4)
        }
        if let notice = result.replayNotice {
            out.insert(contentsOf: ["> **Replay:** \(Escape.markdown(notice))", ""], at: 4)
        }
        for verdict in Verdict.allCases { out.append("| \(verdict.rawValue) | \(result.summary[verdict.rawValue] ?? 0) |") }
        out.append("| **total** | **\(result.members.count)** |")
        if let changes = result.changes {
            out += ["", "## Changes since the previous audit", ""]
            if changes.isEmpty { out.append("No change.") }
            for (label, list) in changes.labelled where !list.isEmpty {
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
        let partial = result.members.filter { $0.exception?.state == .partial }
        if !partial.isEmpty {
            out += ["", "## Exceptions covering only part of what a Member fails", ""]
            for member in partial.sorted(by: HTMLReport.attentionOrder) {
                let note = member.exception!
                out.append("- \(Escape.markdown(member.name)): exception \(Escape.markdown(note.grantList)); still failing "
                           + "\(Escape.markdown(note.uncovered.joined(separator: ", "))), so \(member.verdict.rawValue).")
            }
        }
        out += ["", "## By organisation", "", "One 10-minute assessment of an organisation's mail system covers every Member on its domains.", "",
                "| Organisation | Mail domains | Members | Needing action | Assessment | Failing controls |", "|---|---|---:|---:|---|---|"]
        for row in OrganisationRow.rows(result) {
            let needing = row.members.filter(\.needsAction).count
            out.append("| \(Escape.markdown(row.name)) | \(Escape.markdown(row.domains.joined(separator: ", "))) | \(row.members.count) | \(needing) | "
                       + "\(Escape.markdown(row.assessment)) | \(Escape.markdown(row.failingControls.joined(separator: ", "))) |")
        }
        out += ["", "## Members", "", "| Member | Role | Account | Verdict | Why |", "|---|---|---|---|---|"]
        for member in result.members.sorted(by: HTMLReport.attentionOrder) {
            out.append("| \(Escape.markdown(member.name)) | \(Escape.markdown(member.role ?? "")) | \(member.accountClass.rawValue) | "
                       + "\(member.verdict.rawValue) | \(Escape.markdown(member.reason)) |")
        }
        out += ["", "_\(Escape.markdown(HTMLReport.footer(result)))_"]
        return out.joined(separator: "\n") + "\n"
    }
}
