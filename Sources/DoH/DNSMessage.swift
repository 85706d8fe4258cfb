/// Builds RFC 1035 query messages for DNS-over-HTTPS (RFC 8484).
public enum DNSQueryEncoder {
    /// A query with ID 0 (RFC 8484 4.1: cache-friendly) and the RD and AD bits set: AD asks the
    /// resolver to say whether it validated the answer with DNSSEC (RFC 6840 5.7).
    public static func encode(name: String, type: RecordType) throws -> [UInt8] {
        var message: [UInt8] = []
        message.reserveCapacity(12 + name.utf8.count + 6)   // one allocation for the whole query
        message.append(contentsOf: [0, 0, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 0])
        try DNSName.appendWire(name, to: &message)
        message.append(UInt8(type.rawValue >> 8))
        message.append(UInt8(type.rawValue & 0xFF))
        message.append(contentsOf: [0, 1])   // class IN
        return message
    }
}

/// A response, decoded.
public struct DNSMessage: Sendable {
    public var id: UInt16
    public var isResponse: Bool
    public var truncated: Bool
    public var authenticated: Bool
    public var rcode: ResponseCode
    public var questionName: String
    public var questionType: RecordType
    public var answers: [ResourceRecord]
    public var authority: [ResourceRecord]
}

public enum DNSParseError: Error, Equatable, CustomStringConvertible {
    case truncated(at: Int)
    case badPointer(at: Int)
    case nameTooLong
    case badLabel(at: Int)
    case badRecord(String)
    case noQuestion

    public var description: String {
        switch self {
        case let .truncated(at): return "malformed DNS response: ends early (offset \(at))"
        case let .badPointer(at): return "malformed DNS response: bad compression pointer at offset \(at)"
        case .nameTooLong: return "malformed DNS response: a name longer than 255 octets"
        case let .badLabel(at): return "malformed DNS response: reserved label type at offset \(at)"
        case let .badRecord(why): return "malformed DNS response: \(why)"
        case .noQuestion: return "malformed DNS response: no question section"
        }
    }
}

/// Decodes a response with every read bounds-checked. Compression pointers must point strictly
/// backwards (so they cannot loop) and a name may not exceed 255 octets.
public struct DNSMessageParser {
    private let bytes: [UInt8]
    private var offset = 0

    public static func parse(_ bytes: [UInt8]) throws -> DNSMessage {
        var parser = DNSMessageParser(bytes: bytes)
        return try parser.message()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func message() throws -> DNSMessage {
        let id = try u16()
        let flags = try u16()
        let questions = try u16()
        let answerCount = try u16()
        let authorityCount = try u16()
        _ = try u16()   // additional: not needed
        guard questions >= 1 else { throw DNSParseError.noQuestion }
        let qname = try name()
        let qtype = RecordType(rawValue: try u16())
        _ = try u16()
        for _ in 1..<Int(questions) {   // unusual, but skip any further questions correctly
            _ = try name(); _ = try u16(); _ = try u16()
        }
        var answers: [ResourceRecord] = []
        for _ in 0..<answerCount { answers.append(try record()) }
        var authority: [ResourceRecord] = []
        for _ in 0..<authorityCount { authority.append(try record()) }
        return DNSMessage(
            id: id,
            isResponse: flags & 0x8000 != 0,
            truncated: flags & 0x0200 != 0,
            authenticated: flags & 0x0020 != 0,
            rcode: ResponseCode(rawValue: UInt8(flags & 0x000F)),
            questionName: qname,
            questionType: qtype,
            answers: answers,
            authority: authority)
    }

    private mutating func u8() throws -> UInt8 {
        guard offset < bytes.count else { throw DNSParseError.truncated(at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func u16() throws -> UInt16 {
        guard offset + 2 <= bytes.count else { throw DNSParseError.truncated(at: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    private mutating func u32() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw DNSParseError.truncated(at: offset) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw DNSParseError.truncated(at: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads a possibly compressed name at the current offset.
    private mutating func name() throws -> String {
        var text: [UInt8] = []   // the labels in presentation form, joined by dots
        text.reserveCapacity(64) // most names fit: one allocation, not one at each doubling
        var length = 1
        var cursor = offset
        var resumeAt: Int?          // where parsing continues after the first pointer
        var lowestTarget = offset   // every pointer must go below the previous position
        // A name has at most 127 labels, so more pointers than that only chain pointers to
        // pointers: refused, so that a hostile answer cannot make each name cost the message's length.
        var pointers = 0
        while true {
            guard cursor < bytes.count else { throw DNSParseError.truncated(at: cursor) }
            let lead = bytes[cursor]
            switch lead & 0xC0 {
            case 0x00:
                if lead == 0 {
                    offset = resumeAt ?? cursor + 1
                    return String(decoding: text, as: UTF8.self)
                }
                let count = Int(lead)
                guard cursor + 1 + count <= bytes.count else { throw DNSParseError.truncated(at: cursor) }
                length += count + 1
                guard length <= 255 else { throw DNSParseError.nameTooLong }
                if !text.isEmpty { text.append(UInt8(ascii: ".")) }
                for byte in bytes[(cursor + 1)...(cursor + count)] { DNSName.appendEscaped(byte, to: &text) }
                cursor += 1 + count
            case 0xC0:
                guard cursor + 1 < bytes.count else { throw DNSParseError.truncated(at: cursor) }
                let target = Int(lead & 0x3F) << 8 | Int(bytes[cursor + 1])
                guard target < lowestTarget else { throw DNSParseError.badPointer(at: cursor) }
                if resumeAt == nil { resumeAt = cursor + 2 }
                pointers += 1
                guard pointers <= 127 else { throw DNSParseError.badPointer(at: cursor) }
                lowestTarget = target
                cursor = target
            default:
                throw DNSParseError.badLabel(at: cursor)
            }
        }
    }

    private mutating func record() throws -> ResourceRecord {
        let owner = try name()
        let type = RecordType(rawValue: try u16())
        _ = try u16()   // class
        let ttl = try u32()
        let length = Int(try u16())
        guard offset + length <= bytes.count else { throw DNSParseError.truncated(at: offset) }
        let end = offset + length
        let data: RData
        switch type {
        case .a:
            guard length == 4 else { throw DNSParseError.badRecord("A record of \(length) octets") }
            data = .a(try take(4))
        case .aaaa:
            guard length == 16 else { throw DNSParseError.badRecord("AAAA record of \(length) octets") }
            data = .aaaa(try take(16))
        case .cname, .ns, .ptr:
            data = .name(try name())
        case .mx:
            let preference = try u16()
            data = .mx(preference: preference, exchange: try name())
        case .txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let count = Int(try u8())
                guard offset + count <= end else { throw DNSParseError.badRecord("TXT string runs past its record") }
                strings.append(try take(count))
            }
            data = .txt(strings)
        case .soa:
            _ = try name(); _ = try name()
            _ = try u32(); _ = try u32(); _ = try u32(); _ = try u32()
            data = .soa(minimum: try u32())
        case .tlsa:
            guard length >= 3 else { throw DNSParseError.badRecord("TLSA record of \(length) octets") }
            let usage = try u8(), selector = try u8(), matching = try u8()
            data = .tlsa(usage: usage, selector: selector, matchingType: matching, data: try take(end - offset))
        default:
            data = .other(try take(length))
        }
        guard offset == end else { throw DNSParseError.badRecord("\(type) record data of the wrong length") }
        return ResourceRecord(name: owner, type: type, ttl: ttl, data: data)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
