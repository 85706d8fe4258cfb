import Foundation
import Hummingbird
import Policy
import Register
import Report

/// The console's pages and decisions. What they show comes from the register's stored results
/// through the report's own sections; what they record goes through GrantCheck and the register.
extension ConsoleServer {
    private var organisation: String { site.policy.organisationName }
    private static let h = Escape.html

    private func layout(_ title: String, _ identity: ConsoleIdentity, body: String, notice: String? = nil, problem: String? = nil) -> ConsolePages.Layout {
        .init(title: title, organisation: organisation, identity: identity, notice: notice, problem: problem, body: body)
    }

    private func noRunYet(_ identity: ConsoleIdentity) -> Response {
        ConsolePages.page(layout("Dashboard", identity, body: "<p>No audit run with its results is recorded yet: run <code>mailaudit audit</code>.</p>"))
    }

    // MARK: Dashboard, organisations

    func dashboard(_ identity: ConsoleIdentity) async throws -> Response {
        guard let body = try await results.dashboard(site.register, make: Self.dashboardBody) else { return noRunYet(identity) }
        return ConsolePages.page(layout("Dashboard", identity, body: body))
    }

    /// Everything on the dashboard comes from the stored run, the same for every user.
    static func dashboardBody(_ latest: ResultCache.Latest) -> String {
        let result = latest.result
        let summary = result.summary
        let counts = Verdict.allCases.map { "<li>\(HTMLReport.badge($0)) \(summary[$0.rawValue] ?? 0)</li>" }.joined()
        return """
        <p class="meta">Run #\(result.runId ?? 0) of \(h(ISO8601DateFormatter().string(from: result.generatedAt))) · \(result.members.count) Members ·
        <a href="/runs/\(result.runId ?? 0)">the run's report</a></p>
        <section aria-labelledby="counts-h"><h2 id="counts-h">Members by verdict</h2><ul class="counts">\(counts)</ul>
        \(TrendChart.render(result.trend))</section>
        \(HTMLReportSections.monitoringOfficer(result, members: latest.membersInOrder, links: .consolePages, limit: 50))
        \(HTMLReportSections.changes(result.changes, limit: 50))
        """
    }

    func organisations(_ identity: ConsoleIdentity) async throws -> Response {
        guard let latest = try await results.latest(site.register) else { return noRunYet(identity) }
        return ConsolePages.page(layout("Organisations", identity, body: HTMLReportSections.organisations(latest.result, links: .consolePages)))
    }

    // MARK: A Member

