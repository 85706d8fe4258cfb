import Foundation
import MailDomain
import XCTest
@testable import Report

/// check-domain writes each domain's report with its own writer: the bytes must be the
/// encoder's, whatever the report holds.
final class DomainReportJSONTests: XCTestCase {
    /// Every ASCII octet, text beyond it, and the characters JSON writers differ on.
    private static let hostile: String = {
        var text = ""
        for byte in 0..<0x80 { text.unicodeScalars.append(UnicodeScalar(UInt8(byte))) }
        return text + "\u{2028}\u{2029}\u{FEFF}é😀 </script> \\u0000 \"quoted\" https://a.test/b"
    }()

    private func report(_ index: Int) -> DomainReport {
        let when = Date(timeIntervalSince1970: 1_764_740_000 + Double(index) * 0.37)
        let nearlyNext = Date(timeIntervalSince1970: 1_764_740_000.9999)
        let details: JSONValue = .object([
            ("zeta", .array([.int(-1), .int(Int.max), .bool(true), .bool(false), .null, .string(Self.hostile)])),
            ("alpha", .object([])), ("empty", .array([])), ("Upper", .string("")),
            ("nested", .object([("b", .object([("c", .array([.array([]), .object([("x", .int(0))])]))])), ("a", .string("/"))])),
            ("fraction", .double(0.1)), ("whole", .double(3)), ("big", .double(1e20)),
            ("twice", .object([("k", .int(1)), ("k", .int(2))])),
            ("notASCII", .object([("é", .int(1)), ("e", .int(2))])),
        ])
        let evidence = [
            Evidence(kind: .dns, query: "TXT \(Self.hostile)", result: "NOERROR", data: ["\"v=spf1 -all\"", Self.hostile], observedAt: when),
            Evidence(kind: .http, query: "GET https://mta-sts.a.test/.well-known/mta-sts.txt", result: "error: x", data: [], observedAt: when),
            Evidence(kind: .dns, query: "A a.test", result: "NXDOMAIN", observedAt: nearlyNext),
            Evidence(kind: .dns, query: "A b.test", result: "NXDOMAIN", observedAt: Date(timeIntervalSince1970: -0.5)),
        ]
        return DomainReport(domain: "Dömain\(index).test", asciiDomain: "xn--dmain-jua.test", checkedAt: when, checks: [
            CheckResult(id: "mx", status: .pass, summary: Self.hostile, advice: nil, details: details, evidence: evidence),
            CheckResult(id: "spf", status: .notPresent, summary: "none", advice: "Publish \"v=spf1\".", details: .object([]), evidence: []),
            CheckResult(id: "dkim", status: .error, summary: "", advice: "", details: .array([]), evidence: evidence),
        ])
    }

    private func streamed(_ reports: [DomainReport]) throws -> Data {
        var out = Data()
        var writer = JSONOutput.ArrayWriter { out.append($0) }
        for report in reports { try writer.append(report) }
        writer.finish()
        return out
    }

    func testTheWriterGivesTheEncodersBytes() throws {
        for count in [0, 1, 3] {
            let reports = (0..<count).map(report)
            let mine = try streamed(reports)
            let encoder = try JSONOutput.encode(reports)
            XCTAssertEqual(String(decoding: mine, as: UTF8.self), String(decoding: encoder, as: UTF8.self), "\(count) reports")
        }
    }

    /// The writer keeps one buffer from element to element: a short element after a long one
    /// carries nothing of it, and elements the encoder writes go through the same buffer.
    func testAShortElementAfterALongOneIsItselfAlone() throws {
        var long = report(0)
        long.checks[0].summary = String(repeating: "long ", count: 4_000)
        let short = DomainReport(domain: "s.test", asciiDomain: "s.test", checkedAt: Date(timeIntervalSince1970: 0), checks: [])
        XCTAssertEqual(try streamed([long, short, long]), try JSONOutput.encode([long, short, long]))

        var out = Data()
        var writer = JSONOutput.ArrayWriter { out.append($0) }
        for words in [["a much longer first element", "with two strings"], ["b"]] { try writer.append(words) }
        writer.finish()
        XCTAssertEqual(String(decoding: out, as: UTF8.self), String(decoding: try JSONOutput.encode([["a much longer first element", "with two strings"], ["b"]]), as: UTF8.self))
    }

    func testEveryCharacterIsEscapedAsTheEncoderEscapesIt() throws {
        var text = ""
        for scalar in (0..<0x800).compactMap(UnicodeScalar.init) { text.unicodeScalars.append(scalar) }
        let report = DomainReport(domain: text, asciiDomain: "a.test", checkedAt: Date(timeIntervalSince1970: 0),
                                  checks: [CheckResult(id: text, status: .warn, summary: text, advice: text, details: .string(text))])
        XCTAssertEqual(try streamed([report]), try JSONOutput.encode([report]))
    }

    func testAReportReadBackIsTheReportWritten() throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let back = try decoder.decode([DomainReport].self, from: try streamed([report(1)]))
        XCTAssertEqual(back.first?.checks.map(\.summary), report(1).checks.map(\.summary))
        XCTAssertEqual(back.first?.checks.first?.evidence.first?.data, report(1).checks.first?.evidence.first?.data)
    }
}
