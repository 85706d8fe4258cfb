import Foundation
import Register
import XCTest

/// The 10-minute assessment: non-interactive, interactive in a real terminal (tmux) with an
/// interruption part-way, the printable checklist, and what each record does to the audit.
final class AssessmentTests: XCTestCase {
    private typealias Setup = DemoSite

    private func setup() throws -> Setup { try DemoSite.make(self, name: "assess") }

    private func answers(_ setup: Setup, _ overrides: [String: String] = [:]) throws -> URL { try setup.answers(overrides) }

    static func day(_ daysFromNow: Int) -> String { DemoSite.day(daysFromNow) }

    private func verdicts(_ setup: Setup, asOf: String? = nil) throws -> [String: [String: Any]] {
        let run = try CommandRun.mailaudit(["audit", "--config", setup.site.path, "--format", "json"] + (asOf.map { ["--as-of", $0] } ?? []))
        XCTAssertLessThanOrEqual(run.status, 1, run.stderr)
        let audit = try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let members = try XCTUnwrap(audit["members"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: members.map { ($0["name"] as! String, $0) })
    }

    func testNonInteractiveAssessmentsDecideTheVerdict() throws {
        let setup = try setup()
        func assess(_ member: String, _ answers: URL) throws -> CommandRun {
            try CommandRun.mailaudit(["assess", "--config", setup.site.path, "--member", member, "--answers", answers.path, "--it-contact", "R Patel (IT)"],
                                     environment: setup.environment)
        }
        XCTAssertEqual(try verdicts(setup)["Cllr Sarah Mills"]?["verdict"] as? String, "assessment-due")
        let passed = try assess("sarah.mills@good.test", try answers(setup))
        XCTAssertEqual(passed.status, 0, passed.stderr)
        XCTAssertTrue(passed.stdoutText.contains("PASS"), passed.stdoutText)
        let failed = try assess("james.reed@m365.test", try answers(setup, ["mfa": "no"]))
        XCTAssertTrue(failed.stdoutText.contains("FAIL (failed: mfa, cyber-essentials)"), "Microsoft 365 without MFA: a Cyber Essentials v3.3 automatic fail. \(failed.stdoutText)")
        let now = try verdicts(setup)
        XCTAssertEqual(now["Cllr Sarah Mills"]?["verdict"] as? String, "compliant")
        XCTAssertEqual(now["Cllr James Reed"]?["verdict"] as? String, "non-compliant", "a failed assessment")
        XCTAssertEqual(now["Cllr Kate Ward"]?["verdict"] as? String, "compliant", "the second councillor of the assessed council")
        // An assessment of another council thirteen months ago has lapsed.
        let register = try AuditRegister(path: setup.folder.appendingPathComponent("register.sqlite").path)
        let old = Date().addingTimeInterval(-400 * 86_400)
        try register.recordAssessment(StoredAssessment(organisation: "March Town Council", domains: ["pnone.test"], memberId: "", memberName: "",
                                                       itContact: "IT", assessor: "J Smith (ICT)", startedAt: old, completedAt: old, passed: true,
                                                       failedItems: [], answers: [], evidence: [], validUntil: old.addingTimeInterval(365 * 86_400)))
        let later = try verdicts(setup)
        XCTAssertEqual(later["Cllr Aisha Khan"]?["verdict"] as? String, "non-compliant", "p=none fails whatever the assessment")
        let aisha = try XCTUnwrap((later["Cllr Aisha Khan"]?["findings"] as? [[String: Any]])?.first { $0["control"] as? String == "assessment.current" })
        XCTAssertEqual(aisha["status"] as? String, "not-present")
        XCTAssertTrue((aisha["summary"] as? String ?? "").contains("lapsed"), "\(aisha)")
        let export = try CommandRun.mailaudit(["register", "export", "--config", setup.site.path])
        let exported = try XCTUnwrap(try JSONSerialization.jsonObject(with: export.stdout) as? [String: Any])
        let stored = try XCTUnwrap(exported["assessments"] as? [[String: Any]])
        XCTAssertEqual(stored.count, 3)
        XCTAssertEqual(stored.first?["assessor"] as? String, "J Smith (ICT)")
        XCTAssertEqual(stored.first?["organisation"] as? String, "Fenland District Council", "the organisation, from the directory")
        XCTAssertEqual(stored.first?["domains"] as? [String], ["good.test"])
        XCTAssertEqual(stored.first?["itContact"] as? String, "R Patel (IT)")
        let certificate = try XCTUnwrap(stored.first?["cyberEssentials"] as? [String: Any])
        XCTAssertEqual(certificate["number"] as? String, "IASME-CE-1234")
        XCTAssertEqual(certificate["questionSet"] as? String, "Danzell (v3.3)")
        XCTAssertEqual((stored.first?["validUntil"] as? String)?.prefix(10), Substring(Self.day(200)),
                       "current no longer than its Cyber Essentials certificate")
        XCTAssertFalse((stored.first?["evidence"] as? [String] ?? []).isEmpty, "the evidence seen is stored")
    }

    /// Cyber Essentials v3.3: "no" to MFA on a cloud mail service fails the Cyber Essentials
    /// question too; an assessment may name more than one of the organisation's domains.
    func testCloudServiceWithoutMFAFailsCyberEssentialsAndDomainsAreCovered() throws {
        let setup = try setup()
        let run = try CommandRun.mailaudit(["assess", "--config", setup.site.path, "--member", "james.reed@m365.test", "--domain", "good.test",
                                            "--organisation", "Huntingdon and Fenland shared service", "--it-contact", "L Chen",
                                            "--answers", try answers(setup, ["mfa": "no"]).path], environment: setup.environment)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdoutText.contains("FAIL (failed: mfa, cyber-essentials)"), run.stdoutText)
        XCTAssertTrue(run.stdoutText.contains("Danzell"), run.stdoutText)
        let now = try verdicts(setup)
        for name in ["Cllr James Reed", "Cllr Sarah Mills", "Cllr Kate Ward"] {
            XCTAssertEqual(now[name]?["verdict"] as? String, "non-compliant", "\(name): the failed assessment covers both domains")
        }
        let refused = try CommandRun.mailaudit(["assess", "--config", setup.site.path, "--domain", "gmail.com", "--organisation", "x",
                                                "--it-contact", "y", "--answers", try answers(setup).path], environment: setup.environment)
        XCTAssertEqual(refused.status, 2); XCTAssertTrue(refused.stderr.contains("personal webmail"), refused.stderr)
    }

