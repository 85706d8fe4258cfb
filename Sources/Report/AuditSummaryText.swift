import Foundation
import Policy

/// What `mailaudit audit` prints: the counts, who needs attention, and where the report is.
public enum AuditSummaryText {
    public static func render(_ result: AuditResult, reportFolder: String?) -> String {
        let day = String(ISO8601DateFormatter().string(from: result.asOf).prefix(10))
        var lines = [(result.replayOf.map { "Replay of run #\($0): " } ?? "") + "Audit of \(result.members.count) Members (\(TerminalText.sanitize(result.policy.organisation)))"
                     + (result.backdated ? ", judged as of \(day) (backdated)" : "")
                     + (result.runId.map { ", run #\($0)" } ?? "")]
        if let notRecorded = result.notRecorded { lines.append("This run was not recorded: \(TerminalText.sanitize(notRecorded)).") }
        if let notice = result.replayNotice { lines.append(TerminalText.sanitize(notice)) }
        for verdict in Verdict.allCases {
            lines.append("  \(verdict.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(result.summary[verdict.rawValue] ?? 0)")
        }
        let attention = result.members.filter(\.needsAction).sorted(by: HTMLReport.attentionOrder)
        if !attention.isEmpty {
            lines.append("")
            lines.append("Needing attention:")
            for member in attention {
                lines.append("  \(member.verdict.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(TerminalText.sanitize(member.name)): \(TerminalText.sanitize(member.reason))")
            }
        }
        if let changes = result.changes, !changes.isEmpty {
            lines.append("")
            lines.append("Since the previous audit: \(changes.newlyNonCompliant.count) newly non-compliant, \(changes.resolved.count) resolved, "
                         + "\(changes.nowExcepted.count) now excepted, \(changes.otherChanges.count) other changes, "
                         + "\(changes.newMembers.count) new, \(changes.departedMembers.count) departed.")
        } else if result.changes != nil {
            lines.append("")
            lines.append("Since the previous audit: no change.")
        }
        if let reportFolder {
            lines.append("")
            let path = URL(fileURLWithPath: reportFolder).appendingPathComponent("index.html").standardizedFileURL.path
            lines.append("Report: \(path) (also audit.json, action-plan.csv, summary.md)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
