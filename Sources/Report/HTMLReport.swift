import Crypto
import Foundation
import MailDomain
import Policy

/// The report for the Monitoring Officer: one self-contained HTML file (no external scripts,
/// fonts or images), readable on screen and on paper. Every value from the directory, DNS or
/// HTTP is escaped.
public enum HTMLReport {
    static let verdictColours: [Verdict: String] = [
        .compliant: "#2e7d32", .nonCompliant: "#c62828", .assessmentDue: "#ef6c00", .exception: "#6a1b9a", .unknown: "#546e7a",
    ]
    static let verdictLabels: [Verdict: String] = [
        .compliant: "Compliant", .nonCompliant: "Non-compliant", .assessmentDue: "Assessment due", .exception: "Exception", .unknown: "Unknown",
    ]

    /// Members needing action first, then by name.
    static func attentionOrder(_ a: MemberResult, _ b: MemberResult) -> Bool {
        let rank: [Verdict: Int] = [.nonCompliant: 0, .unknown: 1, .assessmentDue: 2, .exception: 3, .compliant: 4]
        let left = rank[a.verdict] ?? 9, right = rank[b.verdict] ?? 9
        return left != right ? left < right : a.name.lowercased() < b.name.lowercased()
    }

    public static func render(_ result: AuditResult) -> String {
        let h = Escape.html
        let generated = ISO8601DateFormatter().string(from: result.generatedAt)
        let judged = String(ISO8601DateFormatter().string(from: result.asOf).prefix(10))
        let members = result.members.sorted(by: attentionOrder)
        var body: [String] = []
        let asOfLine = result.backdated
            ? "<p class=\"meta backdated\"><strong>Judged as of \(judged)</strong> (backdated): only the assessments and decisions recorded by the end of that day count.</p>"
            : ""
        body.append("""
        <header>
        <h1>Members' email accounts: assessment</h1>
        <p class="meta">\(h(result.policy.organisation)) · generated \(h(generated)) · as of \(judged) · \(result.members.count) Members · directory \(h(result.directory.source)) (\(h(result.directory.profile)))</p>
        \(asOfLine)
        <p class="meta">Rule: \(h(result.policy.implements)). Baseline: \(h(result.policy.baseline)). Policy SHA-256 <code>\(h(result.policy.sha256))</code></p>
        </header>
        """)
        if let notRecorded = result.notRecorded {
            body.append("<p class=\"not-recorded\" role=\"alert\"><strong>This run was not recorded:</strong> \(h(notRecorded)). Later audits will not compare with it.</p>")
        }
        for warning in result.warnings { body.append("<p class=\"warning\">Warning: \(h(warning))</p>") }
        body.append(summarySection(result))
        body.append(attentionSection(result, members: members))
        body.append(changesSection(result.changes))
        body.append(membersTable(members))
        body.append(detailsSection(members, checkedDomains: Set(result.domains.map(\.asciiDomain))))
        body.append(evidenceSection(result.domains))
        body.append("<footer><p class=\"meta\">\(h(footer(result)))</p></footer>")
        return """
        <!DOCTYPE html>
        <html lang="en-GB">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="\(contentSecurityPolicy)">
        <title>Members' email accounts: assessment of \(h(String(generated.prefix(10))))</title>
        <style>\(stylesheet)</style>
        </head>
        <body>
        \(body.joined(separator: "\n"))
        <script>\(script)</script>
        </body>
        </html>
        """
    }

    /// "mailaudit 0.10.0 · run #12 · policy SHA-256 ab12…": where a reader finds the run again.
    public static func footer(_ result: AuditResult) -> String {
        let run = result.runId.map { "run #\($0) in the register" } ?? "run not recorded"
        return "mailaudit \(result.toolVersion) · \(run) · policy SHA-256 \(result.policy.sha256.prefix(12))…"
    }

    private static func badge(_ verdict: Verdict) -> String {
        "<span class=\"badge v-\(verdict.rawValue)\">\(verdictLabels[verdict]!)</span>"
    }

    /// Nothing but the report's own style and script runs, each named by its hash: a value that
    /// slipped past escaping still could not load or run anything.
    static let contentSecurityPolicy: String = {
        func hash(_ text: String) -> String { Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString() }
        return "default-src 'none'; style-src 'sha256-\(hash(stylesheet))'; script-src 'sha256-\(hash(script))'; "
            + "img-src data:; base-uri 'none'; form-action 'none'"
    }()

