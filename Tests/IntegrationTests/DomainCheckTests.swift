import Curl
import DoH
import MailDomain
import XCTest

/// Every mail-domain check against the real BIND and nginx fixtures: one test domain a case.
final class DomainCheckTests: XCTestCase {
    private var client: CurlClient!
    private var checker: DomainChecker!
    private var resolver: DoHResolver!

    override func setUpWithError() throws {
        let fixtures = try Fixtures.load()
        client = CurlClient()
        resolver = DoHResolver(configuration: fixtures.resolverConfiguration(), client: client)
        checker = DomainChecker(resolver: resolver, client: client, settings: fixtures.settings())
    }

    override func tearDown() {
        client?.shutdown()
    }

    private func report(_ domain: String) async -> DomainReport { await checker.check(domain) }

    private func status(_ report: DomainReport, _ id: String, file: StaticString = #filePath, line: UInt = #line) -> CheckStatus? {
        guard let check = report.check(id) else { XCTFail("no \(id) check", file: file, line: line); return nil }
        return check.status
    }

    func testFullyCompliantDomain() async {
        let report = await report("good.test")
        XCTAssertEqual(report.checks.map(\.id), DomainChecker.checkIDs)
        for id in ["mx", "spf", "dmarc", "mta-sts", "tls-rpt", "dkim"] {
            XCTAssertEqual(status(report, id), .pass, "\(id): \(report.check(id)?.summary ?? "")")
        }
        let spf = report.check("spf")!
        XCTAssertEqual(spf.details["lookups"], .int(2))
        XCTAssertEqual(spf.details["valid"], .bool(true))
        XCTAssertFalse(spf.evidence.isEmpty)
        let dmarc = report.check("dmarc")!
        XCTAssertEqual(dmarc.details["p"], .string("reject"))
        XCTAssertEqual(dmarc.details["source"], .string("domain"))
        let mtasts = report.check("mta-sts")!
        XCTAssertEqual(mtasts.details["mode"], .string("enforce"))
        XCTAssertEqual(mtasts.details["mxCovered"], .bool(true))
        XCTAssertEqual(mtasts.details["maxAge"], .int(1_209_600))
        XCTAssertTrue(mtasts.evidence.contains { $0.kind == .http && $0.result.hasPrefix("HTTP 200") })
        XCTAssertEqual(report.check("dkim")!.details["keys"]?.arrayValue?.first?["bits"], .int(2048))
    }

    func testDMARCPolicyNone() async {
        let report = await report("pnone.test")
        XCTAssertEqual(status(report, "dmarc"), .fail)
        XCTAssertEqual(report.check("dmarc")!.details["p"], .string("none"))
    }

    func testSPFOverTheLookupLimitThroughNestedIncludes() async {
        let spf = await report("spflimit.test").check("spf")!
        XCTAssertEqual(spf.status, .fail)
        XCTAssertEqual(spf.details["lookups"], .int(11))
        XCTAssertEqual(spf.details["valid"], .bool(false))
        // Per-branch counts: the top record's own 2, then its two includes with 4 and 5.
        XCTAssertEqual(spf.details["tree"]?["lookups"], .int(2))
        let children = spf.details["tree"]?["children"]?.arrayValue ?? []
        XCTAssertEqual(children.compactMap { $0["totalLookups"]?.intValue }, [4, 5])
    }

    func testSPFLoop() async {
        let spf = await report("spfloop.test").check("spf")!
        XCTAssertEqual(spf.status, .fail)
        XCTAssertTrue(spf.summary.contains("loop: spfloop.test → loop.spfloop.test → spfloop.test"), spf.summary)
    }

    func testTwoSPFRecords() async {
        let spf = await report("twospf.test").check("spf")!
        XCTAssertEqual(spf.status, .fail)
        XCTAssertEqual(spf.details["valid"], .bool(false))
    }

    func testVoidLookupsPlusAllAndPTR() async {
        let void = await report("voidspf.test").check("spf")!
        XCTAssertEqual(void.status, .fail)
        XCTAssertEqual(void.details["voidLookups"], .int(3))
        let plusAll = await report("plusall.test").check("spf")?.status
        XCTAssertEqual(plusAll, .fail)
        let ptr = await report("ptrspf.test").check("spf")?.status
        XCTAssertEqual(ptr, .warn)
    }

