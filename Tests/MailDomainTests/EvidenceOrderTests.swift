import DoH
import Foundation
import XCTest
@testable import MailDomain

/// Two runs over the same DNS give the same evidence in the same order, however the answers to
/// questions asked together arrive: a byte-level diff of two reports shows only what changed.
final class EvidenceOrderTests: XCTestCase {
    /// Answers from a zone after a random pause, so that questions asked together finish in a
    /// different order each time.
    struct ShuffledResolver: DNSResolving {
        let zone: SuiteResolver
        func lookup(_ name: String, _ type: RecordType) async -> DNSLookup {
            try? await Task.sleep(nanoseconds: UInt64.random(in: 0...2_000_000))
            return await zone.lookup(name, type)
        }
    }

    static let zone = SuiteResolver(zone: [
        "a.test": [["TXT": "v=spf1 include:one.test include:two.test a:host.test mx:mail.test include:three.test -all"],
                   ["MX": [10, "mx2.a.test"]], ["MX": [5, "mx1.a.test"]], ["MX": [20, "mx3.a.test"]]],
        "one.test": [["TXT": "v=spf1 ip4:192.0.2.0/24 include:four.test -all"]],
        "two.test": [["TXT": "v=spf1 ip6:2001:db8::/32 -all"]],
        "three.test": [["TXT": "v=spf1 exists:gone.test -all"]],
        "four.test": [["TXT": "v=spf1 a -all"], ["A": "192.0.2.4"]],
        "host.test": [["A": "192.0.2.5"], ["AAAA": "2001:db8::5"]],
        "mail.test": [["MX": [10, "mx.mail.test"]]],
        "mx.mail.test": [["A": "192.0.2.6"]],
        "mx1.a.test": [["A": "192.0.2.7"]],
        "mx2.a.test": [["AAAA": "2001:db8::8"]],
        "mx3.a.test": [["A": "192.0.2.9"]],
    ])

    func testTheSPFEvidenceIsInTheOrderTheQuestionsWereAskedAndEachOnce() async {
        let resolver = ShuffledResolver(zone: Self.zone)
        var orders: Set<[String]> = []
        for _ in 0..<25 {
            let outcome = await SPFCheck(resolver: resolver, settings: DomainCheckSettings()).run("a.test")
            let queries = outcome.result.evidence.map(\.query)
            XCTAssertEqual(Set(queries).count, queries.count, "a question appears once: \(queries)")
            orders.insert(queries)
        }
        XCTAssertEqual(orders.count, 1, "one order in every run: \(orders)")
        let order = orders.first ?? []
        XCTAssertEqual(order.first, "TXT a.test", "the record's own answer comes first")
        // The record's targets, in the record's order, then what the IPv4 evaluation met below them.
        XCTAssertEqual(Array(order.prefix(7)), ["TXT a.test", "TXT one.test", "TXT two.test", "A host.test", "MX mail.test",
                                                "TXT three.test", "TXT four.test"], "\(order)")
        XCTAssertTrue(order.contains("AAAA host.test"), "the IPv6 evaluation's own questions follow: \(order)")
        XCTAssertLessThan(order.firstIndex(of: "A mx.mail.test") ?? .max, order.firstIndex(of: "AAAA host.test") ?? -1,
                          "IPv4's questions come before IPv6's: \(order)")
    }

    func testTheMXEvidenceFollowsThePreferenceOrder() async {
        let resolver = ShuffledResolver(zone: Self.zone)
        var orders: Set<[String]> = []
        for _ in 0..<25 {
            let check = MXCheck(resolver: resolver)
            let result = await check.run(await check.observe("a.test"))
            orders.insert(result.evidence.map(\.query))
        }
        XCTAssertEqual(orders, [["MX a.test", "A mx1.a.test", "AAAA mx1.a.test", "A mx2.a.test", "AAAA mx2.a.test",
                                 "A mx3.a.test", "AAAA mx3.a.test"]])
    }
}