    private static func summarySection(_ result: AuditResult) -> String {
        let counts = Verdict.allCases.map { ($0, result.summary[$0.rawValue] ?? 0) }
        let maximum = max(1, counts.map(\.1).max() ?? 1)
        var bars: [String] = []
        for (index, (verdict, count)) in counts.enumerated() {
            let y = index * 34 + 10
            let width = Int(Double(count) / Double(maximum) * 360)
            bars.append("""
            <text x="0" y="\(y + 17)" class="label">\(verdictLabels[verdict]!)</text>
            <rect x="150" y="\(y)" width="\(max(width, 2))" height="24" fill="\(verdictColours[verdict]!)"><title>\(verdictLabels[verdict]!): \(count)</title></rect>
            <text x="\(158 + width)" y="\(y + 17)" class="count">\(count)</text>
            """)
        }
        return """
        <section id="summary"><h2>Summary</h2>
        <svg role="img" aria-label="Members by verdict" width="560" height="\(counts.count * 34 + 16)" viewBox="0 0 560 \(counts.count * 34 + 16)">
        \(bars.joined(separator: "\n"))
        </svg>
        </section>
        """
    }

    private static func attentionSection(_ result: AuditResult, members: [MemberResult]) -> String {
        let h = Escape.html
        let needing = members.filter { $0.verdict != .compliant }
        var items = needing.map { member in
            "<li>\(badge(member.verdict)) <a href=\"#m-\(h(anchor(member.id)))\">\(h(member.name))</a>: \(h(member.reason))</li>"
        }
        if items.isEmpty { items = ["<li>Every Member is compliant.</li>"] }
        let due = members.filter { $0.verdict == .assessmentDue }.count
        return """
        <section id="attention"><h2>For the Monitoring Officer</h2>
        <p>\(needing.count) of \(result.members.count) Members need attention; \(due) \(due == 1 ? "is" : "are") waiting for a 10-minute assessment.</p>
        <ul class="attention">\(items.joined(separator: "\n"))</ul>
        \(exceptionsBlock(result, members: members))
        </section>
        """
    }

    /// Live exceptions (those ending within 30 days marked) and exceptions that lapsed.
    private static func exceptionsBlock(_ result: AuditResult, members: [MemberResult]) -> String {
        let h = Escape.html
        let day = { (date: Date) in String(ISO8601DateFormatter().string(from: date).prefix(10)) }
        let soon = result.asOf.addingTimeInterval(30 * 86_400)
        let live = result.exceptions.map { grant -> String in
            let flag = grant.expires <= soon ? " <strong class=\"soon\">ends within 30 days</strong>" : ""
            return "<tr><td>#\(grant.id)</td><td>\(h(grant.memberName))</td><td>\(h(grant.scope))</td><td>\(h(grant.reason))</td><td>\(h(grant.decidedBy)), \(day(grant.decidedAt))</td><td>\(day(grant.expires))\(flag)</td></tr>"
        }
        let lapsed = members.compactMap { member -> String? in
            guard let note = member.exception, note.state == .expired || note.state == .revoked, let grant = note.grants.first else { return nil }
            let how = note.state == .expired ? "expired on \(day(grant.expires))" : "revoked by \(h(grant.revocation?.decidedBy ?? "?"))"
            return "<li>\(h(member.name)): the exception #\(grant.id) (\(h(grant.scope))) \(how); now \(verdictLabels[member.verdict]!).</li>"
        }
        let partial = members.compactMap { member -> String? in
            guard let note = member.exception, note.state == .partial else { return nil }
            return "<li>\(h(member.name)): exception \(h(note.grantList)) accepts only part of what fails; still failing: \(h(note.uncovered.joined(separator: ", "))) — now \(verdictLabels[member.verdict]!).</li>"
        }
        let ending = members.filter { member in
            guard let assessment = member.assessment, assessment.passed else { return false }
            return assessment.validUntil > result.asOf && assessment.validUntil <= soon
        }.map { "<li>\(h($0.name)): the assessment of \(h($0.assessment!.subject)) by \(h($0.assessment!.assessor)) ends on \(day($0.assessment!.validUntil)).</li>" }
        let waiting = members.filter { $0.verdict == .assessmentDue }.map { "<li>\(h($0.name)) (\(h($0.organisation ?? ""))): \(h($0.reason))</li>" }
        var out = "<h3>Assessments</h3>"
        out += ending.isEmpty ? "<p>No assessment ends within 30 days.</p>" : "<p>Ending within 30 days:</p><ul>\(ending.joined())</ul>"
        out += waiting.isEmpty ? "<p>Nobody is waiting for an assessment.</p>" : "<p>Waiting for an assessment:</p><ul>\(waiting.joined())</ul>"
        out += "<h3>Exceptions</h3>"
        out += live.isEmpty ? "<p>No exception is in force.</p>"
            : "<table class=\"exceptions\"><thead><tr><th>#</th><th>Member</th><th>Accepted</th><th>Reason</th><th>Decided</th><th>Until</th></tr></thead><tbody>\(live.joined())</tbody></table>"
        if !partial.isEmpty { out += "<p>Covering only part of what the Member fails, so the verdict stands:</p><ul>\(partial.joined())</ul>" }
        if !lapsed.isEmpty { out += "<p>Lapsed, so the findings are back:</p><ul>\(lapsed.joined())</ul>" }
        return out
    }