    func memberPage(_ id: String, identity: ConsoleIdentity, notice: String? = nil, problem: String? = nil) async throws -> Response {
        guard let latest = try await results.latest(site.register) else { return noRunYet(identity) }
        let result = latest.result
        guard let index = latest.byId[id] else {
            return ConsolePages.page(layout("No such Member", identity, body: "<p>No Member with this id is in the latest run.</p>"), status: .notFound)
        }
        let member = result.members[index]
        let h = Self.h
        var body = "<p class=\"meta\">\(HTMLReport.badge(member.verdict)) \(h(member.role ?? "")) · \(h(member.organisation ?? "")) · "
            + "\(h(member.address ?? "no address")) · \(member.accountClass.rawValue) account · run #\(result.runId ?? 0)</p>"
        body += "<section aria-labelledby=\"findings-h\"><h2 id=\"findings-h\">Findings</h2>\(HTMLReportSections.memberFindings(member))</section>"
        // The assessment that covers the Member.
        if let assessment = member.assessment {
            body += "<section aria-labelledby=\"assessment-h\"><h2 id=\"assessment-h\">Assessment</h2><p>\(h(assessment.subject)): "
                + "\(assessment.passed ? "passed" : "failed") on \(HTMLReport.day(assessment.assessedAt)) by \(h(assessment.assessor))"
                + "\(assessment.itContact.map { " with \(h($0))" } ?? ""), until \(HTMLReport.day(assessment.validUntil)).</p></section>"
        }
        // The verdict over the runs.
        let history = try site.register.verdictHistory(memberId: member.id).prefix(24)
        let rows = history.map { entry in
            "<tr><td data-label=\"Run\"><a href=\"/runs/\(entry.runId)\">#\(entry.runId)</a></td><td data-label=\"When\">\(HTMLReport.day(entry.at))\(entry.backdated ? " (backdated)" : "")</td>"
                + "<td data-label=\"Verdict\">\(Verdict(rawValue: entry.verdict).map(HTMLReport.badge) ?? h(entry.verdict))</td><td data-label=\"Why\">\(h(entry.reason))</td></tr>"
        }.joined()
        body += "<section aria-labelledby=\"history-h\"><h2 id=\"history-h\">Verdict across runs</h2><table class=\"reflow\"><caption>The latest 24 runs</caption>"
            + "<thead><tr><th scope=\"col\">Run</th><th scope=\"col\">When</th><th scope=\"col\">Verdict</th><th scope=\"col\">Why</th></tr></thead><tbody>\(rows)</tbody></table></section>"
        // Exceptions, with a revoke form on each live one for the Monitoring Officer.
        let now = Date()
        let grants = try site.register.exceptions().filter { $0.memberId == member.id }.sorted { $0.decidedAt > $1.decidedAt }
        let items = grants.map { grant -> String in
            let state = grant.revocation.map { "revoked by \(h($0.decidedBy)) on \(HTMLReport.day($0.decidedAt)): \(h($0.reason))" }
                ?? (grant.isLive(at: now) ? "in force until \(HTMLReport.day(grant.expires))" : "ended on \(HTMLReport.day(grant.expires))")
            let revoke = grant.isLive(at: now) && identity.role == .monitoringOfficer
                ? ConsolePages.render("revoke", ["id": grant.id, "csrf": identity.csrfToken]) : ""
            return "<li><strong>#\(grant.id)</strong> (\(h(grant.scope))): \(h(grant.reason)) — decided by \(h(grant.decidedBy)) on \(HTMLReport.day(grant.decidedAt)); \(state)\(revoke)</li>"
        }
        body += "<section aria-labelledby=\"exceptions-h\"><h2 id=\"exceptions-h\">Exceptions</h2>"
            + (items.isEmpty ? "<p>None recorded.</p>" : "<ul>\(items.joined())</ul>") + "</section>"
        if identity.role == .monitoringOfficer {
            let failing = FindingGroups(member.findings).requiredFailures
            if failing.isEmpty {
                body += "<p>\(h(member.name)) fails no required control in the latest run: there is nothing to except.</p>"
            } else {
                body += ConsolePages.render("grant", [
                    "path": HTMLReportSections.consolePath(member.id), "csrf": identity.csrfToken, "name": member.name, "runId": result.runId ?? 0,
                    "controls": failing.map { ["id": $0.control, "title": $0.title] }, "personal": failing.contains { $0.control == "email.personal" },
                    "latest": GrantCheck.latestDay(policy: site.policy, now: now), "username": identity.username,
                ])
            }
        }
        return ConsolePages.page(layout(member.name, identity, body: body, notice: notice, problem: problem))
    }

    func grant(memberId: String, form: [String: [String]], identity: ConsoleIdentity, address: String) async throws -> Response {
        guard let latest = try await results.latest(site.register), let index = latest.byId[memberId] else {
            return ConsolePages.plain(.notFound, "No such Member in the latest run.")
        }
        let member = latest.result.members[index]
        let now = Date()
        let controls = (form["controls[]"] ?? []).filter { !$0.isEmpty }
        let reason = form["reason"]?.first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        do {
            guard !controls.isEmpty else { throw GrantCheck.Refusal("choose at least one control to accept") }
            guard !reason.isEmpty else { throw GrantCheck.Refusal("give the reason for the decision") }
            let expires = try GrantCheck.expiry(form["until"]?.first ?? "", policy: site.policy, now: now, option: "Until")
            let decision = try GrantCheck.check(memberId: member.id, controls: controls, confirmPersonal: form["confirmPersonal"]?.first == "yes",
                                                policy: site.policy, register: site.register, now: now)
            // The decider is the signed-in user, never typed.
            let grant = try site.register.grant(memberId: member.id, memberName: member.name, controls: decision.controls, reason: reason,
                                                decidedBy: "\(identity.username) (\(identity.role.label))", at: now, expires: expires,
                                                supersedes: decision.supersedes.map(\.id))
            try site.register.log("exception-granted", username: identity.username, address: address,
                                  detail: "#\(grant.id) for \(member.id): \(grant.scope) until \(HTMLReport.day(expires))", at: now)
            let superseding = decision.supersedes.isEmpty ? "" : "; it supersedes \(decision.supersedes.map { "#\($0.id)" }.joined(separator: ", "))"
            return try await memberPage(member.id, identity: identity,
                                        notice: "Exception #\(grant.id) recorded (\(grant.scope) until \(HTMLReport.day(expires)))\(superseding). The next audit applies it.")
        } catch let refusal as GrantCheck.Refusal {
            return try await memberPage(member.id, identity: identity, problem: "Not recorded: \(refusal.description).")
        }
    }

