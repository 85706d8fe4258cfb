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

    func testSPFTreeOutlineShowsWhereTheLookUpsGo() {
        func node(_ domain: String, via: String, own: Int, total: Int, void: Int = 0, problems: [String] = [], children: [JSONValue] = []) -> JSONValue {
            .object([("domain", .string(domain)), ("via", .string(via)), ("record", .string("v=spf1 …")), ("lookups", .int(own)),
                     ("totalLookups", .int(total)), ("voidLookups", .int(void)), ("problems", .array(problems.map(JSONValue.string))),
                     ("children", .array(children))])
        }
        let tree = node("x.test", via: "record", own: 2, total: 5, children: [
            node("a.test", via: "include:a.test", own: 1, total: 1, void: 1, problems: ["a.test: a: a void look-up (a.test has no A record)"]),
            node("b.test", via: "redirect=b.test", own: 2, total: 2),
        ])
        let lines = SPFTreeOutline.lines(.object([("tree", tree)]))
        XCTAssertEqual(lines.map(\.text), [
            "x.test (2 look-ups here, 5 with what it includes): v=spf1 …",
            "include:a.test (1 look-up, 1 void): v=spf1 …",
            "a.test: a: a void look-up (a.test has no A record)",
            "redirect=b.test (2 look-ups): v=spf1 …",
        ])
        XCTAssertEqual(lines.map(\.depth), [0, 1, 2, 1])
        XCTAssertEqual(lines.map(\.isRemark), [false, false, true, false])
        XCTAssertTrue(SPFTreeOutline.lines(.object([("tree", .null)])).isEmpty, "no record, no tree")
    }
}