    private static func changesSection(_ changes: RunChanges?) -> String {
        let h = Escape.html
        guard let changes else {
            return "<section id=\"changes\"><h2>Changes since the previous audit</h2><p>This is the first audit in the register.</p></section>"
        }
        var parts: [String] = []
        for (label, list) in changes.labelled where !list.isEmpty {
            let entries = list.map { change -> String in
                var text = h(change.name)
                if let from = change.from, let to = change.to { text += " (\(verdictLabels[from]!) → \(verdictLabels[to]!))" }
                return "<li>\(text)</li>"
            }
            parts.append("<h3>\(label)</h3><ul>\(entries.joined())</ul>")
        }
        let since = ISO8601DateFormatter().string(from: changes.previousRunAt)
        let run = changes.previousRunId.map { " (run #\($0))" } ?? ""
        return """
        <section id="changes"><h2>Changes since the previous audit</h2>
        <p>Compared with the audit of \(h(since))\(run).</p>
        \(parts.isEmpty ? "<p>No change.</p>" : parts.joined(separator: "\n"))
        </section>
        """
    }

    private static func membersTable(_ members: [MemberResult]) -> String {
        let h = Escape.html
        let options = Verdict.allCases.map { "<option value=\"\($0.rawValue)\">\(verdictLabels[$0]!)</option>" }.joined()
        let rows = members.map { member in
            """
            <tr data-verdict="\(member.verdict.rawValue)"><td><a href="#m-\(h(anchor(member.id)))">\(h(member.name))</a></td><td>\(h(member.role ?? ""))</td><td>\(h(member.organisation ?? ""))</td><td>\(h(member.address ?? ""))</td><td>\(member.accountClass.rawValue)</td><td data-sort="\(member.verdict.rawValue)">\(badge(member.verdict))</td><td>\(h(member.reason))</td></tr>
            """
        }
        return """
        <section id="members"><h2>Members</h2>
        <p class="noprint"><label>Show <select id="verdict-filter"><option value="">all verdicts</option>\(options)</select></label>
        <span id="shown"></span> · click a column heading to sort</p>
        <table id="members-table"><thead><tr><th>Member</th><th>Role</th><th>Organisation</th><th>Address</th><th>Account</th><th>Verdict</th><th>Why</th></tr></thead>
        <tbody>
        \(rows.joined(separator: "\n"))
        </tbody></table>
        </section>
        """
    }

