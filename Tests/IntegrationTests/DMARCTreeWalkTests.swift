import Curl
import DoH
import MailDomain
import XCTest

/// DMARC per RFC 9989 through the real BIND fixture: the DNS tree walk and the record grammar.
final class DMARCTreeWalkTests: XCTestCase {
    private func dmarc(_ domain: String, resolver url: String? = nil) async throws -> CheckResult {
        let fixtures = try Fixtures.load()
        let client = CurlClient()
        defer { client.shutdown() }
        var configuration = fixtures.resolverConfiguration()
        if let url { configuration = DoHConfiguration(url: url, caFile: fixtures.caFile); configuration.timeout = .seconds(2) }
        let checker = DomainChecker(resolver: DoHResolver(configuration: configuration, client: client), client: client,
                                    settings: fixtures.settings())
        let report = await checker.check(domain)
        return try XCTUnwrap(report.check("dmarc"))
    }

    private func tlsrpt(_ domain: String) async throws -> CheckResult {
        let fixtures = try Fixtures.load()
        let client = CurlClient()
        defer { client.shutdown() }
        let checker = DomainChecker(resolver: DoHResolver(configuration: fixtures.resolverConfiguration(), client: client), client: client,
                                    settings: fixtures.settings())
        let report = await checker.check(domain)
        return try XCTUnwrap(report.check("tls-rpt"))
    }

    func testTheWalkFindsTheOrganisationalAndPublicSuffixDomains() async throws {
        let between = try await dmarc("x.mid.orgwalk.test")
        XCTAssertEqual(between.details["organisationalDomain"], .string("orgwalk.test"), "the record with the fewest labels")
        XCTAssertEqual(between.details["source"], .string("organisational-domain"))
        XCTAssertEqual(between.status, .fail, "orgwalk.test's sp=none applies, not mid.orgwalk.test's: \(between.summary)")

        let suffix = try await dmarc("member.psd.test")
        XCTAssertEqual(suffix.details["source"], .string("public-suffix-domain"))
        XCTAssertEqual(suffix.details["organisationalDomain"], .string("member.psd.test"), "one label below the psd=y record")
        XCTAssertEqual(suffix.details["sourceDomain"], .string("psd.test"))

        let deep = try await dmarc("a.b.c.d.e.f.g.h.i.deep.test")
        XCTAssertEqual(deep.details["walk"]?.arrayValue?.count, 8, "the name, its 7-label parent and on up to test: 8 queries, no more")
        XCTAssertEqual(deep.details["sourceDomain"], .string("deep.test"))
        XCTAssertEqual(deep.status, .pass, deep.summary)

        let several = try await dmarc("x.two.sev.test")
        XCTAssertEqual(several.details["sourceDomain"], .string("sev.test"), "two records at two.sev.test count as none")
        XCTAssertEqual(several.status, .pass, several.summary)
        XCTAssertTrue(several.evidence.contains { $0.query == "TXT _dmarc.two.sev.test" }, "every query of the walk is evidence")
    }

    func testAFailureMidWalkIsAnError() async throws {
        let fixtures = try Fixtures.load()
        guard !fixtures.faultyResolverURL.isEmpty else { throw XCTSkip("faulty-doh is not running") }
        try "_dmarc.mid.orgwalk.test TXT servfail\n".write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8)
        defer { try? "".write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8) }
        let failed = try await dmarc("x.mid.orgwalk.test", resolver: fixtures.faultyResolverURL)
        XCTAssertEqual(failed.status, .error, "never \"no record\": \(failed.summary)")
        XCTAssertTrue(failed.summary.contains("_dmarc.mid.orgwalk.test"), failed.summary)
    }

    func testRecordsAsRFC9989ReadsThem() async throws {
        let testMode = try await dmarc("testmode.test")
        XCTAssertEqual(testMode.status, .fail); XCTAssertTrue(testMode.summary.contains("t=y"), testMode.summary)
        let np = try await dmarc("npnone.test")
        XCTAssertEqual(np.status, .warn); XCTAssertTrue(np.summary.contains("np=none"), np.summary)
        let pct = try await dmarc("pctlow.test")
        XCTAssertEqual(pct.status, .warn, "pct is historic: \(pct.summary)")
        let badSP = try await dmarc("badsp.test")
        XCTAssertEqual(badSP.status, .fail); XCTAssertTrue(badSP.summary.contains("sp=rejct"), badSP.summary)
        let leadingSpace = try await dmarc("leadingspace.test")
        XCTAssertEqual(leadingSpace.status, .fail, "a TXT string that begins with a space is not a DMARC record")
        XCTAssertTrue(leadingSpace.summary.contains("looks like DMARC"), leadingSpace.summary)
        let upper = try await dmarc("upper.test")
        XCTAssertEqual(upper.status, .pass, "keyword values are case-insensitive: \(upper.summary)")
        XCTAssertEqual(upper.details["adkim"], .string("s"))
        let retired = try await dmarc("retired.test")
        XCTAssertEqual(retired.status, .warn); XCTAssertTrue(retired.summary.contains("retired service"), retired.summary)
        let extensions = try await tlsrpt("extensions.test")
        XCTAssertEqual(extensions.status, .pass, "an extension tag name may begin with a digit and hold - and .: \(extensions.summary)")
    }
}