    func testBadAnswersAndWrongMembersAreRefused() throws {
        let setup = try setup()
        func assess(_ member: String, _ answers: URL) throws -> CommandRun {
            try CommandRun.mailaudit(["assess", "--config", setup.site.path, "--member", member, "--answers", answers.path, "--it-contact", "R Patel (IT)"],
                                     environment: setup.environment)
        }
        let missing = try assess("sarah.mills@good.test", try answers(setup, ["leavers": ""]))
        XCTAssertEqual(missing.status, 2); XCTAssertTrue(missing.stderr.contains("no answer for leavers"), missing.stderr)
        let evidence = try assess("sarah.mills@good.test", try answers(setup, ["organisation-mailbox": "yes"]))
        XCTAssertEqual(evidence.status, 2); XCTAssertTrue(evidence.stderr.contains("organisation-mailbox"), evidence.stderr)
        let noNA = try assess("sarah.mills@good.test", try answers(setup, ["cyber-essentials": "n/a"]))
        XCTAssertEqual(noNA.status, 2); XCTAssertTrue(noNA.stderr.contains("cannot be answered n/a"), noNA.stderr)
        // A yes to Cyber Essentials records a current certificate, its expiry and question set.
        let bare = try assess("sarah.mills@good.test", try answers(setup, ["cyber-essentials": "yes"]))
        XCTAssertEqual(bare.status, 2); XCTAssertTrue(bare.stderr.contains("cyber-essentials: a yes records the certificate"), bare.stderr)
        let expired = try assess("sarah.mills@good.test", try answers(setup, [
            "cyber-essentials": "{answer: yes, certificate: \"C-1\", expires: \(Self.day(-3)), questionSet: Danzell}"]))
        XCTAssertEqual(expired.status, 2); XCTAssertTrue(expired.stderr.contains("cyber-essentials.expires: the certificate expired"), expired.stderr)
        let unknownSet = try assess("sarah.mills@good.test", try answers(setup, [
            "cyber-essentials": "{answer: yes, certificate: \"C-1\", expires: \(Self.day(30)), questionSet: Ashford}"]))
        XCTAssertEqual(unknownSet.status, 2); XCTAssertTrue(unknownSet.stderr.contains("Danzell (v3.3)"), unknownSet.stderr)
        let noContact = try CommandRun.mailaudit(["assess", "--config", setup.site.path, "--member", "sarah.mills@good.test",
                                                  "--answers", try answers(setup).path], environment: setup.environment)
        XCTAssertEqual(noContact.status, 2); XCTAssertTrue(noContact.stderr.contains("--it-contact"), noContact.stderr)
        XCTAssertEqual(try assess("alex.carter@cpca.test", try answers(setup)).status, 2, "CPCA accounts are not assessed")
        XCTAssertEqual(try assess("dan.brooks1964@gmail.com", try answers(setup)).status, 2, "personal webmail cannot pass")
        let noTerminal = try CommandRun.mailaudit(["assess", "--config", setup.site.path, "--member", "sarah.mills@good.test"], environment: setup.environment)
        XCTAssertEqual(noTerminal.status, 2); XCTAssertTrue(noTerminal.stderr.contains("not a terminal"), noTerminal.stderr)
        let export = try CommandRun.mailaudit(["register", "export", "--config", setup.site.path])
        let register = try XCTUnwrap(try JSONSerialization.jsonObject(with: export.stdout) as? [String: Any])
        XCTAssertEqual((register["assessments"] as? [Any])?.count, 0, "no refused assessment was recorded")
    }

