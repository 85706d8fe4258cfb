import Foundation
import XCTest

/// Where the engine differs from the suites on purpose (shared by both runs of the suites).
enum SPFSuiteDeliberate {
    /// Differences by design: allowed in every run of the suites, in memory and over DoH.
    static let differences = [
        "v-macro-ip6": "the suite expects %{i} of an IPv6 address in upper-case nibbles; RFC 7208 7.3's own example uses lower case",
    ].merging(singleLabel) { first, _ in first }

    /// blitiri's suite names its domains d00, mx10, ...: single labels. RFC 7208 4.3 says
    /// check_host() returns none for a domain that is not multi-label, and the RFC 7208 suite
    /// tests exactly that (its helo-not-fqdn case), so these end at the first single-label name.
    private static let singleLabel = Dictionary(uniqueKeysWithValues: [
        "resolution-with-10-lookups", "mx-resolution-10-terms", "mx-resolution-11-terms", "all-mx-not-found",
        "include-not-found", "one-mx-not-found", "redirect-not-found",
    ].map { ($0, "blitiri's suite evaluates single-label names; RFC 7208 4.3 makes them none") })
}

/// Where the shared conformance vectors live: `../shared/conformance` beside the project, or
/// $MAILAUDIT_CONFORMANCE_DIR. Missing vectors fail the tests: they are part of the suite.
enum Conformance {
    static var directory: URL {
        if let override = ProcessInfo.processInfo.environment["MAILAUDIT_CONFORMANCE_DIR"] {
            return URL(fileURLWithPath: override)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/conformance")
    }

    static func json(_ relative: String) throws -> [String: Any] {
        let url = directory.appendingPathComponent(relative)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("conformance file \(url.path) is missing")
            throw CocoaError(.fileNoSuchFile)
        }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func text(_ relative: String) throws -> String {
        let url = directory.appendingPathComponent(relative)
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// Compares a parser's verdicts with the vectors' and checks that every disagreement is one
    /// the project has chosen and explained.
    static func compare(_ vectors: [[String: Any]], key: String, deliberate: [String: String],
                        file: StaticString = #filePath, line: UInt = #line,
                        accepts: (String) -> Bool) -> (agreed: Int, total: Int) {
        var agreed = 0, total = 0
        var unexplained: [String] = []
        for vector in vectors {
            guard let expected = vector["valid"] as? Bool, let text = vector[key] as? String,
                  let id = vector["id"] as? String else { continue }
            total += 1
            let verdict = accepts(text)
            if verdict == expected {
                agreed += 1
                if deliberate[id] != nil { XCTFail("\(id) is listed as a deliberate difference but agrees", file: file, line: line) }
            } else if deliberate[id] == nil {
                unexplained.append("\(id): expected \(expected ? "valid" : "invalid"), got \(verdict ? "valid" : "invalid"): \(text.debugDescription)")
            }
        }
        XCTAssert(unexplained.isEmpty, "disagreements with the vectors:\n" + unexplained.joined(separator: "\n"), file: file, line: line)
        print("conformance \(vectors.first?["id"] as? String ?? key)…: \(agreed) of \(total) vectors agree; \(deliberate.count) deliberate differences")
        return (agreed, total)
    }
}
