import Foundation
import MailDomain
import XCTest
@testable import Policy
@testable import Register
@testable import Report

/// audit.json and index.html are written a Member at a time; what is written must be what the
/// whole encoding and the whole page would have been, and a file appears whole or not at all.
final class StreamedReportTests: XCTestCase {
    private func result(members count: Int) -> AuditResult {
        let evidence = [Evidence(kind: .dns, query: "TXT _dmarc.b.test", result: "NOERROR", data: ["\"v=DMARC1; p=none\""], observedAt: TestPolicy.now)]
        let members = (0..<count).map { index in
            MemberResult(id: "m\(index)", name: "Member \(index)", role: index % 2 == 0 ? "Board" : nil, organisation: "Council \(index % 3)",
                         address: "m\(index)@b.test", domain: "b.test", accountClass: .external, kind: .contact,
                         verdict: index % 2 == 0 ? .nonCompliant : .assessmentDue, reason: "because \(index)",
                         findings: [
                             Finding(control: "dmarc", required: true, status: .fail, title: "DMARC enforcing", severity: "high",
                                     reference: "RFC 9989", explanation: "Receivers act on it.", summary: "p=none", advice: "Set p=reject.",
                                     evidence: []),
                             Finding(control: "email.personal", required: true, status: .pass, title: "Not personal webmail", severity: "high",
                                     reference: "4.3", explanation: "The rule.", summary: "An organisation's domain.", advice: nil,
                                     evidence: evidence),
                         ])
        }
        let domains = count == 0 ? [] : [DomainReport(domain: "b.test", asciiDomain: "b.test", checkedAt: TestPolicy.now,
                                                      checks: [CheckResult(id: "dmarc", status: .fail, summary: "p=none", evidence: evidence)])]
        var result = AuditResult(generatedAt: TestPolicy.now, asOf: TestPolicy.now, backdated: false,
                                 policy: .init(file: "p", sha256: String(repeating: "0", count: 64), implements: "4.3", organisation: "Org", baseline: "b"),
                                 directory: .init(source: "s", profile: "openldap"), members: members, domains: domains, changes: nil,
                                 warnings: ["a warning"])
        result.trend = [TrendPoint(runId: 1, at: TestPolicy.now, counts: result.summary)]
        return result
    }

    private func streamed(_ result: AuditResult) throws -> Data {
        var out = Data()
        try AuditJSON.write(result) { out.append($0) }
        return out
    }

    func testTheStreamedAuditJSONIsTheWholeEncodingByteForByte() throws {
        for count in [0, 1, 7] {
            let result = result(members: count)
            XCTAssertEqual(String(decoding: try streamed(result), as: UTF8.self), String(decoding: try JSONOutput.encode(result), as: UTF8.self),
                           "\(count) Members")
        }
        var changed = result(members: 2)
        changed.changes = RunChanges(previousRunId: 1, previousRunAt: TestPolicy.now, newlyNonCompliant: [], resolved: [], nowExcepted: [],
                                     otherChanges: [], newMembers: [.init(id: "m0", name: "Member 0", from: nil, to: .nonCompliant)], departedMembers: [])
        XCTAssertEqual(try streamed(changed), try JSONOutput.encode(changed))
    }

    /// Schema 3 writes each control's text once, and reading puts it back into every finding.
    func testEachControlsTextIsWrittenOnceAndReadBackIntoEveryFinding() throws {
        let original = result(members: 5)
        let data = try streamed(original)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(json["schema"] as? String, "mailaudit.audit/3")
        let controls = try XCTUnwrap(json["controls"] as? [String: [String: String]])
        XCTAssertEqual(controls["dmarc"], ["title": "DMARC enforcing", "severity": "high", "reference": "RFC 9989", "explanation": "Receivers act on it."])
        let firstFinding = try XCTUnwrap(((json["members"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]])?.first)
        XCTAssertNil(firstFinding["title"], "a finding names its control, whose text is in controls")
        XCTAssertEqual(String(decoding: data, as: UTF8.self).components(separatedBy: "Receivers act on it.").count - 1, 1)

        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let read = try decoder.decode(AuditResult.self, from: data)
        XCTAssertEqual(read.members.map(\.findings), original.members.map(\.findings))
        XCTAssertEqual(read.schema, AuditResult.schemaVersion)
    }

