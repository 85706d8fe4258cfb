/// Domain names as the resolver handles them: lower-case ASCII, no trailing dot.
public enum DNSName {
    /// Lower-cases and drops one trailing dot. Does not validate.
    public static func normalize(_ name: String) -> String {
        var lowered = name.lowercased()
        if lowered.hasSuffix(".") { lowered.removeLast() }
        return lowered
    }

    /// The name as the response parser writes names: lower case, and every octet outside
    /// letters, digits, '-', '_' and '*' as \DDD. Questions and answers are compared in this
    /// form, so a name with unusual octets (from a macro, say) is matched, not refused.
    public static func presentation(_ name: String) -> String {
        normalize(name).split(separator: ".", omittingEmptySubsequences: false).map { label in
            var out = ""
            for byte in label.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "*"):
                    out.unicodeScalars.append(UnicodeScalar(byte))
                default:
                    let digits = String(byte)
                    out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            return out
        }.joined(separator: ".")
    }

    /// The wire labels of a name, checked against RFC 1035 limits (63 octets a label,
    /// 255 octets in all). Any octet may stand in a label (internationalised names are
    /// converted to A-labels before they get here; SPF macros can make anything).
    public static func wireLabels(_ name: String) throws -> [[UInt8]] {
        let normalized = normalize(name)
        if normalized.isEmpty { return [] }
        let labels = normalized.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
        var total = 1
        for label in labels {
            if label.isEmpty { throw DNSQueryError.invalidName(name, "empty label") }
            if label.count > 63 { throw DNSQueryError.invalidName(name, "a label is longer than 63 octets") }
            total += label.count + 1
        }
        if total > 255 { throw DNSQueryError.invalidName(name, "longer than 255 octets") }
        return labels
    }
}

public enum DNSQueryError: Error, Equatable, CustomStringConvertible {
    case invalidName(String, String)

    public var description: String {
        switch self {
        case let .invalidName(name, why): return "not a valid DNS name (\(why)): \(name)"
        }
    }
}
