import Foundation

/// An SPF record parsed to RFC 7208 section 12's grammar. Domain specifications keep their
/// macros unexpanded; `SPFMacro` checks their syntax.
public struct SPFRecord: Sendable, Equatable {
    public enum Qualifier: Character, Sendable, Codable {
        case pass = "+", fail = "-", softfail = "~", neutral = "?"
    }

    public enum Mechanism: Sendable, Equatable {
        case all
        case include(domain: String)
        case a(domain: String?, ip4Prefix: Int?, ip6Prefix: Int?)
        case mx(domain: String?, ip4Prefix: Int?, ip6Prefix: Int?)
        case ptr(domain: String?)
        case ip4(address: [UInt8], prefix: Int?)
        case ip6(address: [UInt8], prefix: Int?)
        case exists(domain: String)

        /// Mechanisms that cost a DNS look-up against the limit of 10 (RFC 7208 4.6.4).
        public var queriesDNS: Bool {
            switch self {
            case .include, .a, .mx, .ptr, .exists: return true
            case .all, .ip4, .ip6: return false
            }
        }

        public var name: String {
            switch self {
            case .all: return "all"
            case .include: return "include"
            case .a: return "a"
            case .mx: return "mx"
            case .ptr: return "ptr"
            case .ip4: return "ip4"
            case .ip6: return "ip6"
            case .exists: return "exists"
            }
        }
    }

    public struct Directive: Sendable, Equatable {
        public var qualifier: Qualifier
        public var mechanism: Mechanism
        /// The term as written in the record.
        public var text: String
    }

    public var directives: [Directive] = []
    public var redirect: String?
    public var explanation: String?
    /// Modifiers other than redirect and exp: ignored by receivers (RFC 7208 6).
    public var unknownModifiers: [Tag] = []

    /// The `all` directive's qualifier, when there is one.
    public var allQualifier: Qualifier? {
        directives.first(where: { $0.mechanism == .all })?.qualifier
    }

    /// A TXT record is an SPF record when it is exactly "v=spf1" or starts with "v=spf1 "
    /// (RFC 7208 4.5), case-insensitively.
    public static func isCandidate(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower == "v=spf1" || lower.hasPrefix("v=spf1 ")
    }

    public static func parse(_ text: String) -> Result<SPFRecord, RecordSyntaxError> {
        guard isCandidate(text) else { return .failure(RecordSyntaxError("the record does not start with v=spf1")) }
        if let bad = text.unicodeScalars.first(where: { $0.value < 0x20 || $0.value > 0x7E }) {
            return .failure(RecordSyntaxError(String(format: "the record contains a character outside printable ASCII (U+%04X)", bad.value)))
        }
        var record = SPFRecord()
        // Terms are separated by one or more spaces (RFC 7208 12: 1*SP); nothing else separates.
        for term in text.dropFirst(6).split(separator: " ") {
            switch parseTerm(String(term), into: &record) {
            case .success: continue
            case let .failure(error): return .failure(error)
            }
        }
        return .success(record)
    }