    /// The control evaluates the record for addresses no record can mean to list (240.0.0.1 and
    /// 100::1): one that passes shows the record lets everyone send, whatever its all says.
    func testSPFThatLetsEveryAddressPassFails() async {
        let range = await report("openrange.test").check("spf")!
        XCTAssertEqual(range.status, .fail)
        XCTAssertTrue(range.summary.contains("lets any address send"), range.summary)
        XCTAssertTrue(range.summary.contains("ip4:128.0.0.0/1"), range.summary)
        XCTAssertEqual(range.details["unlistedSender"]?["ipv4"]?["result"], .string("pass"))
        XCTAssertEqual(range.details["unlistedSender"]?["ipv6"]?["result"], .string("fail"))

        let included = await report("includeall.test").check("spf")!
        XCTAssertEqual(included.status, .fail)
        XCTAssertTrue(included.summary.contains("includeall.test: include:_spf.includeall.test → _spf.includeall.test: +all"), included.summary)
        XCTAssertEqual(included.details["unlistedSender"]?["ipv6"]?["result"], .string("pass"))
    }

    /// Void look-ups depend on the sender's address family: hosts with IPv4 addresses only
    /// find nothing for an IPv6 sender.
    func testSPFVoidLookupsForOneAddressFamily() async {
        let spf = await report("v4only.test").check("spf")!
        XCTAssertEqual(spf.status, .fail)
        XCTAssertEqual(spf.details["voidLookups"], .int(3))
        XCTAssertEqual(spf.details["unlistedSender"]?["ipv4"]?["voidLookups"], .int(0))
        XCTAssertEqual(spf.details["unlistedSender"]?["ipv6"]?["voidLookups"], .int(3))
        XCTAssertTrue(spf.summary.contains("for senders over IPv6"), spf.summary)
    }

    func testDMARCOnlyAtTheOrganisationalDomain() async {
        let dmarc = await report("sub.orgdmarc.test").check("dmarc")!
        XCTAssertEqual(dmarc.status, .pass)
        XCTAssertEqual(dmarc.details["source"], .string("organisational-domain"))
        XCTAssertEqual(dmarc.details["sourceDomain"], .string("orgdmarc.test"))
    }

    func testExternalReportDestinations() async {
        let dmarc = await report("extrua.test").check("dmarc")!
        XCTAssertEqual(dmarc.status, .warn)
        let destinations = dmarc.details["externalDestinations"]?.arrayValue ?? []
        XCTAssertEqual(destinations.compactMap { $0["authorised"]?.boolValue }, [true, false])
    }

    func testMTASTSTestingMode() async {
        let check = await report("mtatesting.test").check("mta-sts")!
        XCTAssertEqual(check.status, .warn)
        XCTAssertEqual(check.details["mode"], .string("testing"))
    }

    func testMTASTSPolicyMissingAnMX() async {
        let check = await report("mtamissingmx.test").check("mta-sts")!
        XCTAssertEqual(check.status, .fail)
        XCTAssertEqual(check.details["mxCovered"], .bool(false))
        XCTAssertEqual(check.details["uncoveredMX"], .array([.string("mx2.elsewhere.test")]))
    }

    func testMTASTSRedirectWrongTypeUntrustedOversizedAndUnresolvable() async {
        let redirect = await report("mtaredirect.test").check("mta-sts")!
        XCTAssertEqual(redirect.status, .fail)
        XCTAssertEqual(redirect.details["httpStatus"], .int(301))
        let wrongType = await report("mtacontenttype.test").check("mta-sts")!
        XCTAssertEqual(wrongType.status, .fail)
        XCTAssertTrue(wrongType.details["contentType"]?.stringValue?.hasPrefix("text/html") ?? false)
        let untrusted = await report("mtauntrusted.test").check("mta-sts")!
        XCTAssertEqual(untrusted.status, .fail)
        XCTAssertTrue(untrusted.summary.contains("certificate"), untrusted.summary)
        let oversized = await report("mtabig.test").check("mta-sts")!
        XCTAssertEqual(oversized.status, .fail)
        XCTAssertTrue(oversized.summary.contains("65536"), oversized.summary)
        let noHost = await report("mtanohost.test").check("mta-sts")!
        XCTAssertEqual(noHost.status, .fail)
    }

