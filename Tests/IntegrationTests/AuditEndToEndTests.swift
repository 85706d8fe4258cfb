import Foundation
import XCTest

/// `mailaudit audit` end to end: the real slapd directory, the real BIND (DoH) and nginx
/// fixtures, the demo policy; every Member's verdict and key finding asserted, the JSON checked
/// against its schema, the HTML opened in headless Chromium.
final class AuditEndToEndTests: XCTestCase {
    private var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    private func prepare() throws -> (site: URL, out: URL, folder: URL) {
        let fixtures = try Fixtures.load()
        let directory = try DirectoryFixtures.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let site = folder.appendingPathComponent("site.yaml")
        try """
        \(directory.openldapYAML())
        policy: \(root.appendingPathComponent("examples/demo-policy.yaml").path)
        register: register.sqlite
        accounts:
          mfaGroup: cn=MFA Enforced,ou=groups,dc=cpca,dc=test
        checks:
          resolver: \(fixtures.resolverURL)
          caFile: \(fixtures.caFile)
          microsoftLoginURL: \(fixtures.microsoftLogin)
          dnsTimeout: 1
        """.write(to: site, atomically: true, encoding: .utf8)
        return (site, folder.appendingPathComponent("report"), folder)
    }

    private var environment: [String: String] { ["MAILAUDIT_TEST_LDAP_PASSWORD": (try? DirectoryFixtures.load())?.password ?? ""] }

    private func audit(_ site: URL, out: URL, asOf: String? = nil) throws -> CommandRun {
        try CommandRun.mailaudit(["audit", "--config", site.path, "--out", out.path] + (asOf.map { ["--as-of", $0] } ?? []),
                                 environment: environment)
    }

    private func day(_ daysFromNow: Int) -> String {
        String(ISO8601DateFormatter().string(from: Date().addingTimeInterval(Double(daysFromNow) * 86_400)).prefix(10))
    }

    /// The Monitoring Officer's decisions, after a first audit (a grant is checked against what
    /// the Member fails in the latest run): one that covers everything Sam Stale fails, one that
    /// covers only part of what Lee Locked fails, one granted to Dana Deputy and then revoked.
    private func recordDecisions(_ site: URL, out: URL) throws {
        XCTAssertEqual(try audit(site, out: out).status, 1)
        func exceptions(_ arguments: [String]) throws -> CommandRun {
            let run = try CommandRun.mailaudit(["exceptions"] + arguments + ["--config", site.path], environment: environment)
            XCTAssertEqual(run.status, 0, "exceptions \(arguments): \(run.stderr)")
            return run
        }
        _ = try exceptions(["grant", "--member", "sam@cpca.test", "--controls", "account.stale,account.mfa",
                            "--reason", "On leave until January", "--decided-by", "Monitoring Officer", "--until", day(60)])
        _ = try exceptions(["grant", "--member", "lee@cpca.test", "--controls", "account.locked",
                            "--reason", "Unlock booked", "--decided-by", "Monitoring Officer", "--until", day(20)])
        _ = try exceptions(["grant", "--member", "deputy@cpca.test", "--whole-member",
                            "--reason", "Standing down", "--decided-by", "Monitoring Officer", "--until", day(90)])
        let list = try exceptions(["list", "--format", "json"])
        let grants = try XCTUnwrap(try JSONSerialization.jsonObject(with: list.stdout) as? [[String: Any]])
        let dana = try XCTUnwrap(grants.first { $0["memberName"] as? String == "Dana Deputy" }?["id"] as? Int)
        _ = try exceptions(["revoke", String(dana), "--reason", "Decision withdrawn", "--decided-by", "Monitoring Officer"])
    }