    private static func parseTerm(_ term: String, into record: inout SPFRecord) -> Result<Void, RecordSyntaxError> {
        // A modifier is name=value where name is ALPHA *(ALPHA / DIGIT / "-" / "_" / ".").
        if let equals = term.firstIndex(of: "="), isModifierName(term[..<equals]) {
            let name = term[..<equals].lowercased()
            let value = String(term[term.index(after: equals)...])
            switch name {
            case "redirect", "exp":
                guard case .success = SPFMacro.checkDomainSpec(value) else {
                    return .failure(RecordSyntaxError("\(name)=\(value): not a valid domain specification"))
                }
                if name == "redirect" {
                    guard record.redirect == nil else { return .failure(RecordSyntaxError("redirect= appears twice")) }
                    record.redirect = value
                } else {
                    guard record.explanation == nil else { return .failure(RecordSyntaxError("exp= appears twice")) }
                    record.explanation = value
                }
            default:
                guard case .success = SPFMacro.checkMacroString(value, inExplanation: false) else {
                    return .failure(RecordSyntaxError("modifier \(term): malformed macro"))
                }
                record.unknownModifiers.append(Tag(name: String(term[..<equals]), value: value))
            }
            return .success(())
        }
        var body = Substring(term)
        var qualifier = Qualifier.pass
        if let first = body.first, let explicit = Qualifier(rawValue: first) {
            qualifier = explicit
            body = body.dropFirst()
        }
        // Split "name", ":domain-spec" and "/cidr" parts.
        let nameEnd = body.firstIndex(where: { $0 == ":" || $0 == "/" }) ?? body.endIndex
        let name = body[..<nameEnd].lowercased()
        let rest = body[nameEnd...]
        func fail(_ why: String) -> Result<Void, RecordSyntaxError> { .failure(RecordSyntaxError("\"\(term)\": \(why)")) }
        let mechanism: Mechanism
        switch name {
        case "all":
            guard rest.isEmpty else { return fail("all takes no argument") }
            mechanism = .all
        case "include", "exists":
            guard rest.hasPrefix(":") else { return fail("\(name) needs a domain") }
            let domain = String(rest.dropFirst())
            guard case .success = SPFMacro.checkDomainSpec(domain) else { return fail("not a valid domain specification") }
            mechanism = name == "include" ? .include(domain: domain) : .exists(domain: domain)
        case "a", "mx":
            guard let parsed = parseDomainAndCIDR(rest) else { return fail("malformed domain or prefix length") }
            mechanism = name == "a" ? .a(domain: parsed.domain, ip4Prefix: parsed.ip4, ip6Prefix: parsed.ip6)
                : .mx(domain: parsed.domain, ip4Prefix: parsed.ip4, ip6Prefix: parsed.ip6)
        case "ptr":
            if rest.isEmpty { mechanism = .ptr(domain: nil) } else {
                guard rest.hasPrefix(":"), case .success = SPFMacro.checkDomainSpec(String(rest.dropFirst())) else {
                    return fail("not a valid domain specification")
                }
                mechanism = .ptr(domain: String(rest.dropFirst()))
            }
        case "ip4":
            guard rest.hasPrefix(":") else { return fail("ip4 needs an address") }
            let parts = rest.dropFirst().split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let address = IPAddressText.parseIPv4(String(parts[0])) else { return fail("not an IPv4 address") }
            var prefix: Int?
            if parts.count == 2 {
                guard let length = CIDRLength.parse(parts[1], max: 32) else { return fail("bad IPv4 prefix length") }
                prefix = length
            }
            mechanism = .ip4(address: address, prefix: prefix)
        case "ip6":
            guard rest.hasPrefix(":") else { return fail("ip6 needs an address") }
            let value = rest.dropFirst()
            let slash = value.lastIndex(of: "/")
            let addressText = slash.map { String(value[..<$0]) } ?? String(value)
            guard let address = IPAddressText.parseIPv6(addressText) else { return fail("not an IPv6 address") }
            var prefix: Int?
            if let slash {
                guard let length = CIDRLength.parse(value[value.index(after: slash)...], max: 128) else {
                    return fail("bad IPv6 prefix length")
                }
                prefix = length
            }
            mechanism = .ip6(address: address, prefix: prefix)
        default:
            return fail("unknown mechanism \"\(name)\"")
        }
        record.directives.append(Directive(qualifier: qualifier, mechanism: mechanism, text: term))
        return .success(())
    }

    private static func isModifierName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    /// `[":" domain-spec] [dual-cidr-length]`, as a and mx take them. A domain spec may itself
    /// contain "/", so the prefix lengths are recognised only at the very end.
    private static func parseDomainAndCIDR(_ text: Substring) -> (domain: String?, ip4: Int?, ip6: Int?)? {
        var rest = text
        var ip4: Int?
        var ip6: Int?
        if let (length, remainder) = trailingLength(rest, marker: "//") {
            guard let value = CIDRLength.parse(length, max: 128) else { return nil }
            ip6 = value
            rest = remainder
        }
        if let (length, remainder) = trailingLength(rest, marker: "/") {
            guard let value = CIDRLength.parse(length, max: 32) else { return nil }
            ip4 = value
            rest = remainder
        }
        var domain: String?
        if !rest.isEmpty {
            guard rest.hasPrefix(":") else { return nil }
            let spec = String(rest.dropFirst())
            guard case .success = SPFMacro.checkDomainSpec(spec) else { return nil }
            domain = spec
        }
        return (domain, ip4, ip6)
    }

    /// Splits "<rest><marker><digits>" when the text ends that way. For "/", a preceding "/"
    /// would make it "//", which is the other marker.
    private static func trailingLength(_ text: Substring, marker: String) -> (Substring, Substring)? {
        let digits = text.reversed().prefix(while: { $0.isASCII && $0.isNumber })
        let head = text.dropLast(digits.count)
        guard head.hasSuffix(marker) else { return nil }
        let remainder = head.dropLast(marker.count)
        if marker == "/" && remainder.hasSuffix("/") { return nil }
        return (Substring(String(digits.reversed())), remainder)
    }
}

