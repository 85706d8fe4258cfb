import Crypto
import Foundation
import GRDB
import MailDomain
import XCTest
@testable import Policy
@testable import Register
@testable import Report

final class ReportWriterTests: XCTestCase {
    private func hostileResult() -> AuditResult {
        let finding = Finding(control: "dmarc", required: true, status: .fail, title: "DMARC", severity: "high", reference: "RFC 7489",
                              explanation: "e", summary: "=HYPERLINK(\"http://evil\")", advice: "+cmd|' /C calc'!A0",
                              evidence: [Evidence(kind: .dns, query: "TXT <script>x</script>", result: "NOERROR", data: ["\"<img onerror=alert(1)>\""])])
        let member = MemberResult(id: "x<1>", name: "<script>alert('m')</script>", role: "@SUM(A1)", organisation: "-2+3",
                                  address: "a@b.test", domain: "b.test", accountClass: .external, kind: .contact,
                                  verdict: .nonCompliant, reason: "| pipes | and *stars*", findings: [finding])
        let domain = DomainReport(domain: "b.test", asciiDomain: "b.test", checkedAt: TestPolicy.now,
                                  checks: [CheckResult(id: "dmarc", status: .fail, summary: "<b>bold</b>", evidence: finding.evidence),
                                           CheckResult(id: "spf", status: .fail, summary: "s", details: .object([("tree", .object([
                                               ("domain", .string("b.test")), ("via", .string("record")),
                                               ("record", .string("v=spf1 include:<svg/onload=alert(2)> -all")), ("lookups", .int(1)),
                                               ("totalLookups", .int(1)), ("voidLookups", .int(0)),
                                               ("problems", .array([.string("<iframe src=x>")])), ("children", .array([])),
                                           ]))]))])
        return AuditResult(generatedAt: TestPolicy.now, asOf: TestPolicy.now, backdated: false,
                           policy: .init(file: "p", sha256: String(repeating: "0", count: 64), implements: "4.3", organisation: "Org & Co", baseline: "b"),
                           directory: .init(source: "s", profile: "openldap"), members: [member], domains: [domain], changes: nil, warnings: [])
    }

