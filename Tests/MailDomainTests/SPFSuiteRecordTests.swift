import XCTest
import Yams
@testable import MailDomain

/// The SPF records of the RFC 7208 and RFC 4408 suites' zone data, run through the record
/// parser. The suites give results of whole evaluations, not verdicts on records, so the test
/// holds the parser to what can be told from them: a record the parser refuses must be one whose
/// evaluation the suite expects to end in permerror, and a record whose evaluation the suite
/// expects to end otherwise must parse. (The full check_host() run of the suites is a separate
/// engine's test.)
final class SPFSuiteRecordTests: XCTestCase {
    private struct Case {
        var scenario: String
        var test: String
        var record: String
        var results: [String]
    }

    private func cases(_ file: String) throws -> [Case] {
        var found: [Case] = []
        for document in try Yams.load_all(yaml: try Conformance.text("spf/\(file)")) {
            guard let scenario = document as? [String: Any],
                  let tests = scenario["tests"] as? [String: Any] else { continue }
            let zone = scenario["zonedata"] as? [String: Any] ?? [:]
            let zoneByName = Dictionary(zone.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
            for (name, value) in tests {
                guard let test = value as? [String: Any] else { continue }
                let results = (test["result"] as? [String]) ?? [(test["result"] as? String) ?? ""]
                let sender = (test["mailfrom"] as? String) ?? ""
                let domain = sender.isEmpty ? ((test["helo"] as? String) ?? "")
                    : String(sender.split(separator: "@", omittingEmptySubsequences: false).last ?? "")
                guard let entries = zoneByName[domain.lowercased()] as? [Any] else { continue }
                let records = Self.spfTexts(entries)
                guard records.count == 1 else { continue }
                found.append(Case(scenario: (scenario["description"] as? String) ?? "", test: name,
                                  record: records[0], results: results))
            }
        }
        return found
    }

    /// SPF candidates among a name's TXT (or, failing TXT, SPF-type) records.
    private static func spfTexts(_ entries: [Any]) -> [String] {
        func texts(_ type: String) -> [String] {
            entries.compactMap { entry -> String? in
                guard let map = entry as? [String: Any], let value = map[type] else { return nil }
                if let text = value as? String { return text }
                if let parts = value as? [String] { return parts.joined() }
                return nil
            }
        }
        let txt = texts("TXT")
        let chosen = txt.isEmpty ? texts("SPF") : txt
        return chosen.filter(SPFRecord.isCandidate)
    }

    private func run(_ file: String) throws {
        let all = try cases(file)
        XCTAssertGreaterThan(all.count, 10, "too few records found in \(file)")
        var refused = 0, permerrorRecords = 0
        var wronglyRefused: [String] = []
        for item in all {
            let parsed = SPFRecord.parse(item.record)
            let expectsPermerror = item.results.contains("permerror")
            if expectsPermerror { permerrorRecords += 1 }
            if case let .failure(error) = parsed {
                refused += 1
                if !expectsPermerror {
                    wronglyRefused.append("\(item.scenario) / \(item.test): \(item.record.debugDescription) refused (\(error)), suite expects \(item.results)")
                }
            }
        }
        XCTAssert(wronglyRefused.isEmpty, "records refused that the suite evaluates:\n" + wronglyRefused.joined(separator: "\n"))
        print("\(file): \(all.count) test records; parser refuses \(refused), all among the \(permerrorRecords) whose evaluation the suite expects to be permerror")
    }

    func testRFC7208SuiteRecords() throws { try run("rfc7208-tests.yml") }
    func testRFC4408SuiteRecords() throws { try run("rfc4408-tests.yml") }
    func testBlitiriSuiteRecords() throws { try run("blitirispf-tests.yml") }
}
