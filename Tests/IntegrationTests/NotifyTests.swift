import Foundation
import XCTest

/// The report mailed through a real Postfix on loopback (submission with STARTTLS or TLS from
/// the start, SASL through Dovecot), delivered to a Maildir that the test reads back.
final class NotifyTests: XCTestCase {
    static let hostileName = "Cllr <img src=x onerror=\"alert(1)\"><script>alert(2)</script> Brooks"

    /// The submission fixture of scripts/fixtures/start-postfix.
    struct Submission {
        var starttls: String, implicitTLS: String, otherCA: String, user: String, passwordFile: String, maildir: URL
        static func load() throws -> Submission {
            let environment = ProcessInfo.processInfo.environment
            guard let starttls = environment["MAILAUDIT_TEST_SUBMISSION"], let maildir = environment["MAILAUDIT_TEST_MAILDIR"] else {
                if environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil { XCTFail("MAILAUDIT_TEST_SUBMISSION is not set: run ./scripts/test") }
                throw XCTSkip("the submission fixture is not running (scripts/fixtures/start-postfix)")
            }
            return Submission(starttls: starttls, implicitTLS: environment["MAILAUDIT_TEST_SUBMISSIONS"] ?? "",
                              otherCA: environment["MAILAUDIT_TEST_SUBMISSION_OTHER_CA"] ?? "",
                              user: environment["MAILAUDIT_TEST_SUBMISSION_USER"] ?? "",
                              passwordFile: environment["MAILAUDIT_TEST_SUBMISSION_PASSWORD_FILE"] ?? "",
                              maildir: URL(fileURLWithPath: maildir).appendingPathComponent("new"))
        }
    }

    /// A demo site whose Members include a hostile display name, mailing through `server`.
    private func site(_ name: String, server: String? = nil, when: String = "always", password: String? = nil, without: String? = nil,
                      to: String = "{monitoringOfficer: [mo@notify.test], ictProvider: [ict@notify.test]}") throws -> (DemoSite, Submission) {
        let submission = try Submission.load()
        let fixtures = try Fixtures.load()
        let site = try DemoSite.make(self, name: name)
        let ldif = try String(contentsOf: DemoSite.root.appendingPathComponent("examples/members.ldif"), encoding: .utf8)
        let copy = site.folder.appendingPathComponent("members.ldif")
        let entries = ldif.replacingOccurrences(of: "displayName: Cllr Dan Brooks", with: "displayName: \(Self.hostileName)")
            .components(separatedBy: "\n\n").filter { entry in without.map { !entry.contains("displayName: \($0)") } ?? true }
        try entries.joined(separator: "\n\n").write(to: copy, atomically: true, encoding: .utf8)
        let passwordLine = password.map { "passwordEnv: \($0)" } ?? "passwordFile: \(submission.passwordFile)"
        try (try String(contentsOf: site.site, encoding: .utf8)
            .replacingOccurrences(of: DemoSite.root.appendingPathComponent("examples/members.ldif").path, with: copy.path) + """

            notify:
              server: \(server ?? submission.starttls)
              username: \(submission.user)
              \(passwordLine)
              caFile: \(fixtures.caFile)
              from: audit@notify.test
              to: \(to)
              when: \(when)
            """).write(to: site.site, atomically: true, encoding: .utf8)
        return (site, submission)
    }

