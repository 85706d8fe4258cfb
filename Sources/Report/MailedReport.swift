import Foundation
import Policy

/// The report as it is mailed to the people who act on it: a subject that says how many need
/// action, a plain-text part and an HTML part (the Monitoring Officer's section, the changes,
/// the exceptions and assessments ending soon, escaped as the report is), and the committee
/// summary and the action plan attached.
public enum MailedReport {
    public struct Attachment: Sendable {
        public var name: String
        public var contentType: String
        public var data: Data
    }

    public struct Content: Sendable {
        public var subject: String
        public var text: String
        public var html: String
        public var attachments: [Attachment]
    }

    public static func content(_ result: AuditResult, reportFolder: String?) -> Content {
        Content(subject: subject(result), text: text(result, reportFolder: reportFolder), html: html(result, reportFolder: reportFolder),
                attachments: [
                    Attachment(name: "summary.md", contentType: "text/markdown; charset=utf-8", data: Data(MarkdownReport.render(result).utf8)),
                    Attachment(name: "action-plan.csv", contentType: "text/csv; charset=utf-8", data: CSVActionPlan.file(result)),
                ])
    }

    /// "Members' email audit: 3 need action, 1 newly non-compliant".
    public static func subject(_ result: AuditResult) -> String {
        let needing = result.members.filter(\.needsAction).count
        var parts = [needing == 0 ? "nobody needs action" : "\(needing) need\(needing == 1 ? "s" : "") action"]
        let newly = result.changes?.newlyNonCompliant.count ?? 0
        if newly > 0 { parts.append("\(newly) newly non-compliant") }
        let unknown = result.summary[Verdict.unknown.rawValue] ?? 0
        if unknown > 0 { parts.append("\(unknown) could not be checked") }
        let prefix = result.replayOf.map { "Members' email audit (replay of run #\($0))" } ?? "Members' email audit"
        return "\(prefix): " + parts.joined(separator: ", ") + (result.runId == nil ? " (not recorded)" : "")
    }

    /// Why a run is worth mailing under `when: on-change`; empty when it is not.
    public static func news(_ result: AuditResult) -> [String] {
        var reasons: [String] = []
        if let changes = result.changes {
            let moved = changes.newlyNonCompliant.count + changes.resolved.count + changes.nowExcepted.count + changes.otherChanges.count
                + changes.newMembers.count + changes.departedMembers.count
            if moved > 0 { reasons.append("\(moved) Member\(moved == 1 ? "'s verdict" : "s' verdicts") changed, or Members came or went") }
        } else {
            reasons.append("the first audit in the register")
        }
        let endingExceptions = EndingSoon.exceptions(result).count
        if endingExceptions > 0 { reasons.append("\(endingExceptions) exception\(endingExceptions == 1 ? " ends" : "s end") within 30 days") }
        let endingAssessments = EndingSoon.assessments(result, members: result.members).count
        if endingAssessments > 0 { reasons.append("\(endingAssessments) Member\(endingAssessments == 1 ? "'s assessment ends" : "s' assessments end") within 30 days") }
        let unknown = result.summary[Verdict.unknown.rawValue] ?? 0
        if unknown > 0 { reasons.append("\(unknown) Member\(unknown == 1 ? "" : "s") could not be checked") }
        return reasons
    }

    static func text(_ result: AuditResult, reportFolder: String?) -> String {
        var lines = [AuditSummaryText.render(result, reportFolder: reportFolder)]
        if let changes = result.changes {
            lines.append("Changes since the previous audit (\(changes.previousRunId.map { "run #\($0)" } ?? "the last run")):")
            var any = false
            for (label, list) in changes.labelled where !list.isEmpty {
                any = true
                lines.append("  \(label):")
                for change in list {
                    let moved = change.from.flatMap { from in change.to.map { " (\(from.rawValue) → \($0.rawValue))" } } ?? ""
                    lines.append("    \(TerminalText.sanitize(change.name))\(moved)")
                }
            }
            if !any { lines.append("  No change.") }
            lines.append("")
        }
        let ending = EndingSoon.exceptions(result)
        if !ending.isEmpty {
            lines.append("Exceptions ending within 30 days:")
            for grant in ending {
                lines.append("  #\(grant.id) \(TerminalText.sanitize(grant.memberName)) (\(TerminalText.sanitize(grant.scope))): until \(HTMLReport.day(grant.expires))")
            }
            lines.append("")
        }
        lines.append("Attached: summary.md (for the committee) and action-plan.csv (who must act, Member by Member)."
                     + (reportFolder.map { " The whole report: \($0)/index.html." } ?? ""))
        lines.append("")
        lines.append("-- ")
        lines.append(HTMLReport.footer(result))
        return lines.joined(separator: "\n") + "\n"
    }

    static func html(_ result: AuditResult, reportFolder: String?) -> String {
        let h = Escape.html
        let members = result.members.sorted(by: HTMLReport.attentionOrder)
        let counts = Verdict.allCases.map { "<tr><th scope=\"row\">\(HTMLReport.verdictLabels[$0]!)</th><td>\(result.summary[$0.rawValue] ?? 0)</td></tr>" }
        var body = [
            "<main id=\"main\">",
            "<h1>\(h(subject(result)))</h1>",
            "<p>\(h(result.policy.organisation)) · judged as of \(HTMLReport.day(result.asOf)) · \(result.members.count) Members</p>",
        ]
        if let notRecorded = result.notRecorded { body.append("<p class=\"not-recorded\"><strong>This run was not recorded:</strong> \(h(notRecorded)).</p>") }
        if let notice = result.replayNotice { body.append("<p class=\"warning\"><strong>Replay:</strong> \(h(notice))</p>") }
        body.append("<table><caption>Members by verdict</caption><tbody>\(counts.joined())</tbody></table>")
        body.append(HTMLReportSections.monitoringOfficer(result, members: members, links: .none))
        body.append(HTMLReportSections.changes(result.changes))
        body.append("<p>Attached: summary.md (for the committee) and action-plan.csv (who must act, Member by Member)."
                    + (reportFolder.map { " The whole report: <code>\(h($0))/index.html</code>." } ?? "") + "</p>")
        body.append("</main><footer><p class=\"meta\">\(h(HTMLReport.footer(result)))</p></footer>")
        return HTMLReport.document(title: subject(result), body: body.joined(separator: "\n"), script: false)
    }
}
