/// DNS record types the tool asks for, plus any other seen in an answer (kept by number).
public struct RecordType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RecordType(rawValue: 1)
    public static let ns = RecordType(rawValue: 2)
    public static let cname = RecordType(rawValue: 5)
    public static let soa = RecordType(rawValue: 6)
    public static let ptr = RecordType(rawValue: 12)
    public static let mx = RecordType(rawValue: 15)
    public static let txt = RecordType(rawValue: 16)
    public static let aaaa = RecordType(rawValue: 28)
    public static let tlsa = RecordType(rawValue: 52)

    private static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 52: "TLSA",
    ]

    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }

    public init?(name: String) {
        guard let found = Self.names.first(where: { $0.value == name.uppercased() }) else { return nil }
        rawValue = found.key
    }
}

/// The RCODE of a response (RFC 1035 4.1.1).
public struct ResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let noError = ResponseCode(rawValue: 0)
    public static let formErr = ResponseCode(rawValue: 1)
    public static let servFail = ResponseCode(rawValue: 2)
    public static let nxDomain = ResponseCode(rawValue: 3)
    public static let notImp = ResponseCode(rawValue: 4)
    public static let refused = ResponseCode(rawValue: 5)

    public var description: String {
        switch rawValue {
        case 0: return "NOERROR"
        case 1: return "FORMERR"
        case 2: return "SERVFAIL"
        case 3: return "NXDOMAIN"
        case 4: return "NOTIMP"
        case 5: return "REFUSED"
        default: return "RCODE\(rawValue)"
        }
    }
}

/// The data of one resource record, decoded for the types the checks use.
public enum RData: Sendable, Equatable {
    case a([UInt8])
    case aaaa([UInt8])
    case name(String)                       // CNAME, NS, PTR
    case mx(preference: UInt16, exchange: String)
    /// TXT: the character-strings as sent, before joining.
    case txt([[UInt8]])
    case soa(minimum: UInt32)
    case tlsa(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8])
    case other([UInt8])
}

public struct ResourceRecord: Sendable, Equatable {
    public var name: String
    public var type: RecordType
    public var ttl: UInt32
    public var data: RData

    public init(name: String, type: RecordType, ttl: UInt32, data: RData) {
        self.name = name
        self.type = type
        self.ttl = ttl
        self.data = data
    }

    /// A TXT record's strings joined with nothing between them (RFC 7208 3.3, RFC 7489 6.6.3).
    public var joinedText: String? {
        guard case let .txt(strings) = data else { return nil }
        // Most records are one string: decoded as it is, not first copied out of a joined view.
        if strings.count == 1 { return String(decoding: strings[0], as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(strings.reduce(0) { $0 + $1.count })
        for string in strings { bytes += string }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The record data as a zone file would print it, for evidence. Non-printable bytes are escaped.
    public var presentation: String {
        switch data {
        case let .a(bytes): return bytes.map(String.init).joined(separator: ".")
        case let .aaaa(bytes): return IPv6Text.format(bytes)
        case let .name(target): return target + "."
        case let .mx(preference, exchange): return "\(preference) \(exchange.isEmpty ? "" : exchange)."
        case let .txt(strings): return strings.map { "\"" + ZoneText.escape($0) + "\"" }.joined(separator: " ")
        case let .soa(minimum): return "SOA minimum \(minimum)"
        case let .tlsa(usage, selector, matching, data):
            return "\(usage) \(selector) \(matching) " + data.map { String(format: "%02x", $0) }.joined()
        case let .other(bytes): return "\\# \(bytes.count) " + bytes.map { String(format: "%02x", $0) }.joined()
        }
    }
}

import Foundation

public enum ZoneText {
    /// Escapes a character-string as a zone file does: `"` and `\` with a backslash, anything
    /// outside printable ASCII as `\DDD`.
    public static func escape(_ bytes: [UInt8]) -> String {
        var out = ""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += "\\" + String(UnicodeScalar(byte))
            case 0x20...0x7E: out.unicodeScalars.append(UnicodeScalar(byte))
            default: out += String(format: "\\%03d", byte)
            }
        }
        return out
    }
}

public enum IPv6Text {
    public static func format(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return "invalid" }
        var storage = in6_addr()
        withUnsafeMutableBytes(of: &storage) { raw in
            for index in 0..<16 { raw[index] = bytes[index] }
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &storage, &buffer, socklen_t(buffer.count)) != nil else { return "invalid" }
        return String(cString: buffer)
    }
}
