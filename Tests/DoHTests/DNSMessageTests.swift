import XCTest
@testable import DoH

/// Builds DNS responses byte by byte, so that the parser meets exactly the message intended,
/// including ones no real server would send.
struct ResponseBuilder {
    var bytes: [UInt8] = []

    init(id: UInt16 = 0, flags: UInt16 = 0x8180, questions: UInt16 = 1, answers: UInt16 = 0, authority: UInt16 = 0) {
        for value in [id, flags, questions, answers, authority, 0] { u16(value) }
    }

    mutating func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
    mutating func u32(_ value: UInt32) { u16(UInt16(value >> 16)); u16(UInt16(value & 0xFFFF)) }
    mutating func name(_ text: String) {
        for label in text.split(separator: ".") { bytes.append(UInt8(label.utf8.count)); bytes += Array(label.utf8) }
        bytes.append(0)
    }
    mutating func pointer(to offset: Int) { bytes += [0xC0 | UInt8(offset >> 8), UInt8(offset & 0xFF)] }
    mutating func question(_ text: String, _ type: RecordType) { name(text); u16(type.rawValue); u16(1) }
    /// A resource record whose owner is a pointer to the question name (offset 12).
    mutating func record(_ type: RecordType, ttl: UInt32 = 300, data: [UInt8]) {
        pointer(to: 12); u16(type.rawValue); u16(1); u32(ttl); u16(UInt16(data.count)); bytes += data
    }
}

final class DNSMessageTests: XCTestCase {
    func testQueryEncoding() throws {
        let query = try DNSQueryEncoder.encode(name: "Example.ORG.", type: .txt)
        XCTAssertEqual(Array(query[0..<4]), [0, 0, 0x01, 0x20], "ID 0, RD and AD set")
        XCTAssertEqual(Array(query[12...]), [7] + Array("example".utf8) + [3] + Array("org".utf8) + [0, 0, 16, 0, 1])
    }

    /// ASCII names are read octet by octet; other text by character, where a dot joined to the
    /// character before it (U+0600 is a prefix to what follows) is that label's, not a separator.
    func testNamesAreSplitAtTheirDotsAndNowhereElse() throws {
        XCTAssertEqual(DNSName.presentation("Mail.Example.ORG."), "mail.example.org")
        XCTAssertEqual(DNSName.presentation("a b.\u{7F}.x_y-*"), "a\\032b.\\127.x_y-*")
        XCTAssertEqual(DNSName.presentation("é.test"), "\\195\\169.test")
        XCTAssertEqual(DNSName.presentation("\u{600}.test"), "\\216\\128\\046test", "one label: its dot is escaped")
        XCTAssertEqual(DNSName.presentation("a..b"), "a..b")
        let joined = try DNSQueryEncoder.encode(name: "\u{600}.test", type: .a)
        XCTAssertEqual(Array(joined[12...]), [7, 0xD8, 0x80] + Array(".test".utf8) + [0, 0, 1, 0, 1])
        let split = try DNSQueryEncoder.encode(name: "é.test", type: .a)
        XCTAssertEqual(Array(split[12...]), [2, 0xC3, 0xA9, 4] + Array("test".utf8) + [0, 0, 1, 0, 1])
        XCTAssertEqual(DNSName.normalize("already.lower"), "already.lower")
        XCTAssertEqual(DNSName.normalize("ÉCOLE.Test."), "école.test")
    }

