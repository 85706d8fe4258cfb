import Foundation
import XCTest

/// The reports as their readers meet them, over the demo authority: the HTML report in headless
/// Chromium (driven by selenium through Debian's chromium-driver, checked by axe-core 4.12),
/// printed on A4, on a 400 px screen; the committee summary; redaction for published papers.
final class ReportReadersTests: XCTestCase {
    /// The demo's picture: a first audit, the two assessments and the exception the demo records,
    /// then the audit reported.
    private func demoReport(_ test: String, redact: Bool = false) throws -> (site: DemoSite, out: URL) {
        let site = try DemoSite.make(self, name: test)
        let first = try site.audit()
        XCTAssertEqual(first.run.status, 1, first.run.stderr)
        let answers = try site.answers()
        for (member, contact) in [("sarah.mills@good.test", "R Patel, IT manager"), ("james.reed@m365.test", "L Chen, Head of ICT")] {
            let assess = try site.run(["assess"], ["--member", member, "--it-contact", contact, "--answers", answers.path])
            XCTAssertEqual(assess.status, 0, assess.stderr)
        }
        let grant = try site.run(["exceptions", "grant"], ["--member", "tom.hargreaves@cpca.test", "--controls", "account.stale",
                                                           "--reason", "On long-term leave until February", "--decided-by", "Monitoring Officer",
                                                           "--until", DemoSite.day(75)])
        XCTAssertEqual(grant.status, 0, grant.stderr)
        let out = site.folder.appendingPathComponent("report")
        let audit = try site.run(["audit"], ["--out", out.path] + (redact ? ["--redact"] : []))
        XCTAssertEqual(audit.status, 1, audit.stderr)
        return (site, out)
    }

    private var artefacts: URL {
        ProcessInfo.processInfo.environment["MAILAUDIT_TEST_ARTEFACTS"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-artefacts")
    }

    func testTheReportInABrowser() throws {
        guard let python = ProcessInfo.processInfo.environment["MAILAUDIT_TEST_BROWSER_PYTHON"],
              let axe = ProcessInfo.processInfo.environment["MAILAUDIT_TEST_AXE"] else {
            if ProcessInfo.processInfo.environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil {
                XCTFail("MAILAUDIT_TEST_BROWSER_PYTHON/MAILAUDIT_TEST_AXE are not set: run ./scripts/test")
            }
            throw XCTSkip("the browser tools are not installed (scripts/install-browser-tools)")
        }
        let (_, out) = try demoReport("browser")
        let page = out.appendingPathComponent("index.html")
        let check = try CommandRun.run(URL(fileURLWithPath: python),
                                       [DemoSite.root.appendingPathComponent("Tests/Browser/report_check.py").path, page.path, axe,
                                        artefacts.path, "Cllr Mary O'Neill"])
        XCTAssertEqual(check.status, 0, check.stderr)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: check.stdout) as? [String: Any], check.stdoutText + check.stderr)

        XCTAssertEqual(result["scriptRan"] as? String, "22 shown", "the report's own script runs under its CSP")

        // Headings in order: one h1, and no level skipped.
        let headings = (result["headings"] as? [String] ?? []).compactMap { Int($0.dropFirst()) }
        XCTAssertEqual(headings.first, 1)
        XCTAssertEqual(headings.filter { $0 == 1 }.count, 1)
        for (previous, next) in zip(headings, headings.dropFirst()) { XCTAssertLessThanOrEqual(next, previous + 1, "heading level skipped") }

        // axe-core: no serious or critical WCAG 2.2 A/AA violation, closed, opened and at 400 px.
        let axeRuns = [(result["axe"] as? [String: Any])?["closed"], (result["axe"] as? [String: Any])?["open"], result["axeNarrow"]]
        for (index, run) in axeRuns.enumerated() {
            let run = try XCTUnwrap(run as? [String: Any], "axe run \(index)")
            XCTAssertNil(run["error"], "axe failed: \(run["error"] ?? "")")
            XCTAssertGreaterThan(run["passes"] as? Int ?? 0, 10, "axe ran its rules")
            let bad = (run["violations"] as? [[String: Any]] ?? []).filter { ["serious", "critical"].contains($0["impact"] as? String ?? "") }
            XCTAssertTrue(bad.isEmpty, "axe run \(index): \(bad)")
        }

