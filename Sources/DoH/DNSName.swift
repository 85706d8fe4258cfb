/// Domain names as the resolver handles them: lower-case ASCII, no trailing dot.
public enum DNSName {
    /// Lower-cases and drops one trailing dot. Does not validate.
    public static func normalize(_ name: String) -> String {
        var lowered = name.lowercased()
        if lowered.hasSuffix(".") { lowered.removeLast() }
        return lowered
    }

    /// A name in the form the response parser writes names: lower case, and every octet outside
    /// letters, digits, '-', '_' and '*' as \DDD. Names read from answers are already in this
    /// form; a name asked as text is turned into it before the two are compared, so a name with
    /// unusual octets (from an SPF macro, say) is matched, not refused.
    public static func presentation(_ name: String) -> String {
        // Only ASCII letters are folded, as DNS does (RFC 4343); other octets are escaped as they are.
        var name = Substring(name)
        if name.hasSuffix(".") { name = name.dropLast() }
        return name.split(separator: ".", omittingEmptySubsequences: false)
            .map { escapedLabel($0.utf8) }.joined(separator: ".")
    }

    /// One label's octets in presentation form (see `presentation`), upper-case letters lowered,
    /// so that a hostile label cannot smuggle a dot or a control character into a name.
    static func escapedLabel<Octets: Sequence>(_ octets: Octets) -> String where Octets.Element == UInt8 {
        var out = ""
        for byte in octets {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): out.unicodeScalars.append(UnicodeScalar(byte + 32))
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "*"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let digits = String(byte)
                out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            }
        }
        return out
    }

    /// The text to ask for a name read from an answer (an MX host, a PTR name, a CNAME target):
    /// \DDD escapes become their octets again; nil when those octets are not UTF-8 text, as
    /// such a name cannot be asked as text without becoming another name.
    public static func unescape(_ presentation: String) -> String? {
        var octets: [UInt8] = []
        var bytes = Array(presentation.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "\\"), bytes.count >= 3,
               let value = UInt8(String(decoding: bytes.prefix(3), as: UTF8.self)), bytes.prefix(3).allSatisfy({ (48...57).contains($0) }) {
                octets.append(value)
                bytes = bytes.dropFirst(3)
            } else {
                octets.append(byte)
            }
        }
        return String(validating: octets, as: UTF8.self)
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
