import Crypto
import Foundation
import MailDomain
import Policy

/// The report for the Monitoring Officer: one self-contained HTML file (no external scripts,
/// fonts or images), readable on screen, on a phone and on A4 paper. Every value from the
/// directory, DNS or HTTP is escaped. The sections are in HTMLReportSections.swift, the style
/// and script in HTMLReportStyle.swift.
public enum HTMLReport {
    /// Verdict colours, each dark enough for white text (contrast at least 4.5:1).
    static let verdictColours: [Verdict: String] = [
        .compliant: "#2e7d32", .nonCompliant: "#c62828", .assessmentDue: "#a14a00", .exception: "#6a1b9a", .unknown: "#4f5f68",
    ]
    public static let verdictLabels: [Verdict: String] = [
        .compliant: "Compliant", .nonCompliant: "Non-compliant", .assessmentDue: "Assessment due", .exception: "Exception", .unknown: "Unknown",
    ]
    /// Members needing action first: the order of every Member list.
    static let verdictRank: [Verdict: Int] = [.nonCompliant: 0, .unknown: 1, .assessmentDue: 2, .exception: 3, .compliant: 4]

    /// The same order, for the console's lists.
    public static func attentionOrderForConsole(_ a: MemberResult, _ b: MemberResult) -> Bool { attentionOrder(a, b) }

    /// Members needing action first, then by name.
    static func attentionOrder(_ a: MemberResult, _ b: MemberResult) -> Bool {
        let left = verdictRank[a.verdict] ?? 9, right = verdictRank[b.verdict] ?? 9
        return left != right ? left < right : a.name.lowercased() < b.name.lowercased()
    }

    public static func render(_ result: AuditResult) -> String {
        var page = ""
        write(result) { page += $0 }
        return page
    }

    /// The report in pieces, in order: the Member table, the findings and the evidence a row or
    /// a block at a time, so that a file of 10,000 Members is never held whole (`StreamedFile`).
    public static func write(_ result: AuditResult, to emit: (String) -> Void) {
        let h = Escape.html
        let members = result.members.sorted(by: attentionOrder)
        let title = result.replayOf.map { "Members' email accounts: replay of run #\($0), as of \(day(result.asOf))" }
            ?? "Members' email accounts: assessment of \(day(result.asOf))"
        emit(documentOpening(title: title))
        // The body's parts, one line break between each, as the page has always had them.
        var first = true
        func part(_ write: () -> Void) {
            if !first { emit("\n") }
            first = false
            write()
        }
        func part(_ text: String) { part { emit(text) } }
        part(header(result))
        part(navigation)
        part("<main id=\"main\">")
        if let notRecorded = result.notRecorded {
            part("<p class=\"not-recorded\" role=\"alert\"><strong>This run was not recorded:</strong> \(h(notRecorded)). Later audits will not compare with it.</p>")
        }
        for warning in result.warnings { part("<p class=\"warning\"><strong>Warning:</strong> \(h(warning))</p>") }
        part(summarySection(result))
        part { HTMLReportSections.monitoringOfficer(result, members: members, to: emit) }
        part(HTMLReportSections.organisations(result))
        part(HTMLReportSections.controls(result))
        part(HTMLReportSections.changes(result.changes))
        part { HTMLReportSections.membersTable(members, to: emit) }
        part { HTMLReportSections.findings(members, checkedDomains: Set(result.domains.map(\.asciiDomain)), to: emit) }
        part { HTMLReportSections.evidence(result.domains, to: emit) }
        part("</main>")
        part("<footer><p class=\"meta\">\(h(footer(result)))</p></footer>")
        emit(documentClosing(script: true))
    }

    /// A self-contained page: the report's own style (and script), named in its CSP by hash.
    static func document(title: String, body: String, script: Bool) -> String {
        documentOpening(title: title) + body + documentClosing(script: script)
    }