    /// The messages delivered since `before`, read by Python's email package (Tests/Mail/read_message.py).
    private func delivered(_ submission: Submission, since before: Set<String>) throws -> [[String: Any]] {
        // Postfix delivers within a moment of accepting; wait for it.
        var names: [String] = []
        for _ in 0..<50 {
            names = try inbox(submission).filter { !before.contains($0) }
            if names.count >= 2 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let reader = DemoSite.root.appendingPathComponent("Tests/Mail/read_message.py")
        return try names.sorted().map { name in
            let read = try CommandRun.run(URL(fileURLWithPath: "/usr/bin/python3"), [reader.path, submission.maildir.appendingPathComponent(name).path])
            XCTAssertEqual(read.status, 0, read.stderr)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: read.stdout) as? [String: Any])
        }
    }

    /// The messages in the Maildir (none before the first delivery, should the folder not be there yet).
    private func inbox(_ submission: Submission) throws -> Set<String> {
        guard FileManager.default.fileExists(atPath: submission.maildir.path) else { return [] }
        return Set(try FileManager.default.contentsOfDirectory(atPath: submission.maildir.path))
    }

    func testTheReportIsMailedToEachRoleWithBothPartsAndTheAttachments() throws {
        let (site, submission) = try site("notify")
        let before = try inbox(submission)
        let out = site.folder.appendingPathComponent("report")
        let audit = try site.run(["audit"], ["--out", out.path, "--notify"])
        XCTAssertEqual(audit.status, 1, "the audit's own exit code when the mail went: \(audit.stderr)")
        XCTAssertTrue(audit.stderr.contains("mailed to mo@notify.test, ict@notify.test"), audit.stderr)
        let messages = try delivered(submission, since: before)
        XCTAssertEqual(messages.count, 2, "one copy for each recipient's delivery")
        let recipients = Set(messages.compactMap { ($0["headers"] as? [String: String])?["Delivered-To"] })
        XCTAssertEqual(recipients, ["mo@notify.test", "ict@notify.test"])
        let message = try XCTUnwrap(messages.first)
        let headers = try XCTUnwrap(message["headers"] as? [String: String])
        XCTAssertEqual(headers["Subject"], "Members' email audit: 19 need action, 1 could not be checked")
        XCTAssertEqual(headers["From"], "audit@notify.test")
        XCTAssertEqual(headers["To"], "mo@notify.test, ict@notify.test")
        XCTAssertTrue(headers["Message-ID"]?.hasPrefix("<mailaudit.run-1.") == true && headers["Message-ID"]?.hasSuffix("@notify.test>") == true,
                      headers["Message-ID"] ?? "")
        let date = try XCTUnwrap(headers["Date"])
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let sent = try XCTUnwrap(formatter.date(from: date), date)
        XCTAssertLessThan(abs(sent.timeIntervalSinceNow), 300)
        XCTAssertEqual(message["structure"] as? [String],
                       ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/markdown", "text/csv"])

        let text = try XCTUnwrap(message["text"] as? String)
        XCTAssertTrue(text.contains("Audit of 22 Members (Fenland Combined Authority (demo)), run #1"), text)
        XCTAssertTrue(text.contains("non-compliant   13"), text)
        let html = try XCTUnwrap(message["html"] as? String)
        XCTAssertTrue(html.contains("For the Monitoring Officer"), "the MO's section")
        XCTAssertTrue(html.contains("Who must act, and the next step"))
        XCTAssertTrue(html.contains("Exceptions") && html.contains("Assessments"), "exceptions and assessments ending")
        // The hostile display name stays text in both parts.
        XCTAssertTrue(html.contains("Cllr &lt;img src=x onerror=&quot;alert(1)&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt; Brooks"), html)
        XCTAssertFalse(html.contains("<img src=x") || html.contains("<script>alert"), "nothing injected into the HTML part")
        XCTAssertFalse(html.contains("<script>"), "the mailed page carries no script")

        let attachments = try XCTUnwrap(message["attachments"] as? [[String: Any]])
        XCTAssertEqual(attachments.compactMap { $0["name"] as? String }, ["summary.md", "action-plan.csv"])
        let summary = try String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8)
        XCTAssertEqual(attachments[0]["text"] as? String, summary, "summary.md as written to the report folder")
        let csv = try String(contentsOf: out.appendingPathComponent("action-plan.csv"), encoding: .utf8)
        XCTAssertEqual((attachments[1]["text"] as? String)?.replacingOccurrences(of: "\u{FEFF}", with: ""),
                       csv.replacingOccurrences(of: "\u{FEFF}", with: ""), "action-plan.csv as written")

        // TLS from the start (smtps://465) and a password from an environment variable.
        let (implicit, _) = try self.site("notify-465", server: submission.implicitTLS, password: "MAILAUDIT_TEST_SMTP_PASSWORD")
        var withPassword = implicit
        withPassword.environment["MAILAUDIT_TEST_SMTP_PASSWORD"] = try String(contentsOfFile: submission.passwordFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let before465 = try inbox(submission)
        let sent465 = try withPassword.run(["audit"], ["--notify"])
        XCTAssertEqual(sent465.status, 1, sent465.stderr)
        XCTAssertEqual(try delivered(submission, since: before465).count, 2)
        // The password is in neither what was printed nor the register's export.
        let password = withPassword.environment["MAILAUDIT_TEST_SMTP_PASSWORD"]!
        XCTAssertFalse(sent465.stdoutText.contains(password) || sent465.stderr.contains(password))
    }

    /// Each way a send fails gives exit 3 with the reason, after the run is recorded and the
    /// reports are written; nothing is lost or repeated.
    func testAFailedSendExitsThreeAndKeepsTheRunAndTheReports() throws {
        let submission = try Submission.load()
        let wrongPassword = try site("notify-wrong", password: "MAILAUDIT_TEST_WRONG_PASSWORD").0
        var wrong = wrongPassword
        wrong.environment["MAILAUDIT_TEST_WRONG_PASSWORD"] = "not-the-password"
        let smtpAddresses = URL(string: submission.starttls)!.host!.split(separator: ".")
        let plain = "smtp://\(smtpAddresses[0]).\(smtpAddresses[1]).\(Int(smtpAddresses[2])! + 1).\(smtpAddresses[3]):25"
        let cases: [(String, DemoSite, String)] = [
            ("wrong password", wrong, "535"),
            ("server down", try site("notify-down", server: "smtp://127.0.0.1:9").0, "Couldn't connect"),
            ("untrusted certificate", try site("notify-untrusted", server: submission.otherCA).0, "SSL certificate problem"),
            ("recipient refused", try site("notify-refused", to: "{monitoringOfficer: [mo@notify.test, nobody@notify.test]}").0,
             "550 5.1.1 <nobody@notify.test>: Recipient address rejected"),
            ("no STARTTLS", try site("notify-plain", server: plain).0, "STARTTLS"),
        ]
        for (what, site, reply) in cases {
            let out = site.folder.appendingPathComponent("report")
            let audit = try site.run(["audit"], ["--out", out.path, "--notify"])
            XCTAssertEqual(audit.status, 3, "\(what): \(audit.stderr)")
            XCTAssertTrue(audit.stderr.contains("the report could not be mailed") && audit.stderr.contains(reply), "\(what): \(audit.stderr)")
            XCTAssertTrue(audit.stderr.contains("run #1 is recorded and the reports are in \(out.path)"), "\(what): \(audit.stderr)")
            XCTAssertTrue(audit.stderr.contains("mailaudit report --run 1 --out DIR --notify"), "\(what): how to send it again")
            for name in ["index.html", "audit.json", "action-plan.csv", "summary.md"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(what): \(name)")
            }
            XCTAssertTrue(try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8).contains("#1 in the register"), what)
            let history = try site.run(["history"], ["--format", "json"])
            XCTAssertEqual(((try JSONSerialization.jsonObject(with: history.stdout)) as? [Any])?.count, 1, "\(what): recorded once")
        }
        // The wrong password is never printed.
        let again = try wrong.run(["audit"], ["--notify"])
        XCTAssertFalse(again.stderr.contains("not-the-password") || again.stdoutText.contains("not-the-password"))
    }

    /// when: on-change, --print-mail, and settings that cannot work refused before the run.
    func testOnChangePrintMailAndSettingsCheckedFirst() throws {
        // Without the demo's time-out Member, so that a run can have nothing new.
        let (site, submission) = try site("notify-on-change", when: "on-change", without: "Cllr Mary O'Neill")
        var before = try inbox(submission)
        let first = try site.run(["audit"], ["--notify"])
        XCTAssertEqual(first.status, 1, first.stderr)
        XCTAssertTrue(first.stderr.contains("mailed to") && first.stderr.contains("when: on-change: the first audit in the register"), first.stderr)
        XCTAssertEqual(try delivered(submission, since: before).count, 2)
        // A second run with the same verdicts, nothing ending and everyone checked: not mailed.
        before = try inbox(submission)
        let second = try site.run(["audit"], ["--notify"])
        XCTAssertEqual(second.status, 1, second.stderr)
        XCTAssertTrue(second.stderr.contains("not mailed: when: on-change, and nothing changed"), second.stderr)
        // An exception ending within 30 days is news again.
        let grant = try site.run(["exceptions", "grant"], ["--member", "tom.hargreaves@cpca.test", "--controls", "account.stale",
                                                           "--reason", "On leave", "--decided-by", "Monitoring Officer", "--until", DemoSite.day(20)])
        XCTAssertEqual(grant.status, 0, grant.stderr)
        let third = try site.run(["audit"], ["--notify"])
        XCTAssertTrue(third.stderr.contains("when: on-change: 1 Member's verdict changed") && third.stderr.contains("1 exception ends within 30 days"), third.stderr)
        XCTAssertEqual(try delivered(submission, since: before).count, 2, "only the third run was mailed")

        // --print-mail shows the message and sends nothing.
        before = try inbox(submission)
        let preview = try site.run(["audit"], ["--print-mail", "--no-record"])
        XCTAssertEqual(preview.status, 1, preview.stderr)
        XCTAssertTrue(preview.stdoutText.contains("Subject: Members' email audit: 17 need action (not recorded)"), preview.stdoutText)
        XCTAssertTrue(preview.stdoutText.contains("--- text/plain ---") && preview.stdoutText.contains("--- text/html ---"))
        XCTAssertTrue(preview.stdoutText.contains("--- attachment summary.md (text/markdown; charset=utf-8,"))
        XCTAssertTrue(preview.stderr.contains("--print-mail: nothing was sent"), preview.stderr)
        // --redact: the mail is redacted as the reports are.
        let redacted = try site.run(["audit"], ["--print-mail", "--no-record", "--redact"])
        XCTAssertTrue(preview.stdoutText.contains("Linda Shaw"))
        XCTAssertFalse(redacted.stdoutText.contains("Linda Shaw") || redacted.stdoutText.contains("linda.shaw"), "an outside Member withheld")
        XCTAssertTrue(redacted.stdoutText.contains("Cllr L.S."), redacted.stdoutText)
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(try inbox(submission), before, "nothing sent")

        // A password that cannot be found stops the audit before it runs: no run is made only
        // to fail at its end.
        let (unset, _) = try self.site("notify-unset", password: "MAILAUDIT_TEST_UNSET_PASSWORD")
        let refused = try unset.run(["audit"], ["--notify"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("notify.passwordEnv") && refused.stderr.contains("MAILAUDIT_TEST_UNSET_PASSWORD, which is not set"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: unset.register.path), "no run was made")
        // --notify without notify: in site.yaml is a usage error.
        let plain = try DemoSite.make(self, name: "notify-none")
        let none = try plain.run(["audit"], ["--notify"])
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.stderr.contains("--notify needs notify: in"), none.stderr)
        // A bad notify: key is named with its file and line.
        try (try String(contentsOf: plain.site, encoding: .utf8) + "\nnotify: {server: http://mail.example.org, from: a@b.test, to: {monitoringOfficer: [mo@b.test]}}\n")
            .write(to: plain.site, atomically: true, encoding: .utf8)
        let bad = try plain.run(["config", "check"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue((bad.stdoutText + bad.stderr).contains("must be smtps://host:465"), bad.stdoutText + bad.stderr)
    }
}