        // A Member's findings: required failures, then could-not-check, then advised, then passes;
        // a required failure red, an advised shortfall not red, and each says so in words.
        let findings = try XCTUnwrap(result["memberFindings"] as? [[String: Any]], "Mary O'Neill's findings")
        let rank = ["req-fail": 0, "not-checked": 1, "advised": 2, "passed": 3]
        let ranks = findings.map { rank[$0["kind"] as? String ?? ""] ?? 9 }
        XCTAssertEqual(ranks, ranks.sorted(), "findings in order: \(findings.map { "\($0["kind"]!) \($0["control"]!)" })")
        XCTAssertTrue(Set(ranks).isSuperset(of: [0, 1, 2]), "the test Member has failures, unchecked and advised findings: \(ranks)")
        for finding in findings {
            let kind = finding["kind"] as? String, status = finding["status"] as? String ?? "", colour = finding["colour"] as? String
            switch kind {
            case "req-fail": XCTAssertEqual(colour, "rgb(198, 40, 40)"); XCTAssertTrue(status.contains("required"), status)
            case "advised": XCTAssertNotEqual(colour, "rgb(198, 40, 40)"); XCTAssertTrue(status.contains("advised") || status.contains("not failing"), status)
            case "not-checked": XCTAssertTrue(status.contains("could not check"), status)
            default: break
            }
        }

        // Sorting and filtering by keyboard.
        XCTAssertEqual(result["sortedBy"] as? [String], ["Verdict", "ascending"])
        let sorted = result["verdictOrderAfterSort"] as? [String] ?? []
        XCTAssertEqual(sorted.first, "non-compliant"); XCTAssertEqual(sorted.last, "compliant")
        XCTAssertEqual(result["filteredShown"] as? String, "1 shown", "the filter by keyboard shows the one exception")

        // By organisation: one row each, its domains, Members and assessment.
        let organisations = result["organisations"] as? [[String]] ?? []
        let fenland = try XCTUnwrap(organisations.first { $0.first?.hasPrefix("Fenland District Council") == true }, "\(organisations)")
        XCTAssertEqual(fenland[1], "good.test")
        XCTAssertTrue(fenland[2].contains("Cllr Sarah Mills") && fenland[2].contains("Cllr Kate Ward"), fenland[2])
        XCTAssertTrue(fenland[3].hasPrefix("passed, until"), fenland[3])
        XCTAssertTrue(organisations.contains { $0.first?.hasPrefix("Bücher Town Council") == true && $0[1] == "bücher.test" }, "U-label shown")
        // By control: the DMARC row counts domains and Members.
        let controls = result["controls"] as? [[String]] ?? []
        let dmarc = try XCTUnwrap(controls.first { $0.first?.hasSuffix("\ndmarc") == true }, "\(controls)")
        XCTAssertTrue(dmarc[1].contains("fail") && dmarc[1].contains("not checked"), dmarc[1])
        XCTAssertGreaterThan(Int(dmarc[4]) ?? 0, 0, "Members failing DMARC")
        XCTAssertGreaterThanOrEqual(result["trendColumns"] as? Int ?? 0, 5, "the trend draws both recorded runs")

        // 400 px: nothing scrolls sideways; every Verdict and Until cell is on screen.
        let narrow = try XCTUnwrap(result["narrow"] as? [String: Any])
        XCTAssertLessThanOrEqual(narrow["scrollWidth"] as? Int ?? 9999, narrow["viewport"] as? Int ?? 0, "horizontal scroll at 400 px: \(narrow)")
        XCTAssertEqual(narrow["verdictUntilCells"] as? Int, 44)
        XCTAssertEqual(narrow["verdictUntilHidden"] as? Int, 0, "\(narrow)")
        XCTAssertEqual((narrow["overflowing"] as? [String])?.isEmpty, true, "\(narrow)")