    func testEveryMemberGetsTheRightVerdict() throws {
        let (site, out, _) = try prepare()
        try recordDecisions(site, out: out)
        let run = try audit(site, out: out)
        XCTAssertEqual(run.status, 1, "someone needs action: exit 1 for cron. \(run.stderr)")
        XCTAssertTrue(String(decoding: run.stdout, as: UTF8.self).contains("index.html"))
        let data = try Data(contentsOf: out.appendingPathComponent("audit.json"))
        let audit = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let members = try XCTUnwrap(audit["members"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: members.map { ($0["name"] as! String, $0) })
        func verdict(_ name: String) -> String? { byName[name]?["verdict"] as? String }
        func failing(_ name: String) -> [String] {
            ((byName[name]?["findings"] as? [[String: Any]]) ?? []).filter {
                $0["required"] as? Bool == true && ["fail", "not-present"].contains($0["status"] as? String ?? "")
                    && $0["control"] as? String != "assessment.current"
            }.compactMap { $0["control"] as? String }
        }
        XCTAssertEqual(verdict("Morgan Mayor"), "compliant")
        func exceptionState(_ name: String) -> String? { (byName[name]?["exception"] as? [String: Any])?["state"] as? String }
        XCTAssertEqual(verdict("Dana Deputy"), "non-compliant"); XCTAssertEqual(failing("Dana Deputy").first, "account.enabled")
        XCTAssertFalse(failing("Dana Deputy").contains("account.locked"), "disabled is not also locked out")
        XCTAssertEqual(exceptionState("Dana Deputy"), "revoked", "a revoked exception brings the findings back")
        XCTAssertEqual(verdict("Lee Locked"), "non-compliant"); XCTAssertTrue(failing("Lee Locked").contains("account.locked"))
        XCTAssertEqual(exceptionState("Lee Locked"), "partial", "an exception must cover every failing control")
        XCTAssertEqual(verdict("Robin Reset"), "non-compliant"); XCTAssertEqual(failing("Robin Reset"), ["account.stale"])
        XCTAssertEqual(verdict("Sam Stale"), "exception"); XCTAssertEqual(failing("Sam Stale"), ["account.stale", "account.mfa"])
        XCTAssertEqual(exceptionState("Sam Stale"), "applied")
        XCTAssertTrue((byName["Sam Stale"]?["reason"] as? String ?? "").hasPrefix("Accepted by Monitoring Officer until"))
        XCTAssertEqual((audit["exceptions"] as? [[String: Any]])?.count, 2, "live exceptions: Sam's and Lee's")
        XCTAssertEqual(verdict("Cllr Casey Council"), "assessment-due", "good.test passes; no assessment on record")
        XCTAssertEqual(verdict("Pat Business"), "assessment-due")
        XCTAssertEqual(verdict("Cllr Gail Mail"), "non-compliant"); XCTAssertEqual(failing("Cllr Gail Mail"), ["email.personal"])
        XCTAssertEqual(verdict("Cllr Sid Slow"), "unknown", "name servers that never answer: unknown, never compliant")
        XCTAssertEqual(members.count, 9)
        XCTAssertEqual(audit["summary"] as? [String: Int],
                       ["compliant": 1, "non-compliant": 4, "assessment-due": 2, "exception": 1, "unknown": 1], "every verdict")
        // Each distinct domain was checked once; personal webmail and the organisation's own
        // domain for accounts whose class does not need it are not asked about.
        let domains = try XCTUnwrap(audit["domains"] as? [[String: Any]]).compactMap { $0["asciiDomain"] as? String }
        XCTAssertEqual(Set(domains), ["cpca.test", "good.test", "m365.test", "slow.test"])
        XCTAssertEqual(domains.count, Set(domains).count)

        try validateAgainstSchema(out.appendingPathComponent("audit.json"))
        try openInChromium(out.appendingPathComponent("index.html"), memberCount: 9)
        let bytes = try Data(contentsOf: out.appendingPathComponent("action-plan.csv"))
        XCTAssertEqual(Array(bytes.prefix(3)), [0xEF, 0xBB, 0xBF], "a UTF-8 byte order mark, for spreadsheets")
        let csv = String(decoding: bytes.dropFirst(3), as: UTF8.self)
        XCTAssertTrue(csv.hasPrefix("Member,Role,Organisation,Address,Verdict,Control"))
        let gail = try XCTUnwrap(csv.components(separatedBy: "\r\n").first { $0.hasPrefix("Cllr Gail Mail,") })
        XCTAssertTrue(gail.contains(",Member,"), "who must act: the Member, for personal webmail: \(gail)")
        let sam = try XCTUnwrap(csv.components(separatedBy: "\r\n").first { $0.hasPrefix("Sam Stale,") && $0.contains("account.stale") })
        XCTAssertTrue(sam.contains("accepted by #") && sam.contains(",ICT provider,"), "an excepted row is marked: \(sam)")
        XCTAssertTrue(csv.contains("Cllr Gail Mail") && csv.contains("email.personal"))
        XCTAssertFalse(csv.contains("Morgan Mayor"), "compliant Members have no actions")
        let markdown = try String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("| non-compliant | 4 |"), markdown)
        XCTAssertTrue(markdown.contains("## Exceptions in force"), markdown)
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("ends within 30 days"), "Lee's exception ends within 30 days")
        let export = try CommandRun.mailaudit(["register", "export", "--config", site.path])
        let register = try XCTUnwrap(try JSONSerialization.jsonObject(with: export.stdout) as? [String: Any])
        XCTAssertEqual((register["exceptionDecisions"] as? [[String: Any]])?.count, 3)
        XCTAssertEqual((register["runs"] as? [[String: Any]])?.count, 2)
        XCTAssertEqual(audit["runId"] as? Int, 2)
        XCTAssertTrue(html.contains("run #2 in the register") && html.contains("mailaudit \(audit["toolVersion"] as? String ?? "?")"), "the footer")
    }

    func testTheRegisterRemembersRunsAndReportsChanges() throws {
        let (site, out, folder) = try prepare()
        try recordDecisions(site, out: out)
        func auditJSON() throws -> [String: Any] {
            XCTAssertEqual(try audit(site, out: out).status, 1)
            let data = try Data(contentsOf: out.appendingPathComponent("audit.json"))
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        func names(_ changes: [String: Any], _ kind: String) -> [String] {
            (changes[kind] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        }
        // Sam's exception is new since the first run: "now excepted", not "resolved".
        let second = try XCTUnwrap(try auditJSON()["changes"] as? [String: Any])
        XCTAssertEqual(names(second, "nowExcepted"), ["Sam Stale"])
        XCTAssertEqual(names(second, "resolved"), [])
        // The Monitoring Officer revokes it: Sam's findings are back.
        let list = try CommandRun.mailaudit(["exceptions", "list", "--config", site.path, "--format", "json"], environment: environment)
        let grants = try XCTUnwrap(try JSONSerialization.jsonObject(with: list.stdout) as? [[String: Any]])
        let sams = try XCTUnwrap(grants.first { $0["memberName"] as? String == "Sam Stale" }?["id"] as? Int)
        let revoke = try CommandRun.mailaudit(["exceptions", "revoke", String(sams), "--config", site.path, "--reason", "Returned early",
                                               "--decided-by", "Monitoring Officer"], environment: environment)
        XCTAssertEqual(revoke.status, 0, revoke.stderr)
        let third = try auditJSON()
        let changes = try XCTUnwrap(third["changes"] as? [String: Any])
        XCTAssertEqual(names(changes, "newlyNonCompliant"), ["Sam Stale"])
        let members = try XCTUnwrap(third["members"] as? [[String: Any]])
        let sam = try XCTUnwrap(members.first { $0["name"] as? String == "Sam Stale" })
        XCTAssertEqual((sam["exception"] as? [String: Any])?["state"] as? String, "revoked")
        XCTAssertTrue((sam["reason"] as? String ?? "").contains("was revoked by Monitoring Officer"), "the report says it was revoked")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("register.sqlite").path))
        let history = try CommandRun.mailaudit(["history", "--config", site.path, "--format", "json"])
        XCTAssertEqual(history.status, 0, history.stderr)
        let runs = try XCTUnwrap(try JSONSerialization.jsonObject(with: history.stdout) as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["id"] as? Int }, [3, 2, 1], "newest first")
        XCTAssertEqual((runs.first?["summary"] as? [String: Int])?["exception"], 0)
    }

    /// The demo policy changed by `edit`, written beside a prepared site that points to it.
    private func prepareWithPolicy(_ edit: (String) -> String) throws -> (site: URL, out: URL, folder: URL, policy: String) {
        let (site, out, folder) = try prepare()
        let policy = folder.appendingPathComponent("policy.yaml")
        let text = edit(try String(contentsOf: root.appendingPathComponent("examples/demo-policy.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "../policies/", with: root.appendingPathComponent("policies").path + "/"))
        try text.write(to: policy, atomically: true, encoding: .utf8)
        var siteText = try String(contentsOf: site, encoding: .utf8)
        siteText = siteText.replacingOccurrences(of: root.appendingPathComponent("examples/demo-policy.yaml").path, with: policy.path)
        try siteText.write(to: site, atomically: true, encoding: .utf8)
        return (site, out, folder, text)
    }

    func testMalformedPolicyStopsTheAuditBeforeAnythingRuns() throws {
        let (site, out, folder, text) = try prepareWithPolicy { $0.replacingOccurrences(of: "staleAfterDays: 90", with: "staleAfterDays: ninety") }
        let run = try audit(site, out: out)
        XCTAssertEqual(run.status, 2)
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains("ninety") }! + 1
        XCTAssertTrue(run.stderr.contains("policy.yaml:\(line): accounts.staleAfterDays"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "no report from a half-read policy")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("register.sqlite").path))
    }

    /// A policy that names smtp-starttls needs a site that probes port 25: said before anything runs.
    func testPolicyNamingSTARTTLSNeedsTheProbeTurnedOn() throws {
        let (site, out, _, text) = try prepareWithPolicy {
            $0.replacingOccurrences(of: "advise: [mta-sts, tls-rpt, dkim, provider]", with: "advise: [mta-sts, tls-rpt, dkim, provider, smtp-starttls]")
        }
        XCTAssertTrue(text.contains("smtp-starttls]"))
        let run = try audit(site, out: out)
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.contains("checks.smtp") && run.stderr.contains("smtp-starttls"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    private func validateAgainstSchema(_ file: URL) throws {
        let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1])); document = json.load(open(sys.argv[2]))
        jsonschema.Draft202012Validator.check_schema(schema)
        errors = [f"{e.json_path}: {e.message}" for e in jsonschema.Draft202012Validator(schema).iter_errors(document)]
        print("\\n".join(errors[:20])); sys.exit(1 if errors else 0)
        """
        let output = try run("/usr/bin/python3", ["-c", script, root.appendingPathComponent("schemas/audit.schema.json").path, file.path])
        XCTAssertEqual(output.status, 0, "audit.json does not follow schemas/audit.schema.json:\n\(output.stdoutText)\(output.stderr)")
    }

    /// The page as a browser shows it: scripts run (the filter writes "N shown"), no console
    /// errors, the summary and the table present; a screenshot is kept as a test artefact.
    private func openInChromium(_ page: URL, memberCount: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            if ProcessInfo.processInfo.environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil { XCTFail("chromium is not installed") }
            return
        }
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
        let dom = try run("/usr/bin/chromium", flags + ["--dump-dom", page.absoluteString])
        XCTAssertTrue(dom.stdoutText.contains("id=\"summary\""), "summary section")
        XCTAssertEqual(dom.stdoutText.components(separatedBy: "<tr data-verdict=").count - 1, memberCount, "one row a Member")
        XCTAssertTrue(dom.stdoutText.contains("\(memberCount) shown"), "the report's script ran")
        let consoleErrors = dom.stderr.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
        XCTAssertTrue(consoleErrors.isEmpty, "console errors:\n\(consoleErrors.joined(separator: "\n"))")
        let artefacts = ProcessInfo.processInfo.environment["MAILAUDIT_TEST_ARTEFACTS"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let screenshot = artefacts.appendingPathComponent("audit-report.png")
        _ = try run("/usr/bin/chromium", flags + ["--window-size=1280,2400", "--screenshot=\(screenshot.path)", page.absoluteString])
        XCTAssertTrue(FileManager.default.fileExists(atPath: screenshot.path))
        print("screenshot of the report: \(screenshot.path)")
    }

    private func run(_ executable: String, _ arguments: [String]) throws -> CommandRun {
        try CommandRun.run(URL(fileURLWithPath: executable), arguments)
    }
}
