import Foundation
import Synchronization
import XCTest

/// The verdicts a Monitoring Officer acts on, through the real fixtures (the demo directory as
/// LDIF, BIND answering DNS-over-HTTPS, nginx): exceptions that never hide a missing assessment,
/// grants checked against what a Member fails, --as-of judged with what was known then, change
/// kinds, and a register that never loses a run when another process holds it.
final class GovernanceTests: XCTestCase {
    private func verdict(_ members: [String: [String: Any]], _ name: String) -> String? { members[name]?["verdict"] as? String }
    private func reason(_ members: [String: [String: Any]], _ name: String) -> String { members[name]?["reason"] as? String ?? "" }

    private func grant(_ site: DemoSite, _ member: String, _ controls: String, extra: [String] = []) throws -> CommandRun {
        try site.run(["exceptions", "grant"], ["--member", member, "--controls", controls, "--reason", "Agreed at the Audit Committee",
                                               "--decided-by", "Monitoring Officer", "--until", DemoSite.day(60)] + extra)
    }

    func testGrantsAreCheckedAgainstWhatTheMemberFails() throws {
        let site = try DemoSite.make(self, name: "grants")
        let early = try grant(site, "aisha.khan@pnone.test", "dmarc")
        XCTAssertEqual(early.status, 2)
        XCTAssertTrue(early.stderr.contains("no audit run is recorded yet"), early.stderr)
        XCTAssertLessThanOrEqual(try site.audit().run.status, 1)

        let passing = try grant(site, "aisha.khan@pnone.test", "spf")
        XCTAssertEqual(passing.status, 2); XCTAssertTrue(passing.stderr.contains("does not fail spf"), passing.stderr)
        let advised = try grant(site, "aisha.khan@pnone.test", "mta-sts")
        XCTAssertEqual(advised.status, 2); XCTAssertTrue(advised.stderr.contains("mta-sts is only advised for external accounts"), advised.stderr)
        let notJudged = try grant(site, "tom.hargreaves@cpca.test", "assessment.current")
        XCTAssertEqual(notJudged.status, 2); XCTAssertTrue(notJudged.stderr.contains("not judged for organisation accounts"), notJudged.stderr)
        let unchecked = try grant(site, "mary.oneill@slow.test", "mx")
        XCTAssertEqual(unchecked.status, 2); XCTAssertTrue(unchecked.stderr.contains("could not be checked"), unchecked.stderr)
        let personal = try grant(site, "dan.brooks1964@gmail.com", "email.personal")
        XCTAssertEqual(personal.status, 2); XCTAssertTrue(personal.stderr.contains("--confirm-personal"), personal.stderr)
        let confirmed = try grant(site, "dan.brooks1964@gmail.com", "email.personal", extra: ["--confirm-personal"])
        XCTAssertEqual(confirmed.status, 0, confirmed.stderr)

        let first = try grant(site, "aisha.khan@pnone.test", "dmarc")
        XCTAssertEqual(first.status, 0, first.stderr)
        let renewal = try grant(site, "aisha.khan@pnone.test", "dmarc")
        XCTAssertEqual(renewal.status, 0, renewal.stderr)
        XCTAssertTrue(renewal.stdoutText.contains("This supersedes #"), renewal.stdoutText)
        let whole = try site.run(["exceptions", "grant"], ["--member", "tom.hargreaves@cpca.test", "--whole-member", "--reason", "On leave",
                                                            "--decided-by", "Monitoring Officer", "--until", DemoSite.day(30)])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        XCTAssertTrue(whole.stdoutText.contains("account.stale"), "a whole-Member grant lists what it accepts: \(whole.stdoutText)")

        // The dmarc grant does not stand in for Aisha's missing assessment; the others apply.
        let out = site.folder.appendingPathComponent("report")
        let (run, json, members) = try site.audit(["--out", out.path])
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertEqual(verdict(members, "Cllr Aisha Khan"), "assessment-due", reason(members, "Cllr Aisha Khan"))
        XCTAssertTrue(reason(members, "Cllr Aisha Khan").contains("accepts only part"), reason(members, "Cllr Aisha Khan"))
        XCTAssertEqual(verdict(members, "Cllr Dan Brooks"), "exception")
        XCTAssertEqual(verdict(members, "Tom Hargreaves"), "exception")
        let changes = try XCTUnwrap(json["changes"] as? [String: Any])
        XCTAssertEqual(Set((changes["nowExcepted"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }),
                       ["Cllr Dan Brooks", "Tom Hargreaves"], "non-compliant to exception is its own kind of change")
        XCTAssertEqual((changes["resolved"] as? [Any])?.count, 0, "an accepted shortfall is not resolved")
        let summary = try String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8)
        XCTAssertTrue(summary.contains("## Exceptions covering only part of what a Member fails"), summary)
        XCTAssertTrue(summary.contains("Cllr Aisha Khan"), summary)
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Covering only part of what the Member fails"), "the MO section names the partial grant")

        // register export carries each run's verdicts.
        let export = try site.run(["register", "export"])
        let runs = try XCTUnwrap((try JSONSerialization.jsonObject(with: export.stdout) as? [String: Any])?["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 2)
        let latest = try XCTUnwrap(runs.first?["members"] as? [[String: Any]])
        XCTAssertEqual(latest.first { $0["name"] as? String == "Tom Hargreaves" }?["verdict"] as? String, "exception")
    }

    func testAsOfJudgesADayWithWhatWasKnownThen() throws {
        let site = try DemoSite.make(self, name: "as-of")
        let assessed = try site.run(["assess"], ["--member", "sarah.mills@good.test", "--it-contact", "R Patel", "--answers", try site.answers().path])
        XCTAssertEqual(assessed.status, 0, assessed.stderr)
        let (today, _, nowMembers) = try site.audit()
        XCTAssertLessThanOrEqual(today.status, 1, today.stderr)
        XCTAssertEqual(verdict(nowMembers, "Cllr Sarah Mills"), "compliant")
        XCTAssertEqual(verdict(nowMembers, "Cllr Kate Ward"), "compliant", "one assessment covers both councillors of the council")

        let yesterday = DemoSite.day(-1)
        let (past, json, members) = try site.audit(["--as-of", yesterday])
        XCTAssertLessThanOrEqual(past.status, 1, past.stderr)
        XCTAssertEqual(verdict(members, "Cllr Sarah Mills"), "assessment-due", "the assessment was recorded after the day judged")
        XCTAssertEqual(verdict(members, "Cllr Kate Ward"), "assessment-due")
        let generated = try XCTUnwrap(ISO8601DateFormatter().date(from: json["generatedAt"] as? String ?? ""))
        XCTAssertLessThan(abs(generated.timeIntervalSinceNow), 120, "generatedAt is the real time of the run")
        XCTAssertEqual(json["asOf"] as? String, "\(yesterday)T23:59:59Z")
        XCTAssertEqual(json["backdated"] as? Bool, true)
        XCTAssertTrue(json["runId"] is NSNull, "a backdated run is not recorded without --record")
        XCTAssertTrue((json["notRecorded"] as? String ?? "").contains("backdated"))

        let future = try site.audit(["--as-of", DemoSite.day(2)]).run
        XCTAssertEqual(future.status, 2)
        XCTAssertTrue(future.stderr.contains("in the future"), future.stderr)
    }

    /// audit, backdated audit (recorded), audit: the third compares with the first.
    func testABackdatedRunIsNeverThePreviousRun() throws {
        let site = try DemoSite.make(self, name: "backdated")
        XCTAssertEqual(try site.run(["assess"], ["--member", "sarah.mills@good.test", "--it-contact", "R Patel",
                                                 "--answers", try site.answers().path]).status, 0)
        let first = try site.audit().json
        let backdated = try site.audit(["--as-of", DemoSite.day(-1), "--record"]).json
        XCTAssertNotNil(backdated["runId"] as? Int, "--record keeps a backdated run")
        let (third, json, _) = try site.audit()
        XCTAssertLessThanOrEqual(third.status, 1, third.stderr)
        let changes = try XCTUnwrap(json["changes"] as? [String: Any])
        XCTAssertEqual(changes["previousRunId"] as? Int, first["runId"] as? Int)
        for kind in ["newlyNonCompliant", "resolved", "nowExcepted", "otherChanges", "newMembers", "departedMembers"] {
            XCTAssertEqual((changes[kind] as? [Any])?.count, 0, "\(kind): no change since the first run")
        }
        let text = try site.run(["audit"]).stdoutText
        XCTAssertTrue(text.contains("Since the previous audit: no change."), text)
        let history = try site.run(["history"], ["--format", "json"])
        let runs = try XCTUnwrap(try JSONSerialization.jsonObject(with: history.stdout) as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["backdated"] as? Bool }, [false, false, true, false], "newest first by real time")
        let table = try site.run(["history"]).stdoutText
        XCTAssertTrue(table.contains("\(DemoSite.day(-1)) (backdated)"), table)
    }

    /// A check that could not run gets advice about the failure, never the fix for an absent record.
    func testAnErrorIsNotAdviceToPublishARecord() throws {
        let site = try DemoSite.make(self, name: "errors")
        let out = site.folder.appendingPathComponent("report")
        let (_, _, members) = try site.audit(["--out", out.path])
        XCTAssertEqual(verdict(members, "Cllr Mary O'Neill"), "unknown")
        let why = reason(members, "Cllr Mary O'Neill")
        XCTAssertTrue(why.hasPrefix("Unknown:") && why.contains("timed out"), why)
        XCTAssertFalse(why.lowercased().contains("curl") || why.contains("Timeout was reached"), "no raw curl text: \(why)")
        let csv = try String(contentsOf: out.appendingPathComponent("action-plan.csv"), encoding: .utf8)
        let rows = csv.components(separatedBy: "\r\n").filter { $0.hasPrefix("Cllr Mary O'Neill,") && $0.contains(",error,") }
        XCTAssertFalse(rows.isEmpty, csv)
        for row in rows {
            XCTAssertTrue(row.contains("Re-run the audit"), row)
            XCTAssertFalse(row.contains("Publish"), "an error is not advice to publish a record: \(row)")
        }
    }

    /// Holds the register's write lock from another process, as a second audit or a backup would.
    private func holdRegister(_ site: DemoSite, seconds: Double) throws -> (process: Process, started: Date) {
        let flag = site.folder.appendingPathComponent("held-\(UUID().uuidString)")
        let script = """
        import pathlib, sqlite3, sys, time
        db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
        db.execute("BEGIN EXCLUSIVE")
        pathlib.Path(sys.argv[2]).write_text("held")
        time.sleep(float(sys.argv[3]))
        db.execute("ROLLBACK")
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, site.register.path, flag.path, String(seconds)]
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: flag.path) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: flag.path), "the holder took the lock")
        return (process, Date())
    }

    private func sqlite(_ site: DemoSite, _ sql: String) throws -> CommandRun {
        try CommandRun.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            try:
                print(db.execute(sys.argv[2]).fetchall())
            except sqlite3.DatabaseError as error:
                print("refused:", error); sys.exit(3)
            """, site.register.path, sql])
    }

    /// Two audits at once on one register: the second waits for the first's write, both are recorded.
    func testTwoAuditsAtOnceAreBothRecorded() throws {
        let site = try DemoSite.make(self, name: "two-at-once")
        XCTAssertLessThanOrEqual(try site.audit().run.status, 1, "the register exists")
        let statuses = Mutex<[Int32]>([0, 0])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let out = site.folder.appendingPathComponent("report-\(index)")
            let status = (try? site.audit(["--out", out.path]).run.status) ?? -1
            statuses.withLock { $0[index] = status }
        }
        let finished = statuses.withLock { $0 }
        XCTAssertEqual(finished.filter { $0 <= 1 && $0 >= 0 }.count, 2, "\(finished)")
        XCTAssertTrue(try sqlite(site, "SELECT count(*) FROM auditRun").stdoutText.contains("[(3,)]"))
        for index in 0..<2 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: site.folder.appendingPathComponent("report-\(index)/index.html").path))
        }
    }

    /// Ctrl-C during the checks says that nothing was recorded, exits 130, and leaves the
    /// register as it was; a run that finishes is recorded as usual afterwards.
    func testCtrlCSaysWhatWasNotRecorded() throws {
        let fixtures = try Fixtures.load()
        guard !fixtures.faultyResolverURL.isEmpty else { throw XCTSkip("faulty-doh is not running") }
        let site = try DemoSite.make(self, name: "interrupt")
        XCTAssertEqual(try site.audit().run.status, 1)
        // Every good.test question is held unanswered: the second audit is still checking when
        // Ctrl-C comes, however warm the resolver's cache is.
        try "*good.test timeout\n".write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8)
        defer { try? "".write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8) }
        try String(contentsOf: site.site, encoding: .utf8)
            .replacingOccurrences(of: "resolver: \(fixtures.resolverURL)", with: "resolver: \(fixtures.faultyResolverURL)")
            .replacingOccurrences(of: "dnsTimeout: 1}", with: "dnsTimeout: 20}")
            .write(to: site.site, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = Fixtures.executable
        process.arguments = ["audit", "--config", site.site.path, "--out", site.folder.appendingPathComponent("report").path]
        process.environment = ProcessInfo.processInfo.environment.merging(site.environment) { _, new in new }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        process.interrupt()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, stderr)
        XCTAssertTrue(stderr.contains("interrupted before the checks were done: nothing was recorded and no report was written"), stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.folder.appendingPathComponent("report/index.html").path))
        let history = try site.run(["history"], ["--format", "json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: history.stdout) as? [Any])?.count, 1, "only the first run is recorded")
    }

    func testABusyRegisterNeverLosesTheRun() throws {
        let site = try DemoSite.make(self, name: "busy", registerSettings: "{file: register.sqlite, busyTimeout: 2}")
        XCTAssertLessThanOrEqual(try site.audit().run.status, 1, "a first run creates the register")
        let out = site.folder.appendingPathComponent("report")

        // Held for longer than the busy timeout: the reports are written, with the banner, exit 2.
        let (holder, _) = try holdRegister(site, seconds: 60)
        let (run, json, _) = try site.audit(["--out", out.path])
        holder.terminate(); holder.waitUntilExit()
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(run.stderr.contains("this run was not recorded") && run.stderr.contains("busy"), run.stderr)
        XCTAssertTrue(json["runId"] is NSNull)
        XCTAssertTrue((json["notRecorded"] as? String ?? "").contains("busy"))
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("This run was not recorded:"), "a visible banner")
        XCTAssertTrue(html.contains("run not recorded"), "the footer says so too")
        let summary = try String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8)
        XCTAssertTrue(summary.contains("**This run was not recorded:**"), summary)
        XCTAssertTrue(try sqlite(site, "PRAGMA integrity_check").stdoutText.contains("ok"), "nothing half-written")
        XCTAssertTrue(try sqlite(site, "SELECT count(*) FROM auditRun").stdoutText.contains("[(1,)]"), "only the first run")

        // Held for less than the busy timeout (30 s by default): the run waits, then is recorded.
        var patient = site
        try String(contentsOf: site.site, encoding: .utf8).replacingOccurrences(of: "busyTimeout: 2", with: "busyTimeout: 30")
            .write(to: site.site, atomically: true, encoding: .utf8)
        patient.environment = site.environment
        let (shortHolder, started) = try holdRegister(patient, seconds: 8)
        let waited = try patient.audit()
        shortHolder.waitUntilExit()
        XCTAssertLessThanOrEqual(waited.run.status, 1, waited.run.stderr)
        XCTAssertNotNil(waited.json["runId"] as? Int, "recorded once the lock was released")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 7.5, "the run waited for the lock")
        XCTAssertTrue(try sqlite(site, "SELECT count(*) FROM auditRun").stdoutText.contains("[(2,)]"))

        // Recorded runs are append-only in the database itself.
        XCTAssertEqual(try sqlite(site, "UPDATE auditRun SET memberCount = 0").status, 3)
        XCTAssertEqual(try sqlite(site, "DELETE FROM auditRunMember").status, 3)
    }
}

