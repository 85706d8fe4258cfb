/// Domain names as the resolver handles them: lower-case ASCII, no trailing dot.
public enum DNSName {
    /// Lower-cases and drops one trailing dot. Does not validate.
    public static func normalize(_ name: String) -> String {
        var lowered = name.lowercased()
        if lowered.hasSuffix(".") { lowered.removeLast() }
        return lowered
    }

    /// The wire labels of a name, checked against RFC 1035 limits (63 octets a label,
    /// 255 octets in all). Names are asked in ASCII only: internationalised names are
    /// converted to A-labels before they get here, and a name with other octets (from a hostile
    /// record, say) is refused rather than sent. Underscores and the like are allowed: SPF and
    /// DKIM names use them.
    public static func wireLabels(_ name: String) throws -> [[UInt8]] {
        let normalized = normalize(name)
        if normalized.isEmpty { return [] }
        let labels = normalized.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
        var total = 1
        for label in labels {
            if let bad = label.first(where: { $0 <= 0x20 || $0 >= 0x7F }) {
                throw DNSQueryError.invalidName(name, String(format: "it contains the octet 0x%02X; names are asked in ASCII (A-labels)", bad))
            }
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
