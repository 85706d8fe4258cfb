/// Domain names as the resolver handles them: lower-case ASCII, no trailing dot.
public enum DNSName {
    /// Lower-cases and drops one trailing dot. Does not validate.
    public static func normalize(_ name: String) -> String {
        // Most names are already lower-case ASCII without the dot: returned as they are, no copy.
        if !name.utf8.contains(where: { $0 >= 0x80 || (0x41...0x5A).contains($0) }) && name.utf8.last != UInt8(ascii: ".") {
            return name
        }
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
        // An ASCII name's labels are what lies between its dots; in other text a dot can be part
        // of a larger character, which is not split, so that goes the long way.
        guard name.utf8.allSatisfy({ $0 < 0x80 }) else {
            return name.split(separator: ".", omittingEmptySubsequences: false)
                .map { escapedLabel($0.utf8) }.joined(separator: ".")
        }
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count)
        for byte in name.utf8 {
            if byte == UInt8(ascii: ".") { out.append(byte) } else { appendEscaped(byte, to: &out) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One label's octets in presentation form (see `presentation`), upper-case letters lowered,
    /// so that a hostile label cannot smuggle a dot or a control character into a name.
    static func escapedLabel<Octets: Sequence>(_ octets: Octets) -> String where Octets.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(octets.underestimatedCount)
        for byte in octets { appendEscaped(byte, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// One octet of a label as `escapedLabel` writes it: a letter lowered, a digit, '-', '_' or
    /// '*' as it is, anything else as \DDD.
    static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): out.append(byte + 32)
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "*"):
            out.append(byte)
        default:
            out.append(UInt8(ascii: "\\"))
            out.append(UInt8(ascii: "0") + byte / 100)
            out.append(UInt8(ascii: "0") + byte / 10 % 10)
            out.append(UInt8(ascii: "0") + byte % 10)
        }
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

    /// Appends a name in wire form (each label's length, then its octets, then the root's
    /// zero), checked against RFC 1035 limits (63 octets a label, 255 octets in all). Any octet
    /// may stand in a label (internationalised names are converted to A-labels before they get
    /// here; SPF macros can make anything).
    public static func appendWire(_ name: String, to message: inout [UInt8]) throws {
        let normalized = normalize(name)
        if normalized.utf8.allSatisfy({ $0 < 0x80 }) {
            try appendASCIIWire(normalized, name: name, to: &message)
            return
        }
        // Elsewhere a dot can be part of a larger character, which is one label's.
        let labels = normalized.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8)[...] }
        var total = 1
        for label in labels {
            if label.isEmpty { throw DNSQueryError.invalidName(name, "empty label") }
            if label.count > 63 { throw DNSQueryError.invalidName(name, "a label is longer than 63 octets") }
            total += label.count + 1
        }
        if total > 255 { throw DNSQueryError.invalidName(name, "longer than 255 octets") }
        for label in labels {
            message.append(UInt8(label.count))
            message.append(contentsOf: label)
        }
        message.append(0)
    }

    /// ASCII, the usual case: the labels are what lies between the dots, written as they are
    /// found, without an array of them. The checks are the same and in the same order; on an
    /// error the message is left as it was.
    private static func appendASCIIWire(_ normalized: String, name: String, to message: inout [UInt8]) throws {
        let start = message.count
        do {
            if !normalized.isEmpty {
                var lengthAt = message.count
                message.append(0)
                for byte in normalized.utf8 {
                    if byte == UInt8(ascii: ".") {
                        try closeLabel(at: lengthAt, in: &message, name: name)
                        lengthAt = message.count
                        message.append(0)
                    } else {
                        message.append(byte)
                    }
                }
                try closeLabel(at: lengthAt, in: &message, name: name)
            }
            if message.count - start + 1 > 255 { throw DNSQueryError.invalidName(name, "longer than 255 octets") }
            message.append(0)
        } catch {
            message.removeSubrange(start...)
            throw error
        }
    }

    private static func closeLabel(at lengthAt: Int, in message: inout [UInt8], name: String) throws {
        let length = message.count - lengthAt - 1
        if length == 0 { throw DNSQueryError.invalidName(name, "empty label") }
        if length > 63 { throw DNSQueryError.invalidName(name, "a label is longer than 63 octets") }
        message[lengthAt] = UInt8(length)
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