    private static func detailsSection(_ members: [MemberResult], checkedDomains: Set<String>) -> String {
        let h = Escape.html
        let blocks = members.map { member -> String in
            let findings = member.findings.map { finding -> String in
                let kind = finding.required ? "required" : "advised"
                // A check that could not run has no fix to make on the domain, only a next step.
                let label = finding.status == .error ? "What to do:" : "Fix:"
                let fix = finding.advice.map { "<p class=\"fix\"><strong>\(label)</strong> \(h($0))</p>" } ?? ""
                return """
                <li class="finding status-\(finding.status.rawValue)"><span class="status">\(finding.status.rawValue)</span> <strong>\(h(finding.title))</strong> <span class="kind">(\(kind), \(h(finding.severity)))</span>
                <p>\(h(finding.summary))</p>\(fix)
                <p class="ref">\(h(finding.explanation)) <em>\(h(finding.reference))</em></p></li>
                """
            }
            // Link to the evidence only where the domain was checked (personal webmail is not).
            let domain = member.domain.map { name in
                checkedDomains.contains(name) ? " · domain <a href=\"#d-\(h(anchor(name)))\">\(h(name))</a>" : " · domain \(h(name))"
            } ?? ""
            return """
            <details id="m-\(h(anchor(member.id)))"\(member.verdict == .compliant ? "" : " open")><summary>\(badge(member.verdict)) \(h(member.name)) — \(h(member.role ?? ""))</summary>
            <p class="meta">\(h(member.organisation ?? "")) · \(h(member.address ?? "no address")) · \(member.accountClass.rawValue) account\(domain)</p>
            <p>\(h(member.reason))</p>\(exceptionLine(member))
            <ul class="findings">\(findings.joined(separator: "\n"))</ul>
            </details>
            """
        }
        return "<section id=\"details\"><h2>Findings by Member</h2>\n\(blocks.joined(separator: "\n"))\n</section>"
    }

    private static func exceptionLine(_ member: MemberResult) -> String {
        guard let note = member.exception, let first = note.grants.first else { return "" }
        let h = Escape.html
        let day = { (date: Date) in String(ISO8601DateFormatter().string(from: date).prefix(10)) }
        switch note.state {
        case .applied:
            let decisions = note.grants.map { "#\($0.id): accepted by \(h($0.decidedBy)) until \(day($0.expires)) (\(h($0.scope))): \(h($0.reason))" }
            return "<p class=\"exception\">Exception \(decisions.joined(separator: "; ")). Without it: \(verdictLabels[note.wouldBe ?? .nonCompliant]!).</p>"
        case .partial:
            return "<p class=\"exception\">Exception \(h(note.grantList)) accepts only part of what fails; still failing: \(h(note.uncovered.joined(separator: ", "))).</p>"
        case .notCovering:
            return "<p class=\"exception\">Exception \(h(note.grantList)) is in force but accepts nothing the Member fails now.</p>"
        case .expired:
            return "<p class=\"exception\">Exception #\(first.id) expired on \(day(first.expires)): the findings are back.</p>"
        case .revoked:
            return "<p class=\"exception\">Exception #\(first.id) was revoked by \(h(first.revocation?.decidedBy ?? "?")): \(h(first.revocation?.reason ?? "")).</p>"
        }
    }

    /// The SPF record tree, one list item a record or remark, indented by its depth.
    private static func spfTree(_ details: JSONValue) -> String {
        let lines = SPFTreeOutline.lines(details)
        guard !lines.isEmpty else { return "" }
        let items = lines.map { line -> String in
            let text = line.isRemark ? Escape.html(line.text) : "<code>\(Escape.html(line.text))</code>"
            return "<li class=\"depth\(min(line.depth, 9))\(line.isRemark ? " remark" : "")\">\(text)</li>"
        }
        return "<div class=\"spf-tree\"><p>Record tree:</p><ul>\(items.joined())</ul></div>"
    }

    private static func evidenceSection(_ domains: [DomainReport]) -> String {
        let h = Escape.html
        let formatter = ISO8601DateFormatter()
        let blocks = domains.map { report -> String in
            let checks = report.checks.map { check -> String in
                let evidence = check.evidence.map { item -> String in
                    let data = item.data.map { "<div class=\"data\">\(h(String($0.prefix(2000))))</div>" }.joined()
                    return "<li><code>\(h(item.query))</code> → \(h(item.result)) <span class=\"time\">\(formatter.string(from: item.observedAt))</span>\(data)</li>"
                }
                return "<h4>\(h(check.id)): \(h(check.status.rawValue))</h4><p>\(h(check.summary))</p>\(spfTree(check.details))<ul class=\"evidence\">\(evidence.joined())</ul>"
            }
            return "<details id=\"d-\(h(anchor(report.asciiDomain)))\"><summary>\(h(report.domain))</summary>\(checks.joined(separator: "\n"))</details>"
        }
        return "<section id=\"evidence\"><h2>Evidence appendix</h2><p>The DNS answers and HTTP responses behind every domain result.</p>\n\(blocks.joined(separator: "\n"))\n</section>"
    }