    private static func documentOpening(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en-GB">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="\(contentSecurityPolicy)">
        <title>\(Escape.html(title))</title>
        <style>\(HTMLReportStyle.stylesheet)</style>
        </head>
        <body>

        """
    }

    private static func documentClosing(script: Bool) -> String {
        """

        \(script ? "<script>\(HTMLReportStyle.script)</script>" : "")
        </body>
        </html>
        """
    }

    /// "mailaudit 0.11.0 · run #12 · policy SHA-256 ab12…": where a reader finds the run again.
    public static func footer(_ result: AuditResult) -> String {
        let run = result.runId.map { "run #\($0) in the register" } ?? "run not recorded"
        return "mailaudit \(result.toolVersion) · \(run) · policy SHA-256 \(result.policy.sha256.prefix(12))…"
    }

    /// Organisation, run, tool, policy, when it ran and the day it judged: enough to find the
    /// run again and to know what rule produced it.
    private static func header(_ result: AuditResult) -> String {
        let h = Escape.html
        let generated = ISO8601DateFormatter().string(from: result.generatedAt)
        var facts: [(String, String)] = [
            ("Organisation", h(result.policy.organisation)),
            ("Run", result.runId.map { "#\($0) in the register" } ?? "not recorded"),
            ("Run at", h(generated)),
            ("Judged as of", result.backdated ? "<strong>\(day(result.asOf)) (backdated)</strong>" : "\(day(result.asOf)) (the day it ran)"),
            ("Members", "\(result.members.count), from \(h(result.directory.source)) (\(h(result.directory.profile)))"),
            ("Rule", h(result.policy.implements)),
            ("Baseline", h(result.policy.baseline)),
            ("Policy SHA-256", "<code>\(h(result.policy.sha256))</code>"),
            ("Tool", "mailaudit \(h(result.toolVersion))"),
        ]
        if let replayOf = result.replayOf {
            facts.insert(("Replay", "<strong>of run #\(replayOf)</strong>: its directory read and domain checks judged again under the policy below; nothing was checked again"), at: 1)
        }
        if result.redacted {
            facts.append(("Redacted", "names and addresses of Members without a CPCA account are shown as initials and organisation"))
        }
        let backdated = result.backdated
            ? "<p class=\"backdated\">Judged as of \(day(result.asOf)): only the assessments and decisions recorded by the end of that day count.</p>"
            : ""
        return """
        <header>
        <a class="skip" href="#main">Skip to the report</a>
        <h1>Members' email accounts: \(result.replayOf.map { "replay of run #\($0)" } ?? "assessment")</h1>
        <dl class="facts">\(facts.map { "<div><dt>\($0.0)</dt><dd>\($0.1)</dd></div>" }.joined())</dl>
        \(backdated)
        </header>
        """
    }

    private static let navigation = """
    <nav aria-label="Sections"><ul class="toc">
    <li><a href="#summary">Summary</a></li><li><a href="#attention">For the Monitoring Officer</a></li>
    <li><a href="#organisations">By organisation</a></li><li><a href="#controls">By control</a></li>
    <li><a href="#changes">Changes</a></li><li><a href="#members">Members</a></li>
    <li><a href="#details">Findings by Member</a></li><li><a href="#evidence">Evidence</a></li></ul></nav>
    """

    public static func badge(_ verdict: Verdict) -> String {
        "<span class=\"badge v-\(verdict.rawValue)\">\(verdictLabels[verdict]!)</span>"
    }

    public static func day(_ date: Date) -> String { DateFormatter.day.string(from: date) }

    /// Nothing but the report's own style and script runs, each named by its hash: a value that
    /// slipped past escaping still could not load or run anything.
    public static let contentSecurityPolicy: String = {
        func hash(_ text: String) -> String { Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString() }
        return "default-src 'none'; style-src 'sha256-\(hash(HTMLReportStyle.stylesheet))'; script-src 'sha256-\(hash(HTMLReportStyle.script))'; "
            + "img-src data:; base-uri 'none'; form-action 'none'"
    }()

    /// The counts now, and over the recorded runs.
    private static func summarySection(_ result: AuditResult) -> String {
        let counts = Verdict.allCases.map { ($0, result.summary[$0.rawValue] ?? 0) }
        let maximum = max(1, counts.map(\.1).max() ?? 1)
        var bars: [String] = []
        for (index, (verdict, count)) in counts.enumerated() {
            let y = index * 30 + 6
            let width = Int(Double(count) / Double(maximum) * 340)
            bars.append("""
            <text x="0" y="\(y + 16)" class="label">\(verdictLabels[verdict]!)</text>
            <rect x="140" y="\(y)" width="\(max(width, 2))" height="22" fill="\(verdictColours[verdict]!)"></rect>
            <text x="\(148 + width)" y="\(y + 16)" class="count">\(count)</text>
            """)
        }
        let description = counts.map { "\(verdictLabels[$0.0]!) \($0.1)" }.joined(separator: ", ")
        let height = counts.count * 30 + 10
        return """
        <section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>
        <div class="charts">
        <figure><svg role="img" aria-label="Members by verdict: \(description)" viewBox="0 0 540 \(height)" width="540" height="\(height)">
        \(bars.joined(separator: "\n"))
        </svg><figcaption>Members by verdict in this run (\(result.members.count) in all).</figcaption></figure>
        \(TrendChart.render(result.trend))
        </div>
        </section>
        """
    }

    /// A fragment identifier from an id: letters, digits and '-' only.
    static func anchor(_ text: String) -> String {
        String(text.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
    }
}