    func testQueryRejectsOverlongNames() {
        XCTAssertThrowsError(try DNSQueryEncoder.encode(name: String(repeating: "a", count: 64) + ".org", type: .a))
        let long = Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: ".")
        XCTAssertThrowsError(try DNSQueryEncoder.encode(name: long, type: .a))
        XCTAssertThrowsError(try DNSQueryEncoder.encode(name: "a..b", type: .a))
    }

    /// The wire form at the limits: a label of 63 octets and a name of 255 in all are written,
    /// one more is refused with the reason, and a refused name leaves the message as it was.
    func testNamesAreWrittenUpToTheirLimitsAndRefusedPastThem() throws {
        func wire(_ name: String) throws -> [UInt8] { Array(try DNSQueryEncoder.encode(name: name, type: .a)[12...].dropLast(4)) }
        func reason(_ name: String) -> String? {
            var message: [UInt8] = [9, 9]
            do { try DNSName.appendWire(name, to: &message); return nil } catch {
                XCTAssertEqual(message, [9, 9], "a refused name leaves the message as it was: \(name)")
                guard case let DNSQueryError.invalidName(_, why) = error else { return "\(error)" }
                return why
            }
        }
        let label63 = String(repeating: "a", count: 63)
        XCTAssertEqual(try wire(label63 + ".b"), [63] + Array(label63.utf8) + [1, UInt8(ascii: "b"), 0])
        XCTAssertEqual(try wire("x"), [1, UInt8(ascii: "x"), 0])
        XCTAssertEqual(try wire(""), [0], "the root")
        XCTAssertEqual(try wire("A.B-c._d"), [1, 97, 3, 98, 45, 99, 2, 95, 100, 0], "lower case, every octet kept")
        // 255 octets in all: four labels of 62 and one of 1 (4 × 63 + 2 + the root's 1).
        let full = Array(repeating: String(repeating: "c", count: 62), count: 4).joined(separator: ".") + ".d"
        XCTAssertEqual(try wire(full).count, 255)
        XCTAssertEqual(reason(full + "e"), "longer than 255 octets")
        XCTAssertEqual(reason(String(repeating: "a", count: 64) + ".b"), "a label is longer than 63 octets")
        XCTAssertEqual(reason("a..b"), "empty label")
        XCTAssertEqual(reason(".a"), "empty label")
        XCTAssertEqual(reason("a.b.."), "empty label")
        XCTAssertEqual(reason(String(repeating: "a", count: 64) + "..b"), "a label is longer than 63 octets", "the first fault in order")
        XCTAssertEqual(reason("é." + String(repeating: "a", count: 64)), "a label is longer than 63 octets")
    }

    func testTXTStringsAreJoinedWithNothingBetween() throws {
        var builder = ResponseBuilder(answers: 1)
        builder.question("example.org", .txt)
        let first = Array("v=spf1 include:a.example".utf8), second = Array(" -all".utf8)
        builder.record(.txt, data: [UInt8(first.count)] + first + [UInt8(second.count)] + second)
        let message = try DNSMessageParser.parse(builder.bytes)
        let lookup = DNSLookup.from(message: message, name: "example.org", type: .txt)
        XCTAssertEqual(lookup.status, .found)
        XCTAssertEqual(lookup.texts, ["v=spf1 include:a.example -all"])
    }

    /// One string, several, an empty list and a string split inside a multi-byte character all
    /// join to the same text; bytes that are not UTF-8 become U+FFFD, as before.
    func testJoinedTextIsTheStringsBytesDecodedTogether() {
        func joined(_ strings: [[UInt8]]) -> String? {
            ResourceRecord(name: "a.test", type: .txt, ttl: 0, data: .txt(strings)).joinedText
        }
        XCTAssertEqual(joined([Array("v=DMARC1; p=reject".utf8)]), "v=DMARC1; p=reject")
        XCTAssertEqual(joined([Array("v=spf1 ".utf8), [], Array("-all".utf8)]), "v=spf1 -all")
        XCTAssertEqual(joined([]), "")
        let e = Array("é".utf8)
        XCTAssertEqual(joined([[e[0]], [e[1]]]), "é", "a character split between two strings is whole again")
        XCTAssertEqual(joined([[0x61, 0xFF]]), "a\u{FFFD}")
        XCTAssertNil(ResourceRecord(name: "a.test", type: .a, ttl: 0, data: .a([127, 0, 0, 1])).joinedText)
    }

    func testCompressionPointersAreFollowed() throws {
        var builder = ResponseBuilder(answers: 1)
        builder.question("example.org", .mx)
        // MX exchange "mail" + pointer to "example.org" at offset 12.
        var data: [UInt8] = [0, 10, 4] + Array("mail".utf8)
        data += [0xC0, 12]
        builder.record(.mx, data: data)
        let message = try DNSMessageParser.parse(builder.bytes)
        XCTAssertEqual(message.answers.first?.data, .mx(preference: 10, exchange: "mail.example.org"))
    }

    func testPointerLoopsAreRejected() {
        var builder = ResponseBuilder(answers: 1)
        builder.question("example.org", .cname)
        // A name that points at itself.
        let start = builder.bytes.count
        builder.pointer(to: start)
        XCTAssertThrowsError(try DNSMessageParser.parse(builder.bytes)) { error in
            XCTAssertEqual(error as? DNSParseError, .badPointer(at: start))
        }
        // Two pointers that point at each other: the second must go backwards, so it is refused.
        var pair = ResponseBuilder(answers: 1)
        pair.question("example.org", .cname)
        let owner = pair.bytes.count
        pair.pointer(to: owner + 12)
        pair.u16(5); pair.u16(1); pair.u32(1); pair.u16(2)
        pair.pointer(to: owner)
        XCTAssertThrowsError(try DNSMessageParser.parse(pair.bytes))
    }

    /// Each owner a pointer to the previous owner: every name would walk back through all the
    /// earlier ones, and a 64 KiB answer of them would cost its length squared. A name has at
    /// most 127 labels, so a 128th pointer is refused; a short chain is still followed.
    func testLongPointerChainsAreRefused() throws {
        func chained(_ count: Int) -> [UInt8] {
            var builder = ResponseBuilder(answers: UInt16(count))
            builder.question("example.org", .a)
            var previous = 12
            for _ in 0..<count {
                let here = builder.bytes.count
                builder.pointer(to: previous)
                builder.u16(RecordType.a.rawValue); builder.u16(1); builder.u32(300); builder.u16(4)
                builder.bytes += [127, 0, 0, 1]
                previous = here
            }
            return builder.bytes
        }
        let short = try DNSMessageParser.parse(chained(127))
        XCTAssertEqual(short.answers.count, 127)
        XCTAssertEqual(short.answers.last?.name, "example.org")
        XCTAssertThrowsError(try DNSMessageParser.parse(chained(128))) { error in
            guard case .badPointer? = error as? DNSParseError else { return XCTFail("\(error)") }
        }
    }

    func testReservedLabelTypesAreRejected() {
        var builder = ResponseBuilder()
        builder.bytes += [0x41, 0]   // 0x40: extended label type
        builder.u16(1); builder.u16(1)
        XCTAssertThrowsError(try DNSMessageParser.parse(builder.bytes))
    }

    func testEveryTruncationOfAValidResponseFailsCleanly() throws {
        var builder = ResponseBuilder(answers: 2)
        builder.question("example.org", .txt)
        builder.record(.txt, data: [5] + Array("hello".utf8))
        builder.record(.txt, data: [3] + Array("abc".utf8) + [2] + Array("de".utf8))
        XCTAssertNoThrow(try DNSMessageParser.parse(builder.bytes))
        for length in 0..<builder.bytes.count {
            XCTAssertThrowsError(try DNSMessageParser.parse(Array(builder.bytes.prefix(length))), "prefix of \(length) bytes")
        }
    }

    func testTXTStringRunningPastItsRecordIsRejected() {
        var builder = ResponseBuilder(answers: 1)
        builder.question("example.org", .txt)
        builder.record(.txt, data: [200] + Array("short".utf8))
        XCTAssertThrowsError(try DNSMessageParser.parse(builder.bytes))
    }

    func testRandomBytesNeverCrashTheParser() {
        var generator = SplitMix64(seed: 0x6D61_696C)
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 300)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if bytes.count > 12 { bytes[4] = 0; bytes[5] = 1 }   // one question, so parsing goes deeper
            _ = try? DNSMessageParser.parse(bytes)
        }
    }

    func testNearlyMaximalTXTRecord() throws {
        var builder = ResponseBuilder(answers: 1)
        builder.question("big.example", .txt)
        let chunk = [UInt8(255)] + [UInt8](repeating: UInt8(ascii: "x"), count: 255)
        builder.record(.txt, data: Array(Array(repeating: chunk, count: 250).joined()))
        let lookup = DNSLookup.from(message: try DNSMessageParser.parse(builder.bytes), name: "big.example", type: .txt)
        XCTAssertEqual(lookup.texts.first?.count, 250 * 255)
    }

    func testBinaryBytesInTXTAreKeptAndEscapedForDisplay() throws {
        var builder = ResponseBuilder(answers: 1)
        builder.question("example.org", .txt)
        builder.record(.txt, data: [4, 0x00, 0x1B, 0xFF, UInt8(ascii: "\"")])
        let record = try XCTUnwrap(try DNSMessageParser.parse(builder.bytes).answers.first)
        XCTAssertEqual(record.data, .txt([[0x00, 0x1B, 0xFF, UInt8(ascii: "\"")]]))
        XCTAssertEqual(record.presentation, #""\000\027\255\"""#)
    }

    func testResponseCodesAreToldApart() throws {
        func lookup(flags: UInt16, answers: Bool = false) throws -> DNSLookup {
            var builder = ResponseBuilder(flags: flags, answers: answers ? 1 : 0)
            builder.question("example.org", .a)
            if answers { builder.record(.a, data: [192, 0, 2, 1]) }
            return DNSLookup.from(message: try DNSMessageParser.parse(builder.bytes), name: "example.org", type: .a)
        }
        XCTAssertEqual(try lookup(flags: 0x8180, answers: true).status, .found)
        XCTAssertEqual(try lookup(flags: 0x8180).status, .noData)
        XCTAssertEqual(try lookup(flags: 0x8183).status, .nxDomain)
        XCTAssertTrue(try lookup(flags: 0x8182).isError, "SERVFAIL is an error, not absence")
        XCTAssertTrue(try lookup(flags: 0x8185).isError, "REFUSED is an error, not absence")
        XCTAssertTrue(try lookup(flags: 0x0180, answers: true).isError, "a query is not a response")
        XCTAssertTrue(try lookup(flags: 0x8380, answers: true).isError, "a truncated answer is not used")
        XCTAssertTrue(try lookup(flags: 0x81A0, answers: true).authenticated)
    }

    func testAnswerToAnotherQuestionIsAnError() throws {
        var builder = ResponseBuilder(answers: 1)
        builder.question("other.org", .a)
        builder.record(.a, data: [192, 0, 2, 1])
        let lookup = DNSLookup.from(message: try DNSMessageParser.parse(builder.bytes), name: "example.org", type: .a)
        XCTAssertTrue(lookup.isError)
    }

    func testCNAMEChainsAreFollowedAndLoopsCaught() throws {
        var builder = ResponseBuilder(answers: 2)
        builder.question("www.example.org", .a)
        let alias = [4] + Array("host".utf8) + [0xC0, 16]   // host.example.org (offset 16 = "example.org")
        builder.record(.cname, data: alias)
        // host.example.org A, owner written out in full.
        builder.name("host.example.org"); builder.u16(1); builder.u16(1); builder.u32(60); builder.u16(4)
        builder.bytes += [192, 0, 2, 7]
        let lookup = DNSLookup.from(message: try DNSMessageParser.parse(builder.bytes), name: "www.example.org", type: .a)
        XCTAssertEqual(lookup.status, .found)
        XCTAssertEqual(lookup.cnameChain, ["host.example.org"])
        XCTAssertEqual(lookup.records.first?.data, .a([192, 0, 2, 7]))

        var loop = ResponseBuilder(answers: 1)
        loop.question("www.example.org", .a)
        loop.record(.cname, data: [0xC0, 12])   // www.example.org CNAME www.example.org
        XCTAssertTrue(DNSLookup.from(message: try DNSMessageParser.parse(loop.bytes), name: "www.example.org", type: .a).isError)
    }

    func testHostileLabelsCannotForgeDots() throws {
        var builder = ResponseBuilder(answers: 1)
        builder.question("example.org", .ptr)
        builder.record(.ptr, data: [5] + Array("a.b\u{1B}c".utf8) + [0])
        let record = try XCTUnwrap(try DNSMessageParser.parse(builder.bytes).answers.first)
        XCTAssertEqual(record.data, .name("a\\046b\\027c"))
        XCTAssertEqual(DNSName.unescape("a\\046b\\027c"), "a.b\u{1B}c")
    }

    /// A name asked with unusual octets (an SPF macro can make "[1.2.3.5]" or "foo:bar") is
    /// matched against the question the server echoes, escaped once, not refused.
    func testQuestionsWithUnusualOctetsAreMatched() throws {
        for name in ["[1.2.3.5]", "foo:bar.example.org", "macro%percent  space.example.org", "back\\slash.example.org", "Ärger.Example.ORG"] {
            var builder = ResponseBuilder(answers: 1)
            builder.question(name, .a)
            builder.record(.a, data: [192, 0, 2, 1])
            let lookup = DNSLookup.from(message: try DNSMessageParser.parse(builder.bytes), name: name, type: .a)
            XCTAssertEqual(lookup.status, .found, name)
            XCTAssertEqual(DNSName.unescape(DNSName.presentation(name)), String(name.map { $0.isASCII ? Character($0.lowercased()) : $0 }))
        }
        XCTAssertNil(DNSName.unescape("caf\\200.example.org"), "octets that are not UTF-8 cannot be asked as text")
        XCTAssertEqual(DNSName.unescape("not\\12.escape"), "not\\12.escape", "an incomplete escape stays as it is")
    }
}

/// A small deterministic generator, so the random test is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