    /// A fragment identifier from an id: letters, digits and '-' only.
    static func anchor(_ text: String) -> String {
        String(text.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
    }

    /// The badges take the chart's colours.
    static let stylesheet = baseStylesheet
        + Verdict.allCases.map { ".v-\($0.rawValue){background:\(verdictColours[$0]!)}" }.joined()

    static let baseStylesheet = """
    body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1b1b1b;line-height:1.4}
    h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
    .meta{color:#555;font-size:.9rem;margin:.2rem 0}.warning{background:#fff3e0;border-left:4px solid #ef6c00;padding:.5rem}
    .badge{color:#fff;border-radius:3px;padding:.1rem .4rem;font-size:.8rem;white-space:nowrap}
    td,li,p,code,summary{overflow-wrap:anywhere}
    svg .label,svg .count{font-size:14px;fill:#1b1b1b}
    table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #e0e0e0;padding:.35rem;text-align:left;vertical-align:top}
    th{cursor:pointer;background:#f5f5f5;user-select:none}th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
    details{border:1px solid #e0e0e0;border-radius:4px;margin:.5rem 0;padding:.3rem .8rem}summary{cursor:pointer;font-weight:bold}
    .findings{list-style:none;padding-left:0}.finding{border-left:4px solid #bbb;padding:.2rem .6rem;margin:.5rem 0}
    .status-pass{border-color:#2e7d32}.status-fail,.status-not-present{border-color:#c62828}.status-warn{border-color:#ef6c00}.status-error{border-color:#546e7a}
    .status{font-family:monospace;text-transform:uppercase;font-size:.8rem}.kind,.ref,.time{color:#666;font-size:.85rem}
    .fix{background:#f1f8e9;padding:.3rem}.not-recorded{background:#ffebee;border-left:6px solid #c62828;padding:.6rem;font-size:1.05rem}.backdated{color:#6d4c00}footer{margin-top:2rem;border-top:1px solid #ddd}.exception{background:#f3e5f5;border-left:4px solid #6a1b9a;padding:.3rem .6rem}.soon{color:#c62828}.evidence{font-size:.85rem}.spf-tree{font-size:.85rem}.spf-tree ul{margin:0;padding-left:1rem;list-style:none}.spf-tree .remark{color:#8d6e00}.spf-tree .depth1{margin-left:1.2rem}.spf-tree .depth2{margin-left:2.4rem}.spf-tree .depth3{margin-left:3.6rem}.spf-tree .depth4{margin-left:4.8rem}.spf-tree .depth5{margin-left:6.0rem}.spf-tree .depth6{margin-left:7.2rem}.spf-tree .depth7{margin-left:8.4rem}.spf-tree .depth8{margin-left:9.6rem}.spf-tree .depth9{margin-left:10.8rem}.data{font-family:monospace;white-space:pre-wrap;word-break:break-all;color:#333;margin-left:1rem}
    @media print{.noprint{display:none}details{border:none}a{color:inherit;text-decoration:none}h2{page-break-after:avoid}tr,li{page-break-inside:avoid}body{margin:0;max-width:none}}
    """

    static let script = """
    (function(){
      var table=document.getElementById('members-table');var filter=document.getElementById('verdict-filter');var shown=document.getElementById('shown');
      function apply(){var v=filter.value;var n=0;Array.prototype.forEach.call(table.tBodies[0].rows,function(r){var show=!v||r.getAttribute('data-verdict')===v;r.style.display=show?'':'none';if(show)n++;});shown.textContent=n+' shown';}
      filter.addEventListener('change',apply);apply();
      Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){th.addEventListener('click',function(){
        var asc=!th.classList.contains('sorted-asc');Array.prototype.forEach.call(table.tHead.rows[0].cells,function(c){c.classList.remove('sorted-asc','sorted-desc');});
        th.classList.add(asc?'sorted-asc':'sorted-desc');var rows=Array.prototype.slice.call(table.tBodies[0].rows);
        rows.sort(function(a,b){var x=a.cells[i].getAttribute('data-sort')||a.cells[i].textContent;var y=b.cells[i].getAttribute('data-sort')||b.cells[i].textContent;return (asc?1:-1)*x.localeCompare(y);});
        rows.forEach(function(r){table.tBodies[0].appendChild(r);});});});
      window.addEventListener('beforeprint',function(){Array.prototype.forEach.call(document.querySelectorAll('details'),function(d){d.open=true;});});
    })();
    """
}
