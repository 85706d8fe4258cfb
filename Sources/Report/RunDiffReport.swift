import Foundation
import MailDomain
import Policy

/// `mailaudit diff` as text or a self-contained HTML page, and the same table in the console.
public enum RunDiffReport {
    static let labels: [RunDiff.Entry.Kind: String] = [
        .newlyNonCompliant: "Newly non-compliant", .resolved: "Resolved", .nowExcepted: "Now excepted", .otherChange: "Other verdict changes",
        .controlsChanged: "Same verdict, controls changed", .new: "New Members", .departed: "Departed Members", .unchanged: "Unchanged",
    ]

    static func run(_ id: Int64?, _ at: Date) -> String {
        "run #\(id.map(String.init) ?? "?") (\(ISO8601DateFormatter().string(from: at)))"
    }

    static func controls(_ entry: RunDiff.Entry) -> String {
        entry.controlsChanged.map { "\($0.control) \($0.from?.rawValue ?? "—") → \($0.to?.rawValue ?? "—")" }.joined(separator: ", ")
    }

    static func verdicts(_ entry: RunDiff.Entry) -> String {
        "\(entry.from?.rawValue ?? "—") → \(entry.to?.rawValue ?? "—")"
    }

    public static func text(_ diff: RunDiff, all: Bool) -> String {
        var lines = ["From \(run(diff.fromRun, diff.fromAt)) to \(run(diff.toRun, diff.toAt)):"]
        let shown = diff.shown(all: all)
        if shown.isEmpty { lines.append("No Member's verdict or controls changed.") }
        for kind in RunDiff.Entry.Kind.allCases {
            let entries = shown.filter { $0.kind == kind }
            guard !entries.isEmpty else { continue }
            lines.append("")
            lines.append("\(labels[kind]!) (\(entries.count)):")
            for entry in entries {
                let changed = controls(entry)
                lines.append("  \(TerminalText.sanitize(entry.name)): \(verdicts(entry))\(changed.isEmpty ? "" : "; \(changed)")")
            }
        }
        let hidden = diff.entries.count - shown.count
        if hidden > 0 { lines.append("\n\(hidden) Member\(hidden == 1 ? "" : "s") unchanged (shown with --all).") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The table, linking Members to their console pages or not at all.
    public static func fragment(_ diff: RunDiff, all: Bool, links: HTMLReportSections.MemberLinks) -> String {
        let h = Escape.html
        let rows = diff.shown(all: all).map { entry -> String in
            let name = links == .consolePages && entry.kind != .departed
                ? "<a href=\"/members/\(h(HTMLReportSections.consolePath(entry.id)))\">\(h(entry.name))</a>" : h(entry.name)
            let verdict = "\(entry.from.map(HTMLReport.badge) ?? "—") → \(entry.to.map(HTMLReport.badge) ?? "—")"
            return "<tr><td data-label=\"Member\">\(name)</td><td data-label=\"Change\">\(labels[entry.kind]!)</td>"
                + "<td data-label=\"Verdict\">\(verdict)</td><td data-label=\"Controls changed\">\(h(controls(entry)))</td></tr>"
        }
        guard !rows.isEmpty else { return "<p>No Member's verdict or controls changed.</p>" }
        return "<table class=\"reflow\"><caption>From \(h(run(diff.fromRun, diff.fromAt))) to \(h(run(diff.toRun, diff.toAt)))</caption>"
            + "<thead><tr><th scope=\"col\">Member</th><th scope=\"col\">Change</th><th scope=\"col\">Verdict</th><th scope=\"col\">Controls changed</th></tr></thead>"
            + "<tbody>\(rows.joined())</tbody></table>"
    }

    public static func page(_ diff: RunDiff, all: Bool) -> String {
        HTMLReport.document(title: "Members' email accounts: runs compared",
                            body: "<main>\n<h1>Members' email accounts: runs compared</h1>\n\(fragment(diff, all: all, links: .withinReport))\n</main>",
                            script: false)
    }
}