        // A4: the summary for 22 Members in at most 6 pages; the evidence only when asked for.
        let pages = result["printPages"] as? Int ?? 99
        print("print on A4: \(pages) pages; one Member opened: \(result["printPagesOneOpened"] ?? "?"); with the evidence: \(result["printPagesWithEvidence"] ?? "?")")
        XCTAssertLessThanOrEqual(pages, 6)
        XCTAssertGreaterThanOrEqual(result["printPagesOneOpened"] as? Int ?? 0, pages)
        XCTAssertGreaterThan(result["printPagesWithEvidence"] as? Int ?? 0, pages + 2)

        for name in ["report-1400.png", "report-400.png", "report-a4.pdf"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: artefacts.appendingPathComponent(name).path), name)
        }
    }

    /// Evidence keeps its line breaks and no output holds U+FFFD or an escaped CR.
    func testEvidenceLineEndsAndNoReplacementCharacters() throws {
        let (_, out) = try demoReport("lineends")
        for name in ["index.html", "audit.json", "action-plan.csv", "summary.md"] {
            let text = try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)
            XCTAssertFalse(text.contains("\u{FFFD}"), "\(name) holds U+FFFD")
            XCTAssertFalse(text.contains("\\x0d"), "\(name) shows a CR as an escape")
        }
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("version: STSv1\nmode: enforce\nmx: mx1.good.test\nmax_age: 1209600"), "the MTA-STS policy with its line breaks")
        let fixtures = try Fixtures.load()
        let verbose = try CommandRun.mailaudit(["check-domain", "good.test", "--verbose", "--resolver", fixtures.resolverURL, "--ca-file", fixtures.caFile])
        XCTAssertFalse(verbose.stdoutText.contains("\\x0d") || verbose.stdoutText.contains("\u{FFFD}"), verbose.stdoutText)
        XCTAssertTrue(verbose.stdoutText.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "mode: enforce" }, verbose.stdoutText)
    }

    /// `report --run N` writes a past run's four files again, byte for byte, after later runs.
    func testAPastRunIsWrittenAgainAsItWas() throws {
        let (site, out) = try demoReport("rebuild")
        let run = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("audit.json"))) as? [String: Any])?["runId"] as? Int)
        XCTAssertEqual(try site.audit().run.status, 1, "a later run")
        let again = site.folder.appendingPathComponent("again")
        let rebuilt = try site.run(["report"], ["--run", "\(run)", "--out", again.path])
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        for name in ["index.html", "audit.json", "action-plan.csv", "summary.md"] {
            XCTAssertEqual(try Data(contentsOf: again.appendingPathComponent(name)), try Data(contentsOf: out.appendingPathComponent(name)), "\(name) differs")
        }
        let missing = try site.run(["report"], ["--run", "99", "--out", again.path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no run #99"), missing.stderr)
    }

    /// `diff A B`: verdicts that moved and the controls that changed; unchanged Members only with --all.
    func testTwoRunsAreComparedMemberByMember() throws {
        let (site, _) = try demoReport("diff")
        let text = try site.run(["diff", "1", "2"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdoutText.contains("Resolved (3):"), text.stdoutText)
        XCTAssertTrue(text.stdoutText.contains("  Cllr Sarah Mills: assessment-due → compliant; assessment.current not-present → pass"), text.stdoutText)
        XCTAssertTrue(text.stdoutText.contains("Now excepted (1):\n  Tom Hargreaves: non-compliant → exception"), text.stdoutText)
        XCTAssertTrue(text.stdoutText.contains("unchanged (shown with --all)"), text.stdoutText)
        XCTAssertFalse(text.stdoutText.contains("Alex Carter"), "unchanged Members are left out")
        let json = try site.run(["diff", "1", "2"], ["--format", "json", "--all"])
        let entries = (try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])?["entries"] as? [[String: Any]] ?? []
        XCTAssertEqual(entries.count, 22, "--all: every Member")
        XCTAssertEqual(entries.first { $0["name"] as? String == "Alex Carter" }?["kind"] as? String, "unchanged")
        let html = try site.run(["diff", "1", "2"], ["--format", "html"])
        XCTAssertTrue(html.stdoutText.contains("Content-Security-Policy") && html.stdoutText.contains("<td data-label=\"Change\">Now excepted</td>"))
        XCTAssertEqual(try site.run(["diff", "1", "9"]).status, 2)
    }

    /// `config check`: each part named with its result; exit 0 only when all are good.
    func testConfigCheckNamesEachPart() throws {
        let site = try DemoSite.make(self, name: "config-check")
        let good = try site.run(["config", "check"])
        XCTAssertEqual(good.status, 0, good.stdoutText + good.stderr)
        for part in ["site", "policy", "baseline", "checklist", "personal webmail list", "site and policy together", "register", "directory"] {
            XCTAssertTrue(good.stdoutText.contains("ok   \(part): "), "\(part):\n\(good.stdoutText)")
        }
        XCTAssertTrue(good.stdoutText.contains("22 Members read from"), good.stdoutText)
        XCTAssertFalse(good.stdoutText.contains("FAIL"))
        try String(contentsOf: site.site, encoding: .utf8)
            .replacingOccurrences(of: DemoSite.root.appendingPathComponent("examples/demo-policy.yaml").path, with: "/nonexistent/policy.yaml")
            .write(to: site.site, atomically: true, encoding: .utf8)
        let bad = try site.run(["config", "check"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stdoutText.contains("FAIL policy: /nonexistent/policy.yaml"), bad.stdoutText)
        XCTAssertTrue(bad.stdoutText.contains("ok   directory"), "the other parts are still checked:\n\(bad.stdoutText)")
    }

    func testTheCommitteeSummaryHasTheOrganisations() throws {
        let (_, out) = try demoReport("summary")
        let summary = try String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8)
        XCTAssertTrue(summary.contains("## By organisation"), summary)
        let row = try XCTUnwrap(summary.split(separator: "\n").first { $0.hasPrefix("| Fenland District Council |") }, summary)
        XCTAssertTrue(row.contains("| good.test | 2 | 0 | passed, until"), String(row))
        XCTAssertTrue(summary.contains("## Exceptions in force"))
    }

    /// --redact: no name or address of a Member without a CPCA account in any of the four outputs
    /// or what is printed; the authority's own Members are still named.
    func testRedactionRemovesOutsideMembersFromEveryOutput() throws {
        let (site, out) = try demoReport("redact", redact: true)
        let ldif = try String(contentsOf: DemoSite.root.appendingPathComponent("examples/members.ldif"), encoding: .utf8)
        let audit = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("audit.json"))) as? [String: Any] ?? [:]
        XCTAssertEqual(audit["redacted"] as? Bool, true)
        // The run as it was, from the register's side: who is outside the authority, by name and address.
        let plain = try site.audit(["--no-record"])
        let outside = plain.members.values.filter { ($0["accountClass"] as? String) != "organisation" }
        XCTAssertGreaterThan(outside.count, 10)
        var secrets = outside.compactMap { $0["name"] as? String } + outside.compactMap { $0["address"] as? String }
        // Each outside Member's surname on its own too (an exception's reason could name it).
        secrets += outside.compactMap { ($0["name"] as? String)?.split(separator: " ").last.map(String.init) }
            .filter { surname in surname.count >= 3 && !ldif.contains("o: \(surname)") && !(outside.contains { ($0["organisation"] as? String)?.contains(surname) == true }) }
        let printed = try site.run(["audit"], ["--no-record", "--redact"])
        let outputs = try ["index.html", "audit.json", "action-plan.csv", "summary.md"].map {
            ($0, try String(contentsOf: out.appendingPathComponent($0), encoding: .utf8))
        } + [("audit's printed summary", printed.stdoutText)]
        for (name, text) in outputs {
            for secret in secrets { XCTAssertFalse(text.localizedCaseInsensitiveContains(secret), "\(name) still holds \(secret)") }
        }
        let html = outputs[0].1
        XCTAssertTrue(html.contains("Cllr D.B. (St Ives Town Council)"), "initials and organisation")
        XCTAssertTrue(html.contains("(withheld)@gmail.com"))
        XCTAssertTrue(html.contains("Alex Carter") && html.contains("alex.carter@cpca.test"), "CPCA Members are still named")
        XCTAssertTrue(html.contains("Redacted"), "the report says it is redacted")
    }
}