    func revoke(_ id: Int64, form: [String: [String]], identity: ConsoleIdentity, address: String) async throws -> Response {
        let now = Date()
        guard let grant = try site.register.exceptions().first(where: { $0.id == id }) else { return ConsolePages.plain(.notFound, "No exception #\(id).") }
        let reason = form["reason"]?.first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !reason.isEmpty, grant.isLive(at: now) else {
            return try await memberPage(grant.memberId, identity: identity,
                                        problem: reason.isEmpty ? "Not revoked: give the reason." : "Not revoked: #\(id) is not in force.")
        }
        _ = try site.register.revoke(id, reason: reason, decidedBy: "\(identity.username) (\(identity.role.label))", at: now)
        try site.register.log("exception-revoked", username: identity.username, address: address, detail: "#\(id): \(reason)", at: now)
        return try await memberPage(grant.memberId, identity: identity, notice: "Exception #\(id) revoked. The next audit no longer applies it.")
    }

    // MARK: Runs

    func runs(_ identity: ConsoleIdentity) throws -> Response {
        let runs = try site.register.runs()
        let rows = runs.map { run -> String in
            let counts = Verdict.allCases.map { "\(HTMLReport.verdictLabels[$0]!) \(run.summary[$0.rawValue] ?? 0)" }.joined(separator: ", ")
            return "<tr><td data-label=\"Run\"><a href=\"/runs/\(run.id)\">#\(run.id)</a></td><td data-label=\"When\">\(Self.h(ISO8601DateFormatter().string(from: run.startedAt)))</td>"
                + "<td data-label=\"As of\">\(run.replayOf.map { "replay of #\($0)" } ?? (run.backdated ? "\(HTMLReport.day(run.asOf)) (backdated)" : "the same day"))</td><td data-label=\"Members\">\(run.memberCount)</td>"
                + "<td data-label=\"Verdicts\">\(counts)</td></tr>"
        }.joined()
        let latest = runs.first.map { String($0.id) } ?? "", earlier = runs.dropFirst().first.map { String($0.id) } ?? ""
        let body = "<table class=\"reflow\"><caption>Every recorded run, newest first</caption><thead><tr><th scope=\"col\">Run</th><th scope=\"col\">When</th>"
            + "<th scope=\"col\">As of</th><th scope=\"col\">Members</th><th scope=\"col\">Verdicts</th></tr></thead><tbody>\(rows)</tbody></table>"
            + "<h2>Compare two runs</h2>" + ConsolePages.render("diff", ["from": earlier, "to": latest])
        return ConsolePages.page(layout("Runs", identity, body: body))
    }

    /// The run's report as it was written: the stored result through the same HTML writer.
    func storedReport(_ id: Int64) async throws -> Response {
        guard let result = try site.register.result(runId: id) else { return ConsolePages.plain(.notFound, "No stored result for run #\(id).") }
        var stored = result
        stored.trend = (try? site.register.trend(endingWith: result)) ?? []
        // The report's own policy (hashes of its style and script), and never framed.
        return ConsolePages.html(HTMLReport.render(stored),
                                 headers: [.contentSecurityPolicy: HTMLReport.contentSecurityPolicy + "; frame-ancestors 'none'"])
    }

    func diff(from: String?, to: String?, identity: ConsoleIdentity) async throws -> Response {
        guard let from = from.flatMap({ Int64($0) }), let to = to.flatMap({ Int64($0) }),
              let earlier = try site.register.result(runId: from, domains: false), let later = try site.register.result(runId: to, domains: false) else {
            return ConsolePages.page(layout("Compare runs", identity, body: ConsolePages.render("diff", ["from": from ?? "", "to": to ?? ""]),
                                            problem: "Give two recorded runs whose results are kept."), status: .badRequest)
        }
        let body = RunDiffReport.fragment(RunDiff.between(earlier, later), all: false, links: .consolePages)
            + ConsolePages.render("diff", ["from": from, "to": to])
        return ConsolePages.page(layout("Compare runs #\(from) and #\(to)", identity, body: body))
    }

    func logPage(_ identity: ConsoleIdentity) throws -> Response {
        let rows = try site.register.consoleLog().map { entry in
            "<tr><td data-label=\"When\">\(Self.h(ISO8601DateFormatter().string(from: entry.at)))</td><td data-label=\"User\">\(Self.h(entry.username))</td>"
                + "<td data-label=\"Address\">\(Self.h(entry.address))</td><td data-label=\"Event\">\(Self.h(entry.event))</td><td data-label=\"Detail\">\(Self.h(entry.detail))</td></tr>"
        }.joined()
        let body = "<table class=\"reflow\"><caption>Sign-ins, failures and decisions, newest first (the log is append-only)</caption><thead><tr><th scope=\"col\">When</th>"
            + "<th scope=\"col\">User</th><th scope=\"col\">Address</th><th scope=\"col\">Event</th><th scope=\"col\">Detail</th></tr></thead><tbody>\(rows)</tbody></table>"
        return ConsolePages.page(layout("Log", identity, body: body))
    }
}
