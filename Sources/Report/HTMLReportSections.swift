import Foundation
import MailDomain
import Policy

/// The sections of the HTML report, each from the one `AuditResult`; the web console shows the
/// same sections, linking Members to their own pages instead of within the page. Tables carry a
/// `data-label` on every cell so that on a narrow screen each row reflows into a card.
public enum HTMLReportSections {
    private static let h = Escape.html

    /// Where a Member's name links: to the findings further down the report, or to the
    /// Member's page in the console.
    public enum MemberLinks: Sendable {
        case withinReport
        case consolePages
        /// No link: a page that stands alone (the mailed report).
        case none
    }

    private static func cell(_ label: String, _ content: String, sort: String? = nil) -> String {
        "<td data-label=\"\(label)\"\(sort.map { " data-sort=\"\(h($0))\"" } ?? "")>\(content)</td>"
    }

    private static func heads(_ labels: [String]) -> String {
        "<thead><tr>\(labels.map { "<th scope=\"col\">\($0)</th>" }.joined())</tr></thead>"
    }

    private static func memberLink(_ member: MemberResult, _ links: MemberLinks = .withinReport) -> String {
        switch links {
        case .withinReport: "<a href=\"#m-\(h(HTMLReport.anchor(member.id)))\">\(h(member.name))</a>"
        case .consolePages: "<a href=\"/members/\(h(consolePath(member.id)))\">\(h(member.name))</a>"
        case .none: h(member.name)
        }
    }

    /// A Member id as one path segment of a console address.
    public static func consolePath(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? id
    }

    // MARK: For the Monitoring Officer

    /// `limit`: at most this many Members in each list (the console's dashboard), with how many more there are.
    public static func monitoringOfficer(_ result: AuditResult, members: [MemberResult], links: MemberLinks = .withinReport, limit: Int? = nil) -> String {
        var section = ""
        monitoringOfficer(result, members: members, links: links, limit: limit) { section += $0 }
        return section
    }

    /// The same, written a Member's row at a time (every Member needing action is in the report's).
    static func monitoringOfficer(_ result: AuditResult, members: [MemberResult], links: MemberLinks = .withinReport, limit: Int? = nil,
                                  to emit: (String) -> Void) {
        let needing = members.filter { $0.verdict == .nonCompliant || $0.verdict == .unknown || $0.verdict == .assessmentDue }
        let shown = needing.prefix(limit ?? needing.count)
        let due = members.filter { $0.verdict == .assessmentDue }.count
        emit("""
        <section id="attention" aria-labelledby="attention-h"><h2 id="attention-h">For the Monitoring Officer</h2>
        <p class="lead">\(needing.count) of \(result.members.count) Members need attention; \(due) \(due == 1 ? "is" : "are") waiting for a 10-minute assessment. \(result.exceptions.count) exception\(result.exceptions.count == 1 ? " is" : "s are") in force.</p>

        """)
        if shown.isEmpty {
            emit("<p>Every Member is compliant or covered by an exception: nobody has to act.</p>")
        } else {
            emit("<table class=\"reflow actions\"><caption>Who must act for each Member needing attention</caption>"
                 + heads(["Member", "Verdict", "Who must act, and the next step"]) + "<tbody>")
            for member in shown { emit(actionRow(member, links: links)) }
            emit("</tbody></table>" + (needing.count > shown.count ? "<p>… and \(needing.count - shown.count) more Members needing attention (the run's report lists them all).</p>" : ""))
        }
        emit("\n" + exceptions(result, members: members, links: links) + "\n")
        assessments(result, members: members, links: links, limit: limit, to: emit)
        emit("\n</section>")
    }

    /// One Member needing action: who must act and the next step.
    private static func actionRow(_ member: MemberResult, links: MemberLinks) -> String {
        // The same step for the same person is said once, naming every control it is for.
        var grouped: [(owner: String, step: String, controls: [String], accepted: [Int64])] = []
        for item in ActionItem.of(member) {
            let accepted = item.acceptedBy.map { [$0.id] } ?? []
            if let index = grouped.firstIndex(where: { $0.owner == item.owner && $0.step == item.nextStep }) {
                grouped[index].controls.append(item.finding.control)
                grouped[index].accepted += accepted
            } else {
                grouped.append((item.owner, item.nextStep, [item.finding.control], accepted))
            }
        }
        let steps = grouped.map { group -> String in
            let accepted = group.accepted.isEmpty ? "" : " <em>(accepted by exception \(group.accepted.map { "#\($0)" }.joined(separator: ", ")))</em>"
            return "<li><strong>\(h(group.owner))</strong>: \(h(group.step)) <span class=\"control\">(\(h(group.controls.joined(separator: ", "))))</span>\(accepted)</li>"
        }
        let what = steps.isEmpty ? "<p>\(h(member.reason))</p>" : "<ul class=\"steps\">\(steps.joined())</ul>"
        return "<tr>\(cell("Member", memberLink(member, links) + "<br><span class=\"small\">\(h(member.organisation ?? ""))</span>"))"
            + "\(cell("Verdict", HTMLReport.badge(member.verdict)))\(cell("Who must act, and the next step", what))</tr>"
    }

    /// Live exceptions (those ending within 30 days marked), partial ones and those that lapsed.
    private static func exceptions(_ result: AuditResult, members: [MemberResult], links: MemberLinks) -> String {
        let soon = EndingSoon.horizon(result)
        let live = result.exceptions.map { grant -> String in
            let flag = grant.expires <= soon ? " <strong class=\"soon\">ends within 30 days</strong>" : ""
            return "<tr>\(cell("#", "#\(grant.id)"))\(cell("Member", h(grant.memberName)))\(cell("Accepted", h(grant.scope)))"
                + "\(cell("Reason", h(grant.reason)))\(cell("Decided", "\(h(grant.decidedBy)), \(HTMLReport.day(grant.decidedAt))"))"
                + "\(cell("Until", HTMLReport.day(grant.expires) + flag))</tr>"
        }
        let lapsed = members.compactMap { member -> String? in
            guard let note = member.exception, note.state == .expired || note.state == .revoked, let grant = note.grants.first else { return nil }
            let how = note.state == .expired ? "expired on \(HTMLReport.day(grant.expires))" : "revoked by \(h(grant.revocation?.decidedBy ?? "?"))"
            return "<li>\(memberLink(member, links)): exception #\(grant.id) (\(h(grant.scope))) \(how); now \(HTMLReport.badge(member.verdict)).</li>"
        }
        let partial = members.compactMap { member -> String? in
            guard let note = member.exception, note.state == .partial else { return nil }
            return "<li>\(memberLink(member, links)): exception \(h(note.grantList)) accepts only part of what fails; still failing: "
                + "\(h(note.uncovered.joined(separator: ", "))), so \(HTMLReport.badge(member.verdict)).</li>"
        }
        var out = "<h3>Exceptions</h3>"
        out += live.isEmpty ? "<p>No exception is in force.</p>"
            : "<table class=\"reflow exceptions\"><caption>Exceptions in force, soonest end first</caption>"
            + heads(["#", "Member", "Accepted", "Reason", "Decided", "Until"]) + "<tbody>\(live.joined())</tbody></table>"
        if !partial.isEmpty { out += "<p>Covering only part of what the Member fails, so the verdict stands:</p><ul>\(partial.joined())</ul>" }
        if !lapsed.isEmpty { out += "<p>Lapsed, so the findings are back:</p><ul>\(lapsed.joined())</ul>" }
        return out
    }

    /// Assessments ending soon and Members waiting for one, a line at a time: thousands may wait.
    private static func assessments(_ result: AuditResult, members: [MemberResult], links: MemberLinks, limit: Int?,
                                    to emit: (String) -> Void) {
        let ending = EndingSoon.assessments(result, members: members)
        let waiting = members.filter { $0.verdict == .assessmentDue }
        /// Only the Members shown are written out: a long list is cut at `limit`, saying how many more.
        func list(_ heading: String, _ chosen: [MemberResult], _ line: (MemberResult) -> String) {
            let shown = chosen.prefix(limit ?? chosen.count)
            emit(heading + "<ul>")
            for member in shown { emit(line(member)) }
            emit("</ul>" + (chosen.count > shown.count ? "<p>… and \(chosen.count - shown.count) more.</p>" : ""))
        }
        emit("<h3>Assessments</h3>")
        if ending.isEmpty { emit("<p>No assessment ends within 30 days.</p>") } else {
            list("<p>Ending within 30 days:</p>", ending) {
                "<li>\(memberLink($0, links)): the assessment of \(h($0.assessment!.subject)) by \(h($0.assessment!.assessor)) ends on \(HTMLReport.day($0.assessment!.validUntil)).</li>"
            }
        }
        if waiting.isEmpty { emit("<p>Nobody is waiting for an assessment.</p>") } else {
            list("<p>Waiting for an assessment:</p>", waiting) {
                "<li>\(memberLink($0, links)) (\(h($0.organisation ?? ""))): \(h($0.reason)) <strong>ICT provider</strong>: carry out the 10-minute assessment with the organisation's IT.</li>"
            }
        }
    }

    // MARK: By organisation, by control

    public static func organisations(_ result: AuditResult, links: MemberLinks = .withinReport) -> String {
        let rows = OrganisationRow.rows(result).map { row -> String in
            let members = row.members.map { "<li>\(memberLink($0, links)) \(HTMLReport.badge($0.verdict))</li>" }.joined()
            let failing = row.failingControls.isEmpty ? "none" : row.failingControls.map { "<code>\(h($0))</code>" }.joined(separator: ", ")
            return "<tr>\(cell("Organisation", "<strong>\(h(row.name))</strong><br><span class=\"small\">\(row.accountClasses.map(\.rawValue).joined(separator: ", ")) accounts</span>"))"
                + "\(cell("Mail domains", row.domains.isEmpty ? "none" : row.domains.map(h).joined(separator: "<br>")))"
                + "\(cell("Members", "<ul class=\"plain\">\(members)</ul>"))"
                + "\(cell("Assessment", h(row.assessment)))\(cell("Failing controls", failing))</tr>"
        }
        return """
        <section id="organisations" aria-labelledby="organisations-h"><h2 id="organisations-h">By organisation</h2>
        <p>One 10-minute assessment of an organisation's mail system covers every Member on its domains.</p>
        <table class="reflow organisations"><caption>Councils, businesses and the CPCA, with their Members</caption>
        \(heads(["Organisation", "Mail domains", "Members", "Assessment", "Failing controls"]))<tbody>\(rows.joined())</tbody></table>
        </section>
        """
    }

    public static func controls(_ result: AuditResult) -> String {
        let rows = ControlRow.rows(result).map { row -> String in
            let domains = row.isDomainControl
                ? "\(row.domainsPassing) pass, \(row.domainsFailing) fail, \(row.domainsNotChecked) not checked" : "—"
            let failing = row.membersFailing > 0 ? "<strong class=\"fail-count\">\(row.membersFailing)</strong>" : "0"
            return "<tr>\(cell("Control", "\(h(row.title))<br><code>\(h(row.control))</code>"))\(cell("Domains", domains))"
                + "\(cell("Required for", "\(row.requiredFor)"))\(cell("Members passing", "\(row.membersPassing)"))"
                + "\(cell("Members failing", failing))\(cell("Not checked", "\(row.membersNotChecked)"))"
                + "\(cell("Advised, falling short", "\(row.membersAdvised)"))</tr>"
        }
        return """
        <section id="controls" aria-labelledby="controls-h"><h2 id="controls-h">By control</h2>
        <p>Each control across the audit, the most failed first. A domain's result counts once however many Members use it.</p>
        <table class="reflow controls"><caption>Controls: domains and Members passing, failing and not checked</caption>
        \(heads(["Control", "Domains", "Required for", "Members passing", "Members failing", "Not checked", "Advised, falling short"]))<tbody>\(rows.joined())</tbody></table>
        </section>
        """
    }

    // MARK: Changes, Members

    public static func changes(_ changes: RunChanges?, limit: Int? = nil) -> String {
        guard let changes else {
            return "<section id=\"changes\" aria-labelledby=\"changes-h\"><h2 id=\"changes-h\">Changes since the previous audit</h2><p>This is the first audit in the register.</p></section>"
        }
        var parts: [String] = []
        for (label, list) in changes.labelled where !list.isEmpty {
            let entries = list.prefix(limit ?? list.count).map { change -> String in
                var text = h(change.name)
                if let from = change.from, let to = change.to { text += " (\(HTMLReport.verdictLabels[from]!) → \(HTMLReport.verdictLabels[to]!))" }
                return "<li>\(text)</li>"
            }
            let more = list.count > entries.count ? "<p>… and \(list.count - entries.count) more.</p>" : ""
            parts.append("<h3>\(label)</h3><ul>\(entries.joined())</ul>\(more)")
        }
        let since = ISO8601DateFormatter().string(from: changes.previousRunAt)
        let run = changes.previousRunId.map { " (run #\($0))" } ?? ""
        return """
        <section id="changes" aria-labelledby="changes-h"><h2 id="changes-h">Changes since the previous audit</h2>
        <p>Compared with the audit of \(h(since))\(run).</p>
        \(parts.isEmpty ? "<p>No change.</p>" : parts.joined(separator: "\n"))
        </section>
        """
    }

    /// Written a row at a time (see `HTMLReport.write`).
    static func membersTable(_ members: [MemberResult], to emit: (String) -> Void) {
        let options = Verdict.allCases.map { "<option value=\"\($0.rawValue)\">\(HTMLReport.verdictLabels[$0]!)</option>" }.joined()
        let sortable = ["Member", "Organisation", "Address", "Account", "Verdict", "Until", "Why"].map { label in
            let screenOnly = label == "Address" || label == "Account" ? " class=\"screen-only\"" : ""
            return "<th scope=\"col\"\(screenOnly)><button type=\"button\" class=\"sort\">\(label)</button></th>"
        }.joined()
        emit("""
        <section id="members" aria-labelledby="members-h"><h2 id="members-h">Members</h2>
        <p class="noprint"><label for="verdict-filter">Show</label> <select id="verdict-filter"><option value="">all verdicts</option>\(options)</select>
        <span id="shown" aria-live="polite"></span>. Sort by a column with its heading's button.</p>
        <table id="members-table" class="reflow"><caption>Every Member, those needing action first</caption><thead><tr>\(sortable)</tr></thead>
        <tbody>

        """)
        for (index, member) in members.enumerated() {
            let until = member.verdictUntil.map(HTMLReport.day)
            let role = member.role.map { "<br><span class=\"small\">\(h($0))</span>" } ?? ""
            emit((index == 0 ? "" : "\n")
                + "<tr data-verdict=\"\(member.verdict.rawValue)\">\(cell("Member", memberLink(member) + role, sort: member.name.lowercased()))"
                + "\(cell("Organisation", h(member.organisation ?? "")))<td data-label=\"Address\" class=\"screen-only\">\(h(member.address ?? "none"))</td>"
                + "<td data-label=\"Account\" class=\"screen-only\">\(member.accountClass.rawValue)</td>"
                + "\(cell("Verdict", HTMLReport.badge(member.verdict), sort: "\(HTMLReport.verdictRank[member.verdict] ?? 9)"))"
                + "\(cell("Until", until ?? "—", sort: until ?? "9999"))\(cell("Why", h(member.reason)))</tr>")
        }
        emit("""

        </tbody></table>
        </section>
        """)
    }

    // MARK: Findings by Member

    /// Written a Member at a time (see `HTMLReport.write`).
    static func findings(_ members: [MemberResult], checkedDomains: Set<String>, to emit: (String) -> Void) {
        emit("""
        <section id="details" aria-labelledby="details-h"><h2 id="details-h">Findings by Member</h2>
        <p>Open a Member to see their findings: required failures first, then what could not be checked, then advised items; what passes is folded.
        <span class="print-note">On paper, only the Members opened on screen are printed.</span></p>
        <p class="noprint"><button type="button" id="open-all">Open every Member</button> <button type="button" id="close-all">Close every Member</button></p>

        """)
        for (index, member) in members.enumerated() {
            // Link to the evidence only where the domain was checked (personal webmail is not).
            let domain = member.domain.map { name in
                checkedDomains.contains(name) ? " · domain <a href=\"#d-\(h(HTMLReport.anchor(name)))\">\(h(name))</a>" : " · domain \(h(name))"
            } ?? ""
            emit((index == 0 ? "" : "\n") + """
            <details id="m-\(h(HTMLReport.anchor(member.id)))" class="member"><summary>\(HTMLReport.badge(member.verdict)) \(h(member.name))\(member.role.map { " — \(h($0))" } ?? "")</summary>
            <p class="meta">\(h(member.organisation ?? "")) · \(h(member.address ?? "no address")) · \(member.accountClass.rawValue) account\(domain)</p>
            \(memberFindings(member))
            </details>
            """)
        }
        emit("\n</section>")
    }

    /// One Member's reason, exception and findings, in the order a reader needs them.
    public static func memberFindings(_ member: MemberResult) -> String {
        let groups = FindingGroups(member.findings)
        var lists: [String] = []
        let shown: [(String, [Finding])] = [("Required, failing", groups.requiredFailures), ("Could not be checked", groups.couldNotCheck),
                                            ("Advised, falling short, or a warning", groups.shortfalls)]
        for (label, findings) in shown where !findings.isEmpty {
            lists.append("<p class=\"group\">\(label)</p><ul class=\"findings\">\(findings.map { finding($0, member: member) }.joined())</ul>")
        }
        if !groups.passes.isEmpty {
            let count = groups.passes.count
            lists.append("<details class=\"passes\"><summary>\(count) control\(count == 1 ? "" : "s") pass</summary>"
                         + "<ul class=\"findings\">\(groups.passes.map { finding($0, member: member) }.joined())</ul></details>")
        }
        return "<p>\(h(member.reason))</p>\(exceptionLine(member))\n" + lists.joined(separator: "\n")
    }

    private static func finding(_ finding: Finding, member: MemberResult) -> String {
        let status = finding.status.rawValue
        let kind = FindingKind(finding)
        let (css, label): (String, String)
        switch kind {
        case .requiredFailure: (css, label) = ("req-fail", "\(status), required")
        case .couldNotCheck: (css, label) = ("not-checked", "could not check, required")
        case .passed: (css, label) = ("passed", finding.required ? "\(status), required" : "\(status), advised")
        case .shortfall: (css, label) = ("advised", finding.required ? "\(status), required, not failing" : "\(status), advised only")
        }
        // A check that could not run has no fix to make on the domain, only a next step.
        let fixLabel = finding.status == .error ? "What to do:" : "Fix:"
        let fix = finding.status == .pass ? "" : finding.advice.map { "<p class=\"fix\"><strong>\(fixLabel)</strong> \(h($0))</p>" } ?? ""
        let who = kind == .requiredFailure || kind == .couldNotCheck
            ? "<p class=\"who\"><strong>Who acts:</strong> \(h(WhoMustAct.who(finding, accountClass: member.accountClass, organisation: member.organisation)))</p>" : ""
        return """
        <li class="finding \(css)"><span class="status">\(h(label))</span> <strong>\(h(finding.title))</strong> <code class="control">\(h(finding.control))</code>
        <p>\(h(finding.summary))</p>\(fix)\(who)
        <p class="ref">\(h(finding.explanation)) <em>\(h(finding.reference))</em></p></li>
        """
    }

    private static func exceptionLine(_ member: MemberResult) -> String {
        guard let note = member.exception, let first = note.grants.first else { return "" }
        switch note.state {
        case .applied:
            let decisions = note.grants.map { "#\($0.id): accepted by \(h($0.decidedBy)) until \(HTMLReport.day($0.expires)) (\(h($0.scope))): \(h($0.reason))" }
            return "<p class=\"exception\">Exception \(decisions.joined(separator: "; ")). Without it: \(HTMLReport.verdictLabels[note.wouldBe ?? .nonCompliant]!).</p>"
        case .partial:
            return "<p class=\"exception\">Exception \(h(note.grantList)) accepts only part of what fails; still failing: \(h(note.uncovered.joined(separator: ", "))).</p>"
        case .notCovering:
            return "<p class=\"exception\">Exception \(h(note.grantList)) is in force but accepts nothing the Member fails now.</p>"
        case .expired:
            return "<p class=\"exception\">Exception #\(first.id) expired on \(HTMLReport.day(first.expires)): the findings are back.</p>"
        case .revoked:
            return "<p class=\"exception\">Exception #\(first.id) was revoked by \(h(first.revocation?.decidedBy ?? "?")): \(h(first.revocation?.reason ?? "")).</p>"
        }
    }

    // MARK: Evidence

    /// The SPF record tree, one list item a record or remark, indented by its depth.
    private static func spfTree(_ details: JSONValue) -> String {
        let lines = SPFTreeOutline.lines(details)
        guard !lines.isEmpty else { return "" }
        let items = lines.map { line -> String in
            let text = line.isRemark ? h(line.text) : "<code>\(h(line.text))</code>"
            return "<li class=\"depth\(min(line.depth, 9))\(line.isRemark ? " remark" : "")\">\(text)</li>"
        }
        return "<div class=\"spf-tree\"><p>Record tree:</p><ul>\(items.joined())</ul></div>"
    }

    /// Written a domain at a time (see `HTMLReport.write`).
    static func evidence(_ domains: [DomainReport], to emit: (String) -> Void) {
        let formatter = ISO8601DateFormatter()
        emit("""
        <section id="evidence" aria-labelledby="evidence-h"><h2 id="evidence-h">Evidence appendix</h2>
        <p>The DNS answers, HTTP responses and SMTP replies behind every domain result.</p>
        <p class="noprint"><input type="checkbox" id="print-evidence"> <label for="print-evidence">Print the evidence too (it is left off paper unless this is ticked)</label></p>

        """)
        for (index, report) in domains.enumerated() {
            let checks = report.checks.map { check -> String in
                let evidence = check.evidence.map { item -> String in
                    // A body's CRLF is a line end, shown as one, never as an escape.
                    let data = item.data.map { "<div class=\"data\">\(h(TerminalText.unifyingLineEnds(String($0.prefix(2000)))))</div>" }.joined()
                    return "<li><code>\(h(item.query))</code> → \(h(item.result)) <span class=\"time\">\(formatter.string(from: item.observedAt))</span>\(data)</li>"
                }
                return "<h3>\(h(report.domain)): \(h(check.id)), \(h(check.status.rawValue))</h3><p>\(h(check.summary))</p>\(spfTree(check.details))<ul class=\"evidence\">\(evidence.joined())</ul>"
            }
            emit((index == 0 ? "" : "\n")
                + "<details id=\"d-\(h(HTMLReport.anchor(report.asciiDomain)))\" class=\"domain\"><summary>\(h(report.domain))</summary>\(checks.joined(separator: "\n"))</details>")
        }
        emit("\n</section>")
    }
}