/// A checklist question about a Member's own account is asked for each Member, under the
/// organisation's assessment.
final class MemberQuestionTests: XCTestCase {
    func testQuestionsAboutTheMembersOwnAccountAreAskedForEachMember() throws {
        var site = try DemoSite.make(self, name: "member-questions")
        let policies = DemoSite.root.appendingPathComponent("policies").path + "/"
        let checklist = site.folder.appendingPathComponent("checklist.yaml")
        try (try String(contentsOf: DemoSite.root.appendingPathComponent("policies/checklists/ten-minute-assessment.yaml"), encoding: .utf8) + """

            # (appended by the test)
            """).replacingOccurrences(of: "questions:\n", with: """
            questions:
              - id: own-device
                question: Does this Member read CPCA mail only on a managed device?
                why: A personal phone outside management can keep CPCA mail after the Member leaves.
                pass: The Member's devices are enrolled in the organisation's management.
                about: member

            """).write(to: checklist, atomically: true, encoding: .utf8)
        let policy = site.folder.appendingPathComponent("policy.yaml")
        try String(contentsOf: DemoSite.root.appendingPathComponent("examples/demo-policy.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "../policies/checklists/ten-minute-assessment.yaml", with: checklist.path)
            .replacingOccurrences(of: "../policies/", with: policies)
            .write(to: policy, atomically: true, encoding: .utf8)
        try String(contentsOf: site.site, encoding: .utf8)
            .replacingOccurrences(of: DemoSite.root.appendingPathComponent("examples/demo-policy.yaml").path, with: policy.path)
            .write(to: site.site, atomically: true, encoding: .utf8)
        site.environment["MAILAUDIT_ASSESSOR"] = "J Smith (ICT)"

        let organisation = try site.run(["assess"], ["--member", "sarah.mills@good.test", "--it-contact", "R Patel",
                                                     "--answers", try site.answers(["own-device": "yes"]).path])
        XCTAssertEqual(organisation.status, 0, organisation.stderr)
        var members = try site.audit().members
        XCTAssertEqual(members["Cllr Sarah Mills"]?["verdict"] as? String, "compliant", "her own question was answered with the organisation's")
        XCTAssertEqual(members["Cllr Kate Ward"]?["verdict"] as? String, "assessment-due")
        XCTAssertTrue((members["Cllr Kate Ward"]?["reason"] as? String ?? "").contains("own-device"))

        // Kate's assessment asks only her own question; answering the organisation's is refused.
        let tooMuch = try site.run(["assess"], ["--member", "kate.ward@good.test", "--it-contact", "R Patel",
                                                "--answers", try site.answers(["own-device": "yes"]).path])
        XCTAssertEqual(tooMuch.status, 2)
        XCTAssertTrue(tooMuch.stderr.contains("unknown key; allowed here: own-device"), tooMuch.stderr)
        let answers = site.folder.appendingPathComponent("kate.yaml")
        try "own-device: {answer: yes, note: Intune}\n".write(to: answers, atomically: true, encoding: .utf8)
        let own = try site.run(["assess"], ["--member", "kate.ward@good.test", "--it-contact", "R Patel", "--answers", answers.path])
        XCTAssertEqual(own.status, 0, own.stderr)
        XCTAssertTrue(own.stdoutText.contains("Cllr Kate Ward's own account, under assessment #1"), own.stdoutText)
        members = try site.audit().members
        XCTAssertEqual(members["Cllr Kate Ward"]?["verdict"] as? String, "compliant")
    }
}
