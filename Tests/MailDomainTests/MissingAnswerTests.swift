import DoH
import Foundation
import XCTest
@testable import MailDomain

/// A conclusion that needed an answer which could not be had is `error`; a failure found without
/// it stands. (In memory; the same faults through DNS-over-HTTPS are in FaultInjectionTests.)
final class MissingAnswerTests: XCTestCase {
    static let weakKey = "v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANKu3lICe7fuk6DLdqPfLPxbgho2vMAGBw/jC6dq3f6QwEGIMLZijgr5D/YRdP5TmpJ1zhrGSEAo7pm3X8CLVP0CAwEAAQ=="

    private func settings(selectors: [String]) -> DomainCheckSettings {
        var settings = DomainCheckSettings()
        settings.dkimSelectors = selectors
        return settings
    }

    func testAWeakDKIMKeyFailsWhateverElseFailed() async {
        let resolver = SuiteResolver(zone: ["weak._domainkey.c.test": [["TXT": Self.weakKey]], "broken._domainkey.c.test": ["TIMEOUT"]])
        let result = await DKIMCheck(resolver: resolver, settings: settings(selectors: ["weak", "broken"])).run("c.test")
        XCTAssertEqual(result.status, .fail, result.summary)
    }

    func testAFailedSelectorLookUpWithNoDecisiveKeyIsAnError() async {
        let resolver = SuiteResolver(zone: ["c.test": [["A": "192.0.2.1"]], "broken._domainkey.c.test": ["TIMEOUT"]])
        let nothing = await DKIMCheck(resolver: resolver, settings: settings(selectors: ["absent", "broken"])).run("c.test")
        XCTAssertEqual(nothing.status, .error, "not 'no key among the selectors tried': one selector was not answered")
        XCTAssertTrue(nothing.summary.contains("the DKIM selector broken"), nothing.summary)
    }

    func testAnMXHostWhoseAddressCouldNotBeLookedUpIsAnError() async {
        let resolver = SuiteResolver(zone: ["c.test": [["MX": [10, "mx.c.test"]]], "mx.c.test": ["TIMEOUT"]])
        let check = MXCheck(resolver: resolver)
        let result = await check.run(await check.observe("c.test"))
        XCTAssertEqual(result.status, .error, result.summary)
        XCTAssertTrue(result.summary.contains("the addresses of mx.c.test"), result.summary)
    }

    func testADMARCReportAuthorisationThatCouldNotBeLookedUpIsAnError() async {
        let resolver = SuiteResolver(zone: [
            "_dmarc.c.test": [["TXT": "v=DMARC1; p=reject; rua=mailto:reports@other.test"]],
            "c.test._report._dmarc.other.test": ["TIMEOUT"],
        ])
        let result = await DMARCCheck(resolver: resolver, settings: DomainCheckSettings()).run("c.test")
        XCTAssertEqual(result.status, .error, result.summary)
        let weak = SuiteResolver(zone: [
            "_dmarc.c.test": [["TXT": "v=DMARC1; p=none; rua=mailto:reports@other.test"]],
            "c.test._report._dmarc.other.test": ["TIMEOUT"],
        ])
        let none = await DMARCCheck(resolver: weak, settings: DomainCheckSettings()).run("c.test")
        XCTAssertEqual(none.status, .fail, "p=none fails whether or not the authorisation was answered")
    }

    func testTheRuleItself() {
        let pass = CheckResult(id: "x", status: .pass, summary: "Fine.")
        let missing = [MissingAnswer(what: "the MX records", why: "SERVFAIL")]
        XCTAssertEqual(pass.unless(missing: missing).status, .error)
        XCTAssertNil(pass.unless(missing: missing).advice)
        XCTAssertEqual(CheckResult(id: "x", status: .fail, summary: "Bad.").unless(missing: missing).status, .fail)
        for status in [CheckStatus.warn, .notPresent, .notApplicable] {
            XCTAssertEqual(CheckResult(id: "x", status: status, summary: "s").unless(missing: missing).status, .error)
        }
        XCTAssertEqual(pass.unless(missing: []).status, .pass)
    }
}