enum CIDRLength {
    /// "0" or a number without leading zeros, at most `max` (RFC 7208 ip4-cidr-length).
    static func parse(_ text: Substring, max: Int) -> Int? {
        guard !text.isEmpty, text.count <= 3, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              text == "0" || text.first != "0", let value = Int(text), value <= max else { return nil }
        return value
    }
}

public enum IPAddressText {
    /// Dotted-quad IPv4 with no leading zeros in a part.
    public static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part == "0" || part.first != "0", let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    public static func parseIPv6(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.count <= 45 else { return nil }
        var storage = in6_addr()
        guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
        return withUnsafeBytes(of: &storage) { Array($0) }
    }
}

/// Macro syntax of RFC 7208 section 7.1.
public enum SPFMacro {
    private static let letters: Set<Character> = ["s", "l", "o", "d", "i", "p", "h", "v"]
    private static let explanationLetters: Set<Character> = ["c", "r", "t"]
    private static let delimiters: Set<Character> = [".", "-", "+", ",", "/", "_", "="]

    public static func containsMacro(_ text: String) -> Bool { text.contains("%") }

    public static func checkMacroString(_ text: String, inExplanation: Bool) -> Result<Void, RecordSyntaxError> {
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "%" {
                let next = text.index(after: index)
                guard next < text.endIndex else { return .failure(RecordSyntaxError("a lone % ends the string")) }
                switch text[next] {
                case "%", "_", "-":
                    index = text.index(after: next)
                    continue
                case "{":
                    guard let close = text[next...].firstIndex(of: "}") else {
                        return .failure(RecordSyntaxError("unterminated macro"))
                    }
                    var body = text[text.index(after: next)..<close]
                    guard let letter = body.first?.lowercased().first,
                          letters.contains(letter) || (inExplanation && explanationLetters.contains(letter)) else {
                        return .failure(RecordSyntaxError("unknown macro letter in %{\(body)}"))
                    }
                    body = body.dropFirst()
                    let digits = body.prefix(while: { $0.isASCII && $0.isNumber })
                    if !digits.isEmpty {
                        guard let count = Int(digits), count > 0, count <= 128 else {
                            return .failure(RecordSyntaxError("bad macro digit count in %{\(body)}"))
                        }
                    }
                    body = body.dropFirst(digits.count)
                    if body.first == "r" || body.first == "R" { body = body.dropFirst() }
                    guard body.allSatisfy({ delimiters.contains($0) }) else {
                        return .failure(RecordSyntaxError("bad macro transformer or delimiter"))
                    }
                    index = text.index(after: close)
                    continue
                default:
                    return .failure(RecordSyntaxError("% must be followed by %, _, - or {"))
                }
            }
            // explain-string = *( macro-string / SP ): only explanations may hold spaces.
            guard let ascii = character.asciiValue, (0x21...0x7E).contains(ascii) || (inExplanation && ascii == 0x20) else {
                return .failure(RecordSyntaxError("character outside the macro-literal range"))
            }
            index = text.index(after: index)
        }
        return .success(())
    }

    /// domain-spec = macro-string domain-end, where domain-end is "." toplabel ["."] or a macro.
    public static func checkDomainSpec(_ text: String) -> Result<Void, RecordSyntaxError> {
        guard !text.isEmpty else { return .failure(RecordSyntaxError("empty domain")) }
        if case let .failure(error) = checkMacroString(text, inExplanation: false) { return .failure(error) }
        if text.hasSuffix("}") { return .success(()) }   // ends in a macro-expand
        var body = Substring(text)
        if body.hasSuffix(".") { body = body.dropLast() }
        // The grammar wants "." toplabel at the end, but receivers (and the RFC 7208 suite)
        // accept single-label names such as "include:d11": those are only checked as a label.
        let top = body.lastIndex(of: ".").map { body[body.index(after: $0)...] } ?? body
        guard isTopLabel(top) else { return .failure(RecordSyntaxError("\(text): invalid top-level label")) }
        return .success(())
    }

    /// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
    static func isTopLabel(_ label: Substring) -> Bool {
        guard !label.isEmpty, label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
              label.first != "-", label.last != "-" else { return false }
        return label.contains(where: { $0.isLetter }) || label.contains("-")
    }
}