    /// In a real terminal: answer three questions, press Ctrl-C, start again, resume, finish.
    func testInteractiveAssessmentInATerminalSurvivesAnInterruption() throws {
        let setup = try setup()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            if ProcessInfo.processInfo.environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil { XCTFail("tmux is not installed") }
            throw XCTSkip("tmux not installed")
        }
        let session = "mailaudit-\(UUID().uuidString.prefix(8))"
        // The trap keeps the wrapping shell alive after Ctrl-C (a handler, not "ignore", so the
        // assessment itself still gets the interrupt), to print how it ended.
        let command = "trap true INT; env MAILAUDIT_ASSESSOR='J Smith (ICT)' \(Fixtures.executable.path) assess --config \(setup.site.path) --member paul@sub.orgdmarc.test --it-contact 'IT desk'; echo EXITED $?; sleep 30"
        /// Runs tmux through system(3): its client forks the tmux server and Foundation's Process
        /// does not reap it reliably, so waiting for it there can hang.
        func tmux(_ arguments: [String]) throws -> String {
            let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            _ = system("/usr/bin/tmux \(quoted) > /dev/null 2>&1")
            return ""
        }
        let screenFile = setup.folder.appendingPathComponent("screen.txt")
        func screen() throws -> String {
            _ = try tmux(["capture-pane", "-t", session, "-S", "-200"])
            _ = try tmux(["save-buffer", screenFile.path])
            return (try? String(contentsOf: screenFile, encoding: .utf8)) ?? ""
        }
        func waitFor(_ text: String, timeout: TimeInterval = 20) throws -> String {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                let shown = try screen()
                if shown.contains(text) { return shown }
                Thread.sleep(forTimeInterval: 0.1)
            }
            XCTFail("waited for \"\(text)\"; the screen shows:\n\(try screen())")
            throw XCTSkip("stopped waiting")
        }
        func keys(_ keys: String...) throws { _ = try tmux(["send-keys", "-t", session] + keys) }
        /// Answers "yes" to the next question shown, with a note.
        func answerNext(_ number: Int) throws {
            _ = try waitFor("Question \(number) of")
            _ = try waitFor("or (q)uit to finish later:")
            try keys("y", "Enter")
            _ = try waitFor("Note (Enter for none):")
            try keys("checked with the IT contact", "Enter")
        }

        _ = try tmux(["new-session", "-d", "-s", session, "-x", "200", "-y", "50", command])
        defer { _ = try? tmux(["kill-session", "-t", session]) }
        for number in 1...3 { try answerNext(number) }
        _ = try waitFor("Question 4 of")
        try keys("C-c")
        let interrupted = try waitFor("EXITED")
        XCTAssertFalse(interrupted.contains("Recorded assessment"), "nothing is recorded after an interruption")
        XCTAssertTrue(interrupted.contains("The 3 answers given so far are saved in the register"), interrupted)
        XCTAssertTrue(interrupted.contains("run the same command again:") && interrupted.contains("assess --config"), interrupted)
        XCTAssertTrue(interrupted.contains("EXITED 130"), interrupted)
        XCTAssertTrue(interrupted.contains("Evidence: dkim warn"), "the evidence is shown with the question it bears on")

        _ = try tmux(["kill-session", "-t", session])
        _ = try tmux(["new-session", "-d", "-s", session, "-x", "200", "-y", "50", command])
        let offer = try waitFor("[r]esume or [d]iscard?")
        XCTAssertTrue(offer.contains("has 3 answers"), offer)
        try keys("r", "Enter")
        var number = 1
        func count(_ text: String, in screen: String) -> Int { screen.components(separatedBy: text).count - 1 }
        while !(try screen()).contains("Recorded assessment") {
            let shown = try waitFor("or (q)uit to finish later:")
            guard shown.contains("Question \(number) of") else { break }
            let notes = count("Note (Enter for none):", in: shown)
            try keys("y", "Enter")
            // A yes to Cyber Essentials asks for the certificate before the note.
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let now = try screen()
                if count("Note (Enter for none):", in: now) > notes { break }
                if now.contains("Certificate number:") && !now.contains("Question set assessed") {
                    try keys("IASME-CE-9876", "Enter")
                    _ = try waitFor("Certificate expires (YYYY-MM-DD):")
                    try keys(Self.day(100), "Enter")
                    _ = try waitFor("Question set assessed")
                    try keys("Enter")
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
            try keys("Enter")
            number += 1
            Thread.sleep(forTimeInterval: 0.2)
        }
        let finished = try waitFor("Recorded assessment")
        XCTAssertTrue(finished.contains("PASS"), finished)
        let kept = ProcessInfo.processInfo.environment["MAILAUDIT_TEST_ARTEFACTS"].map { URL(fileURLWithPath: $0) }
        if let kept {
            try FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
            try finished.write(to: kept.appendingPathComponent("assess-terminal.txt"), atomically: true, encoding: .utf8)
        }
        let export = try CommandRun.mailaudit(["register", "export", "--config", setup.site.path])
        let stored = try XCTUnwrap((try JSONSerialization.jsonObject(with: export.stdout) as? [String: Any])?["assessments"] as? [[String: Any]])
        XCTAssertEqual(stored.count, 1)
        let answers = try XCTUnwrap(stored.first?["answers"] as? [[String: Any]])
        XCTAssertEqual(answers.filter { $0["note"] as? String == "checked with the IT contact" }.count, 3, "the answers given before Ctrl-C were kept")
        XCTAssertEqual((stored.first?["cyberEssentials"] as? [String: Any])?["number"] as? String, "IASME-CE-9876")
        XCTAssertEqual(stored.first?["itContact"] as? String, "IT desk")
        XCTAssertEqual(try verdicts(setup)["Dr Paul Ng"]?["verdict"] as? String, "compliant")
    }

    /// The printable checklist, rendered to PDF by headless Chromium and kept as an artefact.
    func testPrintableChecklist() throws {
        let setup = try setup()
        let run = try CommandRun.mailaudit(["checklist", "--config", setup.site.path, "--member", "james.reed@m365.test", "--format", "html"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let html = run.stdoutText
        XCTAssertTrue(html.contains("Cllr James Reed") && html.contains("Answered from the evidence") && html.contains("☐ Yes"))
        XCTAssertFalse(html.contains("<script"), "a printed form needs no script")
        let page = setup.folder.appendingPathComponent("checklist.html")
        try html.write(to: page, atomically: true, encoding: .utf8)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            if ProcessInfo.processInfo.environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil { XCTFail("chromium is not installed") }
            return
        }
        let artefacts = ProcessInfo.processInfo.environment["MAILAUDIT_TEST_ARTEFACTS"].map { URL(fileURLWithPath: $0) } ?? setup.folder
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let pdf = artefacts.appendingPathComponent("checklist.pdf")
        _ = try CommandRun.run(URL(fileURLWithPath: "/usr/bin/chromium"),
                               ["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--print-to-pdf=\(pdf.path)", page.absoluteString])
        let bytes = try Data(contentsOf: pdf)
        XCTAssertTrue(bytes.starts(with: Array("%PDF".utf8)), "a PDF")
        XCTAssertGreaterThan(bytes.count, 10_000)
        print("printable checklist: \(pdf.path)")
    }
}
