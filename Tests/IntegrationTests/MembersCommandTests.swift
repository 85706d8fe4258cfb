import Foundation
import XCTest

/// `mailaudit members` as a user runs it: site.yaml in, a table or JSON out, exit code 2 on failure.
final class MembersCommandTests: XCTestCase {
    private var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private func writeSite(_ directorySection: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("site-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let policy = root.appendingPathComponent("examples/demo-policy.yaml").path
        let site = folder.appendingPathComponent("site.yaml")
        try (directorySection + "\npolicy: \(policy)\n").write(to: site, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return site
    }

    func testDemoDirectoryFromLDIF() throws {
        _ = try Fixtures.load()
        let run = try CommandRun.mailaudit(["members", "--config", root.appendingPathComponent("examples/site.yaml").path, "--format", "json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let listing = try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        XCTAssertEqual(listing["schema"] as? String, "mailaudit.members/1")
        let members = try XCTUnwrap(listing["members"] as? [[String: Any]])
        XCTAssertEqual(members.count, 22)
        let classes = Dictionary(grouping: members, by: { $0["accountClass"] as? String ?? "" }).mapValues(\.count)
        XCTAssertEqual(classes, ["organisation": 7, "external": 11, "personal": 3, "no-address": 1])
        let text = try CommandRun.mailaudit(["members", "--config", root.appendingPathComponent("examples/site.yaml").path])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(String(decoding: text.stdout, as: UTF8.self).contains("22 Members from"))
    }

    func testLiveDirectoryAsJSON() throws {
        let fixtures = try DirectoryFixtures.load()
        let site = try writeSite(fixtures.openldapYAML())
        let run = try CommandRun.mailaudit(["members", "--config", site.path, "--format", "json"],
                                           environment: ["MAILAUDIT_TEST_LDAP_PASSWORD": fixtures.password])
        XCTAssertEqual(run.status, 0, run.stderr)
        let listing = try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        XCTAssertEqual(listing["profile"] as? String, "openldap")
        let members = try XCTUnwrap(listing["members"] as? [[String: Any]])
        XCTAssertEqual(members.count, 9)
        let gail = try XCTUnwrap(members.first { $0["displayName"] as? String == "Cllr Gail Mail" })
        XCTAssertEqual(gail["accountClass"] as? String, "personal")
        XCTAssertFalse(String(decoding: run.stdout, as: UTF8.self).contains(fixtures.password), "the password never reaches the output")
    }

    func testFailuresExitTwoWithTheCause() throws {
        let fixtures = try DirectoryFixtures.load()
        let unreachable = try writeSite(fixtures.openldapYAML(url: "ldaps://127.0.0.1:9"))
        let down = try CommandRun.mailaudit(["members", "--config", unreachable.path], environment: ["MAILAUDIT_TEST_LDAP_PASSWORD": "x"])
        XCTAssertEqual(down.status, 2)
        XCTAssertTrue(down.stderr.contains("ldaps://127.0.0.1:9"), down.stderr)
        XCTAssertTrue(down.stdout.isEmpty, "nothing partial on standard output")

        let noPassword = try writeSite(fixtures.openldapYAML())
        let missing = try CommandRun.mailaudit(["members", "--config", noPassword.path], environment: ["MAILAUDIT_TEST_LDAP_PASSWORD": ""])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("MAILAUDIT_TEST_LDAP_PASSWORD"), missing.stderr)

        let badKey = try writeSite("directory:\n  ldif: x.ldif\n  colour: blue\n")
        let config = try CommandRun.mailaudit(["members", "--config", badKey.path])
        XCTAssertEqual(config.status, 2)
        XCTAssertTrue(config.stderr.contains("site.yaml:3: directory.colour"), config.stderr)
    }

    func testInsecureDirectoryIsWarnedAboutOnEveryRun() throws {
        let fixtures = try DirectoryFixtures.load()
        let site = try writeSite(fixtures.openldapYAML(extra: "  allowInsecure: true"))
        let run = try CommandRun.mailaudit(["members", "--config", site.path], environment: ["MAILAUDIT_TEST_LDAP_PASSWORD": fixtures.password])
        // This server refuses binds without TLS; the point here is the exit code and that nothing partial is printed.
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(run.stdout.isEmpty)
        XCTAssertTrue(run.stderr.contains("warning: the directory \(fixtures.openldapURL) is read over plain LDAP without TLS"), run.stderr)
    }
}

/// `mailaudit exceptions` refusing what the Monitoring Officer may not record.
final class ExceptionsCommandTests: XCTestCase {
    func testGrantsAreValidated() throws {
        let demo = try DemoSite.make(self, name: "exc")
        XCTAssertLessThanOrEqual(try demo.audit().run.status, 1, "grants are checked against the latest run")
        let future = DemoSite.day(40)
        let tooFar = DemoSite.day(800)
        func grant(_ extra: [String]) throws -> CommandRun {
            try demo.run(["exceptions", "grant"], ["--decided-by", "Monitoring Officer"] + extra)
        }
        let base = ["--member", "aisha.khan@pnone.test", "--reason", "Council migrating"]
        XCTAssertEqual(try grant(base + ["--controls", "dmarc", "--until", tooFar]).status, 2, "longer than exceptions.maxMonths")
        XCTAssertEqual(try grant(base + ["--controls", "dmarc.policy", "--until", future]).status, 2, "unknown control")
        XCTAssertEqual(try grant(base + ["--until", future]).status, 2, "neither --controls nor --whole-member")
        XCTAssertEqual(try grant(["--member", "nobody@x.test", "--reason", "r", "--controls", "dmarc", "--until", future]).status, 2)
        XCTAssertEqual(try grant(["--member", "aisha.khan@pnone.test", "--reason", " ", "--controls", "dmarc", "--until", future]).status, 2)
        let ok = try grant(base + ["--controls", "dmarc", "--until", future])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let list = try demo.run(["exceptions", "list"], ["--expiring-within", "60d"])
        XCTAssertTrue(list.stdoutText.contains("Cllr Aisha Khan"))
        let none = try demo.run(["exceptions", "list"], ["--expiring-within", "10d"])
        XCTAssertTrue(none.stdoutText.contains("No exceptions."))
    }
}
