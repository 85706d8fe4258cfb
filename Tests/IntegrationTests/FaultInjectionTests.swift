import Foundation
import XCTest

/// Faults injected on purpose through scripts/fixtures/faulty-doh: for every check, a fault on
/// each look-up its conclusion depends on gives `error` (or a failure found without it), never
/// `pass`, `warn` or `not-present`.
final class FaultInjectionTests: XCTestCase {
    static let modes = ["servfail", "timeout", "truncated", "junk", "wrong-id", "http500", "content-type"]

    private struct Question: Hashable, Comparable {
        var type: String
        var name: String
        var text: String { "\(type) \(name)" }
        static func < (a: Question, b: Question) -> Bool { a.text < b.text }
    }

    private struct Checked {
        var status: String
        var questions: Set<Question>
        var answered: [Question: Bool]   // did the look-up return records?
    }

    private func check(_ domain: String, fixtures: Fixtures) throws -> [String: Checked] {
        let run = try CommandRun.mailaudit(["check-domain", domain, "--format", "json", "--resolver", fixtures.faultyResolverURL,
                                            "--ca-file", fixtures.caFile, "--microsoft-login-url", fixtures.microsoftLogin,
                                            "--dns-timeout", "0.5", "--https-timeout", "3"])
        XCTAssertLessThanOrEqual(run.status, 2, run.stderr)
        let reports = try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [[String: Any]], run.stderr)
        var checks: [String: Checked] = [:]
        for check in (reports.first?["checks"] as? [[String: Any]]) ?? [] {
            var questions: Set<Question> = []
            var answered: [Question: Bool] = [:]
            for evidence in (check["evidence"] as? [[String: Any]]) ?? [] where evidence["kind"] as? String == "dns" {
                let parts = (evidence["query"] as? String ?? "").split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                let question = Question(type: parts[0], name: parts[1])
                questions.insert(question)
                answered[question] = evidence["result"] as? String == "NOERROR" && !((evidence["data"] as? [Any]) ?? []).isEmpty
            }
            checks[check["id"] as! String] = Checked(status: check["status"] as! String, questions: questions, answered: answered)
        }
        return checks
    }

    /// Where a conclusion does not need a look-up it made, and why.
    private func independent(_ checkID: String, _ question: Question, baseline: Checked) -> String? {
        // A host with an address in one family has an address: the other family's answer is not needed.
        if ["mx", "mta-sts", "provider"].contains(checkID), question.type == "A" || question.type == "AAAA" {
            let other = Question(type: question.type == "A" ? "AAAA" : "A", name: question.name)
            if baseline.answered[other] == true { return "the host's other address family answered" }
        }
        // Tenant discovery is detail of an informational check, reported in its own error field.
        if checkID == "provider", question.name.hasPrefix("login.") { return "tenant discovery is informational detail" }
        // The provider told from the SPF record's includes does not need the MX records.
        if checkID == "provider", question.type == "MX", baseline.status == "pass" { return "recognised from SPF as well as MX" }
        return nil
    }

    func testEveryFaultOnALookupTheConclusionNeedsIsAnError() throws {
        let fixtures = try Fixtures.load()
        guard !fixtures.faultyResolverURL.isEmpty else { throw XCTSkip("faulty-doh is not running") }
        func rules(_ text: String) throws { try text.write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8) }
        defer { try? rules("") }
        var figures = (runs: 0, cases: 0, error: 0, fail: 0, independent: 0)
        var unexpected: [String] = []
        var allowed: [String] = []
        let started = Date()
        for domain in ["good.test", "m365.test"] {
            try rules("")
            let baseline = try check(domain, fixtures: fixtures)
            XCTAssertEqual(baseline["mx"]?.status, "pass", "\(domain) checks cleanly without faults")
            let questions = Set(baseline.values.flatMap(\.questions)).sorted()
            for question in questions {
                for mode in Self.modes {
                    try rules("\(question.name) \(question.type) \(mode)\n")
                    let faulted = try check(domain, fixtures: fixtures)
                    figures.runs += 1
                    for (id, before) in baseline where before.questions.contains(question) {
                        figures.cases += 1
                        let after = faulted[id]?.status ?? "missing"
                        if after == "error" { figures.error += 1; continue }
                        if after == "fail" && before.status == "fail" { figures.fail += 1; continue }
                        let line = "\(domain) \(id): \(question.text) \(mode) -> \(after) (was \(before.status))"
                        if let why = independent(id, question, baseline: before) {
                            figures.independent += 1
                            allowed.append(line + ": " + why)
                        } else {
                            unexpected.append(line)
                        }
                    }
                }
            }
        }
        print("fault matrix: \(figures.runs) runs, \(figures.cases) (check, look-up, fault) cases in \(Int(Date().timeIntervalSince(started))) s: "
              + "\(figures.error) error, \(figures.fail) fail found independently, \(figures.independent) not needed by the conclusion, "
              + "\(unexpected.count) false results")
        for line in allowed { print("  not needed: \(line)") }
        XCTAssertTrue(unexpected.isEmpty, "faults that gave a result instead of error:\n" + unexpected.joined(separator: "\n"))
    }
}
