import DoH
import Foundation
import XCTest
@testable import MailDomain

/// DMARC as RFC 9989 defines it, and the record grammar shared with MTA-STS and TLS-RPT.
final class DMARCbisTests: XCTestCase {
    private func record(_ text: String) throws -> DMARCRecord { try DMARCRecord.parse(text).get() }

    private func check(_ zone: [String: Any], _ domain: String = "a.b.example.test",
                       settings: DomainCheckSettings = DomainCheckSettings()) async -> CheckResult {
        await DMARCCheck(resolver: SuiteResolver(zone: zone), settings: settings).run(domain)
    }

    private func details(_ result: CheckResult, _ key: String) -> JSONValue? { result.details[key] }

    func testGrammar() throws {
        XCTAssertThrowsError(try DMARCRecord.parse(" v=DMARC1; p=reject").get(), "a leading space is another record")
        XCTAssertFalse(DMARCRecord.isCandidate(" v=DMARC1; p=reject"))
        XCTAssertTrue(DMARCRecord.isCandidate("v = DMARC1; p=reject"), "spaces around = are allowed")
        XCTAssertFalse(DMARCRecord.isCandidate("v=DMARC10; p=reject"))
        let upper = try record("v=DMARC1; p=Reject; adkim=S; aspf=R; fo=D:S; t=N; psd=N")
        XCTAssertEqual(upper.policy, .reject)
        XCTAssertEqual(upper.dkimAlignment, "s")
        XCTAssertEqual(upper.spfAlignment, "r")
        XCTAssertEqual(upper.failureOptions, ["d", "s"])
        XCTAssertEqual(upper.publicSuffix, .no)
        for lookalike in ["v=DMARC2; p=reject", "v=dmarc1; p=reject", "nv=DMARC1; p=reject", " v=DMARC1; p=reject"] {
            XCTAssertTrue(DMARCRecord.looksLikeDMARC(lookalike), lookalike)
        }
        XCTAssertFalse(DMARCRecord.looksLikeDMARC("v=spf1 -all"))
    }

    func testHistoricAndObsoleteTagsWarn() throws {
        let pct = try record("v=DMARC1; p=reject; pct=50; rua=mailto:a@example.test")
        XCTAssertEqual(pct.percent, 50)
        XCTAssertTrue(pct.warnings.contains { $0.contains("pct=50 is historic") && $0.contains("t=y") }, "\(pct.warnings)")
        let outOfRange = try record("v=DMARC1; p=reject; pct=500; ri=bad; rf=xml")
        XCTAssertNil(outOfRange.percent, "an out-of-range historic value is ignored, not fatal")
        XCTAssertEqual(outOfRange.warnings.count, 3, "pct, ri and rf: \(outOfRange.warnings)")
        let size = try record("v=DMARC1; p=reject; rua=mailto:a@example.test!10m,mailto:b@example.test,mailto:c@example.test")
        XCTAssertTrue(size.warnings.contains { $0.contains("size limit is obsolete") }, "\(size.warnings)")
        XCTAssertTrue(size.warnings.contains { $0.contains("3 destinations") }, "\(size.warnings)")
        let late = try record("v=DMARC1; rua=mailto:a@example.test; p=reject")
        XCTAssertEqual(late.policy, .reject, "p may stand anywhere after v")
        XCTAssertTrue(late.warnings.contains { $0.contains("not straight after v") })
    }

    func testInvalidPoliciesAreNotEnforcing() async throws {
        let invalidP = try record("v=DMARC1; p=block; rua=mailto:a@example.test")
        XCTAssertNil(invalidP.policy)
        XCTAssertEqual(invalidP.effectivePolicy, DMARCRecord.Policy.none, "with a valid rua, p=none (RFC 9989 4.7)")
        XCTAssertNil(try record("v=DMARC1; p=block").effectivePolicy, "without rua, no DMARC policy")
        let sp = await check(["_dmarc.a.b.example.test": [["TXT": "v=DMARC1; p=reject; sp=rejct; rua=mailto:d@a.b.example.test"]]])
        XCTAssertEqual(sp.status, .fail, sp.summary)
        XCTAssertTrue(sp.summary.contains("sp=rejct"), sp.summary)
        XCTAssertEqual(details(sp, "errors"), .array([]), "not a syntax error: a finding")
    }

    func testTestModeAndNp() async {
        let test = await check(["_dmarc.a.b.example.test": [["TXT": "v=DMARC1; p=reject; t=y; rua=mailto:d@a.b.example.test"]]])
        XCTAssertEqual(test.status, .fail, "t=y asks receivers to apply the policy one step weaker")
        XCTAssertTrue(test.summary.contains("t=y"), test.summary)
        let np = await check(["_dmarc.a.b.example.test": [["TXT": "v=DMARC1; p=reject; np=none; rua=mailto:d@a.b.example.test"]]])
        XCTAssertEqual(np.status, .warn, np.summary)
        XCTAssertTrue(np.summary.contains("np=none"), np.summary)
        let pct = await check(["_dmarc.a.b.example.test": [["TXT": "v=DMARC1; p=reject; pct=10; rua=mailto:d@a.b.example.test"]]])
        XCTAssertEqual(pct.status, .warn, "pct no longer decides the verdict: \(pct.summary)")
    }