    /// A register keeps the runs of earlier versions: a schema 2 result (text in every finding)
    /// still reads; an unknown schema, or a finding of a control not in the catalogue, is refused.
    func testSchemaTwoStillReadsAndABrokenCatalogueIsRefused() throws {
        let original = result(members: 2)
        var tree = try XCTUnwrap(try JSONSerialization.jsonObject(with: try streamed(original)) as? [String: Any])
        let catalogue = try XCTUnwrap(tree["controls"] as? [String: [String: String]])
        tree["schema"] = "mailaudit.audit/2"
        tree["controls"] = nil
        tree["members"] = (tree["members"] as? [[String: Any]])?.map { member -> [String: Any] in
            var member = member
            member["findings"] = (member["findings"] as? [[String: Any]])?.map { finding -> [String: Any] in
                finding.merging(catalogue[finding["control"] as! String]!) { old, _ in old }
            }
            return member
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let version2 = try decoder.decode(AuditResult.self, from: try JSONSerialization.data(withJSONObject: tree))
        XCTAssertEqual(version2.members.map(\.findings), original.members.map(\.findings))

        tree["schema"] = "mailaudit.audit/9"
        XCTAssertThrowsError(try decoder.decode(AuditResult.self, from: try JSONSerialization.data(withJSONObject: tree))) { error in
            XCTAssertTrue("\(error)".contains("mailaudit.audit/9"), "\(error)")
        }
        var broken = try XCTUnwrap(try JSONSerialization.jsonObject(with: try streamed(original)) as? [String: Any])
        broken["controls"] = ["dmarc": catalogue["dmarc"]!]
        XCTAssertThrowsError(try decoder.decode(AuditResult.self, from: try JSONSerialization.data(withJSONObject: broken))) { error in
            XCTAssertTrue("\(error)".contains("email.personal has no entry in controls"), "\(error)")
        }
    }

    /// Redaction goes a Member at a time through the JSON, which carries no control text: every
    /// finding keeps its control's text, a Member shown by the rule is kept as they were, and
    /// the redacted result writes a report.
    func testRedactionKeepsEachFindingsControlTextAndTheMembersShown() throws {
        var original = result(members: 4)
        original.members[1].accountClass = .organisation
        original.members[1].name = "Alex Shown"
        let redacted = try Redaction.redact(original)
        XCTAssertTrue(redacted.redacted)
        XCTAssertEqual(redacted.members.map(\.findings.count), original.members.map(\.findings.count))
        for (before, after) in zip(original.members, redacted.members) {
            XCTAssertEqual(after.findings.map(\.text), before.findings.map(\.text), before.id)
        }
        XCTAssertEqual(redacted.members[1].name, "Alex Shown")
        XCTAssertEqual(redacted.members[1].address, original.members[1].address)
        XCTAssertEqual(redacted.members[0].name, "M.0. (Council 0)")
        XCTAssertEqual(redacted.members[0].address, "(withheld)@b.test")
        XCTAssertNoThrow(try streamed(redacted))
    }

    func testTheStreamedPageIsTheWholePage() throws {
        let result = result(members: 4)
        var pieces: [String] = []
        HTMLReport.write(result) { pieces.append($0) }
        XCTAssertGreaterThan(pieces.count, 4 * 2, "a piece per Member row and block, not one string")
        XCTAssertEqual(pieces.joined(), HTMLReport.render(result))
        XCTAssertTrue(pieces.joined().hasPrefix("<!DOCTYPE html>") && pieces.joined().hasSuffix("</html>"))
    }

    /// The four files as `audit --out` writes them: the plan row by row, the page in pieces,
    /// each the bytes of its whole rendering; pieces larger than the buffer and smaller ones mixed.
    func testTheReportFilesAreTheirWholeRenderings() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = result(members: 40)
        try ReportFiles.write(result, to: folder.path)
        func file(_ name: String) throws -> Data { try Data(contentsOf: folder.appendingPathComponent(name)) }
        XCTAssertEqual(try file("action-plan.csv"), CSVActionPlan.file(result))
        XCTAssertTrue(try file("action-plan.csv").starts(with: CSVActionPlan.byteOrderMark))
        XCTAssertEqual(try file("index.html"), Data(HTMLReport.render(result).utf8))
        XCTAssertEqual(try file("audit.json"), try streamed(result))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ReportFiles.names.sorted())
        let mixed = folder.appendingPathComponent("mixed.txt").path
        let big = String(repeating: "b", count: 300_000), small = "small\n"
        let stream = try StreamedFile(path: mixed)
        for piece in [small, big, small, small, big, big, small] { stream.write(piece) }
        try stream.commit()
        XCTAssertEqual(try String(contentsOfFile: mixed, encoding: .utf8), [small, big, small, small, big, big, small].joined())
    }

    /// A file written in pieces replaces the old one only when whole; an abandoned one leaves
    /// the old file and no temporary behind.
    func testAStreamedFileAppearsWholeOrNotAtAll() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("streamed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("audit.json").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        do {
            let file = try StreamedFile(path: path)
            file.write(String(repeating: "x", count: 3 << 20))      // past the buffer: some of it is on disk
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old", "not in place before commit")
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old", "abandoned: the old file stays")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["audit.json"], "no temporary left")
        let file = try StreamedFile(path: path)
        file.write("new ")
        file.write(Data("whole".utf8))
        try file.commit()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new whole")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["audit.json"])
        XCTAssertThrowsError(try StreamedFile(path: folder.appendingPathComponent("missing/index.html").path)) { error in
            XCTAssertTrue("\(error)".contains("missing/index.html.partial-"), "\(error)")
        }
    }

    /// The register keeps each run's result as gzip of JSON written a piece at a time: what it
    /// reads back is the result recorded, and the streamed gzip is plain gzip of the pieces.
    func testTheRegisterKeepsTheResultItStreamed() throws {
        let pieces = (0..<5_000).map { Data("piece \($0) \(String(repeating: "x", count: $0 % 700))\n".utf8) }
        let compressed = try GzipStream.compressing { write in pieces.forEach(write) }
        XCTAssertEqual(try AuditRegister.gunzip(compressed), pieces.reduce(Data(), +))
        XCTAssertLessThan(compressed.count, pieces.reduce(0) { $0 + $1.count } / 10)
        XCTAssertEqual(try AuditRegister.gunzip(try GzipStream.compressing { _ in }), Data())

        var compact = Data()
        let original = result(members: 6)
        try StreamedJSON(encoder: AuditRegister.compactEncoder, write: { compact.append($0) }).object(try original.fields())
        XCTAssertEqual(compact, try AuditRegister.compactEncoder.encode(original), "the compact style, byte for byte")
        var domains = Data()
        try StreamedJSON(encoder: AuditRegister.compactEncoder, write: { domains.append($0) }).array(original.domains)
        XCTAssertEqual(domains, try AuditRegister.compactEncoder.encode(original.domains))

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("register-\(UUID().uuidString)/r.sqlite").path
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let register = try AuditRegister(path: path)
        let recorded = try register.record(original)
        let stored = try XCTUnwrap(try register.result(runId: recorded))
        XCTAssertEqual(try JSONOutput.encode(stored.members), try JSONOutput.encode(original.members))
        XCTAssertEqual(stored.members.map(\.findings), original.members.map(\.findings))
        XCTAssertEqual(try JSONOutput.encode(stored.domains), try JSONOutput.encode(original.domains))
    }
}

