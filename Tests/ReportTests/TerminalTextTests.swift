import XCTest
import MailDomain
@testable import Report

final class TerminalTextTests: XCTestCase {
    func testControlCharactersAreMadeVisible() {
        XCTAssertEqual(TerminalText.sanitize("ok\u{1B}[31mred\u{7}\r\n"), "ok\\x1b[31mred\\x07\\x0d\\x0a")
        XCTAssertEqual(TerminalText.sanitize("abc\u{202E}fed"), "abc\\u{202e}fed")
        XCTAssertEqual(TerminalText.sanitize("\u{9B}2J"), "\\x9b2J", "C1 CSI")
        XCTAssertEqual(TerminalText.sanitize("Bücher"), "Bücher")
    }

    func testRenderedReportCarriesNoRawEscapesFromTheNetwork() {
        let check = CheckResult(id: "spf", status: .fail, summary: "record \u{1B}]0;pwned\u{7}",
                                advice: "fix \u{1B}[2J", details: .object([("record", .string("v=spf1 \u{1B}[31m"))]),
                                evidence: [Evidence(kind: .dns, query: "TXT x\u{1B}", result: "NOERROR", data: ["\u{1B}[1m"])])
        let report = DomainReport(domain: "evil\u{1B}.test", asciiDomain: "evil.test", checkedAt: Date(), checks: [check])
        let text = DomainReportText(colour: false, verbose: true).render([report])
        XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, text)
    }
}