    func testRetiredReportAddressesWarn() async {
        var settings = DomainCheckSettings()
        settings.retiredReportAddresses = ["dmarc-rua@dmarc.service.gov.uk"]
        let retired = await check(["_dmarc.a.b.example.test": [["TXT": "v=DMARC1; p=reject; rua=mailto:dmarc-rua@dmarc.service.gov.uk"]]],
                                  settings: settings)
        XCTAssertEqual(retired.status, .warn)
        XCTAssertTrue(retired.summary.contains("retired service"), retired.summary)
    }

    func testTheTreeWalk() async {
        XCTAssertEqual(DMARCDiscovery.names(for: "a.b.example.test"), ["a.b.example.test", "b.example.test", "example.test", "test"])
        let deep = "l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.test"
        XCTAssertEqual(DMARCDiscovery.names(for: deep),
                       [deep, "l5.l6.l7.l8.l9.l10.test", "l6.l7.l8.l9.l10.test", "l7.l8.l9.l10.test", "l8.l9.l10.test", "l9.l10.test", "l10.test", "test"],
                       "eleven labels: the name, then its 7-label parent, then on up, 8 queries at most")
        // A record between the name and its organisational domain applies as the subdomain policy.
        let between = await check(["_dmarc.b.example.test": [["TXT": "v=DMARC1; p=none; sp=reject; rua=mailto:d@example.test"]],
                                   "_dmarc.example.test": [["TXT": "v=DMARC1; p=none; rua=mailto:d@example.test"]]])
        XCTAssertEqual(between.status, .fail, "the organisational domain is the one with the fewest labels: example.test, sp=none: \(between.summary)")
        XCTAssertEqual(between.details["organisationalDomain"], .string("example.test"))
        // psd=n marks the organisational domain and ends the walk.
        let psdN = await check(["_dmarc.b.example.test": [["TXT": "v=DMARC1; p=reject; psd=n; rua=mailto:d@example.test"]],
                                "_dmarc.example.test": [["TXT": "v=DMARC1; p=none; rua=mailto:d@example.test"]]])
        XCTAssertEqual(psdN.status, .pass, psdN.summary)
        XCTAssertEqual(psdN.details["organisationalDomain"], .string("b.example.test"))
        XCTAssertEqual(psdN.details["source"], .string("organisational-domain"))
        XCTAssertEqual(psdN.details["walk"], .array([.string("a.b.example.test"), .string("b.example.test")]))
        // A public-suffix domain's record (psd=y) applies when nothing below it has one.
        let psdY = await check(["_dmarc.test": [["TXT": "v=DMARC1; p=reject; psd=y; rua=mailto:d@registry.test"]],
                                "test._report._dmarc.registry.test": [["TXT": "v=DMARC1"]]])
        XCTAssertEqual(psdY.details["source"], .string("public-suffix-domain"))
        XCTAssertEqual(psdY.details["organisationalDomain"], .string("example.test"), "one label below the psd=y record")
        XCTAssertEqual(psdY.status, .pass, psdY.summary)
        // Several records at one step count as none there; the walk goes on.
        let several = await check(["_dmarc.b.example.test": [["TXT": "v=DMARC1; p=none"], ["TXT": "v=DMARC1; p=reject"]],
                                   "_dmarc.example.test": [["TXT": "v=DMARC1; p=reject; rua=mailto:d@example.test"]]])
        XCTAssertEqual(several.details["sourceDomain"], .string("example.test"))
        XCTAssertEqual(several.status, .pass, several.summary)
        // A failure anywhere in the walk is an error, never "no record".
        let failed = await check(["_dmarc.example.test": ["TIMEOUT"]])
        XCTAssertEqual(failed.status, .error, failed.summary)
        XCTAssertTrue(failed.summary.contains("_dmarc.example.test"), failed.summary)
        // A record at the domain itself instead of _dmarc is named.
        let apex = await check(["a.b.example.test": [["TXT": "v=DMARC1; p=reject"]]])
        XCTAssertEqual(apex.status, .fail)
        XCTAssertTrue(apex.summary.contains("published at a.b.example.test itself"), apex.summary)
        // Something that looks like DMARC is named.
        let typo = await check(["_dmarc.a.b.example.test": [["TXT": "v=DMARC2; p=reject"]]])
        XCTAssertEqual(typo.status, .fail)
        XCTAssertTrue(typo.summary.contains("looks like DMARC but begins with \"v=DMARC2"), typo.summary)
    }

    func testExtensionTagNamesAndTLSRPTDestinations() throws {
        XCTAssertNoThrow(try MTASTSRecord.parse("v=STSv1; id=20260101; 1ext.name-x=value").get(), "RFC 8461 3.1 extension names")
        XCTAssertNoThrow(try TLSRPTRecord.parse("v=TLSRPTv1; rua=mailto:tls@example.test; ext-1.a=b").get())
        XCTAssertThrowsError(try TLSRPTRecord.parse("v=TLSRPTv1; rua=mailto:abc@cba.com:test").get(), "not a mail address")
        XCTAssertThrowsError(try TLSRPTRecord.parse("v=TLSRPTv1; rua=https:reports").get(), "not an absolute https URL")
        XCTAssertNoThrow(try TLSRPTRecord.parse("v=TLSRPTv1; rua=https://reports.example.test/tlsrpt").get())
        XCTAssertThrowsError(try TLSRPTRecord.parse(" v=TLSRPTv1; rua=mailto:tls@example.test").get())
        XCTAssertThrowsError(try DMARCRecord.parse("v=DMARC1; p-x=reject").get(), "DMARC tag names are letter-first, no hyphen")
    }
}
