import DoH
import Foundation
import XCTest
@testable import MailDomain

/// Records nobody would publish on purpose: random terms, broken macros, stray bytes, include and
/// redirect cycles among a handful of names. The engine and the `spf` control must end every
/// evaluation within the limits, with one of the seven results and a reason for the error ones.
final class SPFEngineRobustnessTests: XCTestCase {
    /// xorshift64*: small, deterministic, so a failure can be replayed from its seed.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return Int((state &* 0x2545_F491_4F6C_DD1D) >> 33) % bound
        }
        mutating func pick<T>(_ items: [T]) -> T { items[next(items.count)] }
    }

    static let names = ["a.example", "b.example", "c.example", "d.example", "e.example", "missing.example"]

    static let terms = [
        "a", "a/24", "a//64", "a:b.example", "a:missing.example/0", "mx", "mx:c.example/16//48", "ptr", "ptr:example",
        "ip4:240.0.0.0/4", "ip4:1.2.3.4/33", "ip4:999.1.1.1", "ip6:::/0", "ip6:100::/127", "ip6:zz::1",
        "include:a.example", "include:b.example", "include:%{d}", "include:%{o}", "include:missing.example", "include:",
        "exists:%{i}.%{l}.c.example", "exists:%{ir}.%{v}._spf.%{d2}", "exists:%{p}.d.example", "exists:%{h}",
        "redirect=c.example", "redirect=%{d}", "redirect=d.example", "exp=e.example", "exp=%{z}.example",
        "%{", "%{i", "%{i999999999999999999r.}", "%%", "%_", "%-", "%{s0}", "%{l1r-}", "+all", "-all", "~all", "?all",
        "all:x", "unknown=%{c}", "v=spf1", "a:.example", "a:..", "mx:" + String(repeating: "x", count: 70) + ".example",
    ]

    static func record(_ random: inout Random) -> String {
        var parts = ["v=spf1"]
        for _ in 0..<random.next(9) {
            var term = random.pick(terms)
            switch random.next(12) {
            case 0: term = random.pick(["+", "-", "~", "?"]) + term
            case 1: term += String(UnicodeScalar(UInt8(random.next(256))))
            case 2: term = String(term.shuffled())
            default: break
            }
            parts.append(term)
        }
        return parts.joined(separator: random.next(6) == 0 ? "  " : " ")
    }

    static func zone(_ random: inout Random) -> [String: Any] {
        var zone: [String: Any] = [:]
        for name in names where name != "missing.example" {
            var entries: [Any] = []
            for _ in 0..<random.pick([0, 1, 1, 1, 2]) {
                entries.append(["TXT": random.next(6) == 0 ? random.pick(["google-site-verification=x", "v=spf10 -all", ""]) : record(&random)])
            }
            if random.next(2) == 0 { entries.append(["A": "240.0.0.\(random.next(3))"]) }
            if random.next(3) == 0 { entries.append(["MX": [10, random.pick(names)]]) }
            if random.next(8) == 0 { entries.append("TIMEOUT") }
            zone[name] = entries
        }
        zone["1.0.0.240.in-addr.arpa"] = [["PTR": random.pick(names)]]
        return zone
    }

    func testRandomRecordsEndWithinTheLimits() async {
        var random = Random(state: 0x5350_465F_7275_6E73)
        var results: [SPFEvaluation.Result: Int] = [:]
        for round in 0..<5000 {
            let zone = Self.zone(&random)
            let resolver = SuiteResolver(zone: zone)
            let ip: [UInt8] = random.next(2) == 0 ? [240, 0, 0, UInt8(random.next(3))] : [0x01, 0x00] + Array(repeating: 0, count: 13) + [1]
            let evaluation = await SPFEngine(resolver: resolver).checkHost(ip: ip, sender: random.pick(["", "x@a.example", "%{l}@b.example"]),
                                                                           helo: random.pick(Self.names))
            results[evaluation.result, default: 0] += 1
            let context = "round \(round): \(zone)"
            XCTAssertLessThanOrEqual(evaluation.lookups, 11, context)
            XCTAssertLessThanOrEqual(evaluation.voidLookups, 3, context)
            if [.permerror, .temperror].contains(evaluation.result) {
                XCTAssertNotNil(evaluation.reason, "an error result says why: \(context)")
            }
            if evaluation.result == .pass || evaluation.result == .fail || evaluation.result == .softfail {
                XCTAssertFalse(evaluation.decidedBy.isEmpty, "a matched result names its term: \(context)")
            }
        }
        // The generator reaches every kind of result, or it tests too little.
        XCTAssertEqual(Set(results.keys), Set([.pass, .fail, .softfail, .neutral, .none, .permerror, .temperror]), "\(results)")
    }

    func testRandomRecordsThroughTheSPFControl() async {
        var random = Random(state: 0x636F_6E74_726F_6C21)
        var statuses: Set<CheckStatus> = []
        for round in 0..<1500 {
            let zone = Self.zone(&random)
            let outcome = await SPFCheck(resolver: SuiteResolver(zone: zone), settings: DomainCheckSettings()).run("a.example")
            statuses.insert(outcome.result.status)
            let lookups = outcome.result.details["lookups"]?.intValue ?? -1
            XCTAssertTrue((0...SPFCheck.countingBound + 1).contains(lookups), "round \(round): \(lookups) look-ups")
            XCTAssertFalse(outcome.result.summary.isEmpty, "round \(round)")
        }
        XCTAssertTrue(statuses.isSuperset(of: [.pass, .fail, .error, .notPresent]), "\(statuses)")
    }
}