    func testHTMLEscapesEverythingFromTheNetwork() {
        let html = HTMLReport.render(hostileResult())
        XCTAssertFalse(html.contains("<script>alert"), "a script from the directory must not reach the page")
        XCTAssertFalse(html.contains("<img onerror"))
        XCTAssertFalse(html.contains("<b>bold</b>"))
        XCTAssertFalse(html.contains("<svg/onload") || html.contains("<iframe"), "the SPF tree is escaped too")
        XCTAssertTrue(html.contains("Record tree:"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;m&#39;)&lt;/script&gt;"))
        XCTAssertEqual(html.components(separatedBy: "<script>").count - 1, 1, "only the report's own script")
        XCTAssertFalse(html.contains("http://") && html.contains("src=\"http"), "no external resources")
    }

    func testCSVNeutralisesFormulas() {
        let csv = CSVActionPlan.render(hostileResult())
        let row = csv.components(separatedBy: "\r\n")[1]
        XCTAssertTrue(row.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), row)
        XCTAssertTrue(row.contains("'+cmd|' /C calc'!A0"), row)
        XCTAssertTrue(row.contains("'@SUM(A1)"), row)
        XCTAssertTrue(row.contains("'-2+3"), row)
        XCTAssertEqual(Escape.csv("a,b"), "\"a,b\"")
        XCTAssertEqual(Escape.csv("line\nbreak"), "\"line\nbreak\"")
    }

    /// Bidirectional controls and control bytes from the directory or DNS are shown as escapes in
    /// every format (as on a terminal), so "evil\u{202E}txt.exe" cannot display as "evilexe.txt".
    func testBidiAndControlCharactersAreVisibleInEveryOutput() throws {
        var result = hostileResult()
        result.members[0].name = "Cllr evil\u{202E}txt.exe\u{1B}[31m\u{0}"
        result.members[0].reason = "Non-compliant: \u{2066}isolate\u{2069} " + String(repeating: "x", count: 10_000)
        let html = HTMLReport.render(result)
        let csv = CSVActionPlan.render(result)
        let markdown = MarkdownReport.render(result)
        for (format, text) in [("HTML", html), ("CSV", csv), ("Markdown", markdown)] {
            for raw in ["\u{202E}", "\u{2066}", "\u{2069}", "\u{1B}", "\u{0}"] {
                XCTAssertFalse(text.unicodeScalars.contains(raw.unicodeScalars.first!), "\(format) passes on U+\(String(raw.unicodeScalars.first!.value, radix: 16))")
            }
        }
        XCTAssertTrue(html.contains("evil\\u{202e}txt.exe\\x1b[31m\\x00"), "shown as on a terminal")
        XCTAssertTrue(csv.contains("evil\\u{202e}txt.exe\\x1b[31m\\x00"), csv.prefix(400).description)
        XCTAssertTrue(html.contains("overflow-wrap:anywhere"), "a 10 KB value wraps instead of widening the page")
    }

    /// The report runs nothing but its own style and script, each allowed by its hash.
    func testTheHTMLReportCarriesAContentSecurityPolicy() throws {
        let html = HTMLReport.render(hostileResult())
        let policy = try XCTUnwrap(html.components(separatedBy: "http-equiv=\"Content-Security-Policy\" content=\"").dropFirst().first?
            .components(separatedBy: "\"").first)
        XCTAssertTrue(policy.hasPrefix("default-src 'none'; "), policy)
        func hash(_ text: String) -> String { Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString() }
        let style = try XCTUnwrap(html.components(separatedBy: "<style>").dropFirst().first?.components(separatedBy: "</style>").first)
        let script = try XCTUnwrap(html.components(separatedBy: "<script>").dropFirst().first?.components(separatedBy: "</script>").first)
        XCTAssertTrue(policy.contains("style-src 'sha256-\(hash(style))'"), policy)
        XCTAssertTrue(policy.contains("script-src 'sha256-\(hash(script))'"), policy)
        XCTAssertFalse(html.contains(" style=\""), "no inline style attributes: the policy would block them")
    }

    func testMarkdownEscapes() {
        let markdown = MarkdownReport.render(hostileResult())
        XCTAssertTrue(markdown.contains("\\| pipes \\| and \\*stars\\*"), markdown)
        XCTAssertTrue(markdown.contains("&lt;script&gt;"), markdown)
        XCTAssertTrue(markdown.contains("Org &amp; Co"))
    }

    func testRegisterRecordsRunsInTransactions() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("register-\(UUID().uuidString)/r.sqlite").path
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let register = try AuditRegister(path: path)
        XCTAssertNil(try register.previousRun())
        var result = hostileResult()
        try register.record(result)
        let last = try XCTUnwrap(try register.previousRun())
        XCTAssertEqual(last.entries, [PreviousRun.Entry(id: "x<1>", name: "<script>alert('m')</script>", verdict: .nonCompliant)])
        result.members[0].verdict = .compliant
        try register.record(result)
        XCTAssertEqual(try register.runs().map(\.id), [2, 1])
        XCTAssertEqual(try register.runs().first?.summary["compliant"], 1)
        // Reopening runs the migrations again, harmlessly.
        XCTAssertEqual(try AuditRegister(path: path).runs().count, 2)
        // A directory that repeats an id keeps one row a Member: rows are never replaced.
        var broken = result
        broken.members.append(broken.members[0])
        broken.members[1].verdict = .unknown
        XCTAssertNoThrow(try register.record(broken))
        XCTAssertEqual(try register.runs().count, 3)
        XCTAssertEqual(try register.runs(withMembers: true).first?.members?.map(\.verdict), ["compliant"])
        // Runs and their rows are append-only: the database refuses edits and deletions.
        let database = try DatabaseQueue(path: path)
        XCTAssertThrowsError(try database.write { try $0.execute(sql: "UPDATE auditRun SET memberCount = 0") })
        XCTAssertThrowsError(try database.write { try $0.execute(sql: "DELETE FROM auditRun") })
        XCTAssertThrowsError(try database.write { try $0.execute(sql: "UPDATE auditRunMember SET verdict = 'compliant'") })
        XCTAssertThrowsError(try database.write { try $0.execute(sql: "DELETE FROM auditRunMember") })
        XCTAssertEqual(try register.integrityCheck(), "ok")
    }

    /// A backdated run is kept in the history but is never the run compared with.
    func testBackdatedRunsAreNeverThePreviousRun() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("register-\(UUID().uuidString)/r.sqlite").path
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let register = try AuditRegister(path: path)
        var current = hostileResult()
        current.generatedAt = TestPolicy.now
        let first = try register.record(current)
        var past = hostileResult()
        past.generatedAt = TestPolicy.now.addingTimeInterval(3600)
        past.asOf = TestPolicy.now.addingTimeInterval(-90 * 86_400)
        past.backdated = true
        past.members[0].verdict = .compliant
        let backdated = try register.record(past)
        XCTAssertEqual(try register.previousRun()?.id, first, "changes compare with the latest run that judged its own day")
        XCTAssertEqual(try register.runs().map(\.id), [backdated, first], "history is ordered by when runs happened")
        XCTAssertEqual(try register.runs().first?.backdated, true)
        XCTAssertEqual(try register.latestRunEntry(memberId: "x<1>")?.runId, first, "grants are checked against the latest real run")
    }
}