    func testNullMX() async {
        let mx = await report("nullmx.test").check("mx")!
        XCTAssertEqual(mx.status, .fail)
        XCTAssertEqual(mx.details["nullMX"], .bool(true))
    }

    func testTimingOutNameServerIsErrorNotAbsent() async {
        let report = await report("slow.test")
        for check in report.checks where check.id != "provider" {
            XCTAssertEqual(check.status, .error, "\(check.id): \(check.summary)")
        }
    }

    func testInternationalisedDomain() async {
        let report = await report("bücher.test")
        XCTAssertEqual(report.asciiDomain, "xn--bcher-kva.test")
        XCTAssertEqual(report.domain, "bücher.test")
        XCTAssertEqual(status(report, "mx"), .pass)
        XCTAssertEqual(status(report, "dmarc"), .pass)
        XCTAssertEqual(status(report, "mta-sts"), .pass, report.check("mta-sts")?.summary ?? "")
    }

    func testDKIMKeySizes() async {
        let dkim = await report("weakdkim.test").check("dkim")!
        XCTAssertEqual(dkim.status, .fail)
        let bits = dkim.details["keys"]?.arrayValue?.compactMap { $0["bits"]?.intValue }
        XCTAssertEqual(bits, [1024, 512])
        let none = await report("pnone.test").check("dkim")!
        XCTAssertEqual(none.status, .warn, "not found among the selectors tried is not 'no DKIM'")
        XCTAssertEqual(none.details["conclusive"], .bool(false))
        XCTAssertTrue(none.summary.contains("selectors tried"))
    }

    func testMicrosoft365AndTenantDiscovery() async {
        let report = await report("m365.test")
        let provider = report.check("provider")!
        XCTAssertEqual(provider.status, .pass)
        XCTAssertEqual(provider.details["provider"], .string("Microsoft 365"))
        XCTAssertEqual(provider.details["microsoftTenant"]?["namespaceType"], .string("Managed"))
        XCTAssertEqual(provider.details["microsoftTenant"]?["tenantId"], .string("6babcaad-604b-40ac-a9d7-9fd97c0b779f"))
        // The DKIM key is a CNAME into the tenant's onmicrosoft.com zone, as Microsoft 365 publishes it.
        XCTAssertEqual(report.check("dkim")?.status, .pass)
    }

    func testHostileRecordsAreReportedNotTrusted() async {
        let report = await report("hostile.test")
        XCTAssertEqual(status(report, "spf"), .fail)
        XCTAssertEqual(status(report, "dmarc"), .fail)
        XCTAssertEqual(status(report, "tls-rpt"), .notPresent, "a TXT that is not TLS-RPT is not a record")
    }

    func testInvalidInputIsAnErrorPerCheck() async {
        let report = await report("not a domain")
        XCTAssertTrue(report.checks.allSatisfy { $0.status == .error })
    }

    /// 500 domains sharing includes and an MX host: every shared name is asked once.
    func testFiveHundredDomainsShareTheirQuestions() async throws {
        let fixtures = try Fixtures.load()
        guard fixtures.bulkDomains >= 500 else { throw XCTSkip("the fixture was started with fewer bulk domains") }
        let domains = (0..<500).map { String(format: "bulk%03d.test", $0) }
        let reports = await checker.check(domains, concurrency: 16)
        XCTAssertEqual(reports.map(\.domain), domains, "results come back in input order")
        XCTAssertFalse(reports.contains { $0.checks.contains { $0.status == .error } })
        XCTAssertEqual(reports.filter { $0.check("mta-sts")?.status == .pass }.count, 250)
        let statistics = await resolver.statistics
        // The shared include and MX host are asked once, not 500 times.
        XCTAssertLessThan(statistics.httpRequests, statistics.questions)
        XCTAssertEqual(statistics.retries, 0)
    }
}
