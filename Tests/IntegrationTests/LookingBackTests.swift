import Foundation
import Register
import XCTest

/// Past runs: kept compressed with the directory read, replayed under a later policy without
/// the network, and marked as replays in the history.
final class LookingBackTests: XCTestCase {
    /// A copy of the demo policy in the site's folder, with `change` applied to its text.
    private func policy(in site: DemoSite, _ change: (String) -> String) throws -> URL {
        let original = try String(contentsOf: DemoSite.root.appendingPathComponent("examples/demo-policy.yaml"), encoding: .utf8)
        let absolute = original.replacingOccurrences(of: "../policies/", with: DemoSite.root.appendingPathComponent("policies").path + "/")
        let file = site.folder.appendingPathComponent("new-policy.yaml")
        try change(absolute).write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    private func editSite(_ site: DemoSite, _ change: (String) -> String) throws {
        try change(try String(contentsOf: site.site, encoding: .utf8)).write(to: site.site, atomically: true, encoding: .utf8)
    }

    func testAReplayJudgesAPastRunUnderTheNewPolicyWithoutTheNetwork() throws {
        let site = try DemoSite.make(self, name: "replay")
        let first = try site.audit()
        XCTAssertEqual(first.run.status, 1, first.run.stderr)
        let before = first.members

        // The new policy requires MTA-STS of council and business accounts; the directory and
        // the resolver are then out of reach, so only the register can answer.
        let stricter = try policy(in: site) {
            $0.replacingOccurrences(of: "require: [assessment.current, mx, spf, dmarc]", with: "require: [assessment.current, mx, spf, dmarc, mta-sts]")
                .replacingOccurrences(of: "advise: [mta-sts, tls-rpt, dkim, provider]", with: "advise: [tls-rpt, dkim, provider]")
        }
        let demoPolicy = DemoSite.root.appendingPathComponent("examples/demo-policy.yaml").path
        let ldif = DemoSite.root.appendingPathComponent("examples/members.ldif").path
        let liveSite = try String(contentsOf: site.site, encoding: .utf8)
        try editSite(site) {
            $0.replacingOccurrences(of: demoPolicy, with: stricter.path)
                .replacingOccurrences(of: ldif, with: "/nonexistent/members.ldif")
                .replacingOccurrences(of: try! Fixtures.load().resolverURL, with: "https://127.0.0.1:9/dns-query")
        }
        let replay = try site.audit(["--replay", "1"])
        XCTAssertEqual(replay.run.status, 1, replay.run.stderr)
        XCTAssertEqual(replay.json["replayOf"] as? Int, 1)
        XCTAssertTrue(replay.json["runId"] is NSNull, "not recorded unless asked")
        XCTAssertEqual(replay.json["notRecorded"] as? String, "a replay of run #1 (--replay without --record)")
        XCTAssertEqual(replay.json["asOf"] as? String, first.json["asOf"] as? String, "judged at run #1's moment")
        let notice = (replay.json["warnings"] as? [String])?.first ?? ""
        XCTAssertTrue(notice.contains("replay of run #1") && notice.contains("under the current policy (\(stricter.path)"), notice)
        XCTAssertEqual(replay.members.count, before.count, "run #1's directory read, not the (unreadable) directory")
        // A Member on a domain without MTA-STS who only needed an assessment now fails a required
        // control; the changes are against run #1.
        let moved = replay.members.filter { name, member in (before[name]?["verdict"] as? String) != (member["verdict"] as? String) }
        XCTAssertFalse(moved.isEmpty, "the stricter policy changes some verdict")
        for (name, member) in moved {
            let finding = (member["findings"] as? [[String: Any]] ?? []).first { $0["control"] as? String == "mta-sts" }
            XCTAssertEqual(finding?["required"] as? Bool, true, name)
            XCTAssertNotEqual(finding?["status"] as? String, "pass", name)
            XCTAssertEqual(member["verdict"] as? String, "non-compliant", name)
        }
        let changes = replay.json["changes"] as? [String: Any]
        XCTAssertEqual(changes?["previousRunId"] as? Int, 1)
        XCTAssertEqual(((changes?["newlyNonCompliant"] as? [[String: Any]]) ?? []).count + ((changes?["otherChanges"] as? [[String: Any]]) ?? []).count,
                       moved.count)
        // Nothing was asked of the network: every domain check kept its evidence from run #1.
        XCTAssertEqual((replay.json["domains"] as? [[String: Any]])?.count, (first.json["domains"] as? [[String: Any]])?.count)

        // Recorded only when asked, and then marked as a replay, never compared with.
        let out = site.folder.appendingPathComponent("replay-report")
        let recorded = try site.run(["audit"], ["--replay", "1", "--record", "--out", out.path])
        XCTAssertEqual(recorded.status, 1, recorded.stderr)
        XCTAssertTrue(recorded.stdoutText.hasPrefix("Replay of run #1: Audit of"), recorded.stdoutText)
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("<h1>Members' email accounts: replay of run #1</h1>"))
        let summary = try String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8)
        XCTAssertTrue(summary.contains("> **Replay:** This is a replay of run \\#1"), summary)
        let history = try site.run(["history"])
        XCTAssertTrue(history.stdoutText.contains("replay of #1"), history.stdoutText)
        let historyJSON = try site.run(["history"], ["--format", "json"])
        let runs = (try JSONSerialization.jsonObject(with: historyJSON.stdout) as? [[String: Any]]) ?? []
        XCTAssertEqual(runs.first?["replayOf"] as? Int, 1)

        try liveSite.write(to: site.site, atomically: true, encoding: .utf8)
        let live = try site.audit()
        XCTAssertEqual((live.json["changes"] as? [String: Any])?["previousRunId"] as? Int, 1, "a later audit compares with run #1, not the replay")
        // A replay of a replay judges the same stored read again.
        XCTAssertEqual(try site.audit(["--replay", "2"]).run.status, 1)

        let unknown = try site.run(["audit"], ["--replay", "99"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("no run #99"), unknown.stderr)
        let both = try site.run(["audit"], ["--replay", "1", "--as-of", DemoSite.day(-3)])
        XCTAssertEqual(both.status, 2)
        XCTAssertTrue(both.stderr.contains("--as-of cannot be given with it"), both.stderr)
    }

    /// Each run's result is kept gzip-compressed, with the directory read, and read back whole.
    func testStoredResultsAreCompressedAndWhole() throws {
        let site = try DemoSite.make(self, name: "stored")
        let audit = try site.audit()
        XCTAssertEqual(audit.run.status, 1, audit.run.stderr)
        let register = try AuditRegister(path: site.register.path)
        let sizes = try register.storedResultSizes()
        XCTAssertEqual(sizes.count, 1)
        let stored = try XCTUnwrap(try register.stored(runId: 1))
        XCTAssertEqual(stored.result.members.count, 22)
        XCTAssertEqual(stored.directory?.members.count, 22)
        XCTAssertEqual(stored.result.domains.count, (audit.json["domains"] as? [[String: Any]])?.count)
        let plain = try JSONSerialization.data(withJSONObject: audit.json)
        XCTAssertLessThan(sizes[0].bytes * 4, plain.count, "compressed to less than a quarter of audit.json's \(plain.count) bytes")
    }
}