/// Redaction finds the replacements a text holds by index; what it writes must be what trying
/// every replacement on every text wrote.
final class RedactionIndexTests: XCTestCase {
    private func tryingEach(_ replacements: [Redaction.Replacement], _ text: String) -> String {
        var out = text
        for replacement in replacements where out.range(of: replacement.text, options: replacement.wholeWord ? [] : .caseInsensitive) != nil {
            if replacement.wholeWord {
                // The rule as a regular expression, against which the scan is checked.
                let expression = try! NSRegularExpression(pattern: "(?<![\\p{L}\\p{N}])" + NSRegularExpression.escapedPattern(for: replacement.text) + "(?![\\p{L}\\p{N}])")
                out = expression.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out),
                                                          withTemplate: NSRegularExpression.escapedTemplate(for: replacement.with))
            } else {
                out = out.replacingOccurrences(of: replacement.text, with: replacement.with, options: .caseInsensitive)
            }
        }
        return out
    }

    func testTheIndexFindsWhatTryingEveryReplacementFinds() {
        let replacements = [
            Redaction.Replacement(text: "dana.brooks@gmail.com", with: "(withheld)@gmail.com", wholeWord: false),
            Redaction.Replacement(text: "Cllr Dana Brooks", with: "Cllr D.B. (St Ives)", wholeWord: false),
            Redaction.Replacement(text: "Jürgen Strauß", with: "J.S. (Ely)", wholeWord: false),
            Redaction.Replacement(text: "Brooks", with: "B.", wholeWord: true),
            Redaction.Replacement(text: "Dana", with: "D.", wholeWord: true),
            Redaction.Replacement(text: "Jo", with: "J. (Soham)", wholeWord: false),
            Redaction.Replacement(text: "Kim", with: "K.", wholeWord: true),
        ].sorted { $0.text.count > $1.text.count }
        let texts = [
            "", "no names here", "CLLR DANA BROOKS wrote", "mail DANA.BROOKS@GMAIL.COM now", "Brooks, Dana and Brooksy",
            "jürgen strauß", "JÜRGEN STRAUSS", "Jo and JO and jo", "Kim and \u{212A}im", "ab", "Dan", "x Cllr Dana Brooksx",
            "Cllr Dana Brooks <dana.brooks@gmail.com> (Brooks)", "BrooksBrooks Brooks", "Brooks", "éBrooks Brooks1 _Brooks_ Brooks·x",
            "Kim Kimberley Kim", "Dana\u{301} Dana", "٣Dana Dana٣ (Dana)", "KimKim Kim",
        ]
        let index = Redaction.ReplacementIndex(replacements)
        for text in texts {
            XCTAssertEqual(Redaction.apply(index, to: text), tryingEach(replacements, text), text)
        }
        XCTAssertFalse(Redaction.apply(index, to: "Cllr Dana Brooks").contains("Brooks"))
    }

    /// String values are rewritten wherever they are, escaped or not; keys never.
    func testEveryStringValueOfTheJSONTextIsRewrittenAndNoKey() throws {
        let index = Redaction.ReplacementIndex([Redaction.Replacement(text: "Dana Brooks", with: "D.B.", wholeWord: false)])
        let json = Data(#"{"Dana Brooks":"Dana Brooks","list":["x \"Dana Brooks\" y",1,true,null,"DANA BROOKS\n"],"n":{"k":"Dana\u0020Brooks"}}"#.utf8)
        let rewritten = try XCTUnwrap(try Redaction.rewriteStrings(json, index))
        XCTAssertNil(try Redaction.rewriteStrings(Data(#"{"Dana Brooks":"someone else","n":[1,"Dana"]}"#.utf8), index),
                     "nothing replaced: nil, and the value is kept as it was")
        let tree = try XCTUnwrap(try JSONSerialization.jsonObject(with: rewritten) as? [String: Any])
        XCTAssertEqual(tree["Dana Brooks"] as? String, "D.B.")
        XCTAssertEqual((tree["list"] as? [Any])?.first as? String, "x \"D.B.\" y")
        XCTAssertEqual((tree["list"] as? [Any])?.last as? String, "D.B.\n")
        XCTAssertEqual((tree["n"] as? [String: String])?["k"], "D.B.")
        XCTAssertThrowsError(try Redaction.rewriteStrings(Data(#"{"a":"open"#.utf8), index))
    }
}
