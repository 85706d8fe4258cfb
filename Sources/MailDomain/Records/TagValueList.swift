/// One `name=value` pair of a tag list, as DMARC, MTA-STS, TLS-RPT and DKIM records write them.
public struct Tag: Sendable, Equatable {
    public var name: String
    public var value: String
}

/// Splits `tag=value; tag=value` text. Whitespace around names, values and separators is
/// dropped; a final separator is allowed, an empty tag between two separators is not.
enum TagValueList {
    static let whitespace: Set<Character> = [" ", "\t", "\r", "\n"]

    /// Which names a record type's grammar allows for its tags: one rule per record type.
    enum NameRule {
        /// DMARC (RFC 9989 4.7) and DKIM (RFC 6376 3.2): ALPHA *(ALPHA / DIGIT / "_").
        case letterFirst
        /// MTA-STS (RFC 8461 3.1) and TLS-RPT (RFC 8460 3) extensions:
        /// (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
        case extensionName

        func allows(_ name: String) -> Bool {
            guard let first = name.first, first.isASCII else { return false }
            switch self {
            case .letterFirst:
                return first.isLetter && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            case .extensionName:
                return (first.isLetter || first.isNumber) && name.count <= 32
                    && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
            }
        }
    }

    /// - Parameters:
    ///   - caseSensitiveNames: DKIM's tag names are case-sensitive (RFC 6376 3.2); DMARC's are not.
    ///   - blankAfterLastSeparator: whether "; " may end the list (DKIM's grammar says no).
    static func parse(_ text: String, separator: Character = ";", caseSensitiveNames: Bool = false,
                      blankAfterLastSeparator: Bool = true, names: NameRule = .letterFirst) -> Result<[Tag], RecordSyntaxError> {
        var tags: [Tag] = []
        let parts = text.split(separator: separator, omittingEmptySubsequences: false)
        for (index, rawPart) in parts.enumerated() {
            let part = trim(rawPart)
            if part.isEmpty {
                let isLast = index == parts.count - 1 && index > 0
                if isLast && (blankAfterLastSeparator || rawPart.isEmpty) { break }   // trailing separator
                return .failure(RecordSyntaxError("empty tag at position \(index + 1)"))
            }
            guard let equals = part.firstIndex(of: "=") else {
                return .failure(RecordSyntaxError("\"\(part)\" is not of the form tag=value"))
            }
            let name = trim(part[..<equals])
            let value = trim(part[part.index(after: equals)...])
            guard names.allows(name) else {
                return .failure(RecordSyntaxError("\"\(name)\" is not a valid tag name"))
            }
            if tags.contains(where: { caseSensitiveNames ? $0.name == name : $0.name.lowercased() == name.lowercased() }) {
                return .failure(RecordSyntaxError("tag \"\(name)\" appears twice"))
            }
            tags.append(Tag(name: name, value: value))
        }
        return .success(tags)
    }

    static func trim<S: StringProtocol>(_ text: S) -> String {
        var slice = Substring(text)
        while let first = slice.first, whitespace.contains(first) { slice.removeFirst() }
        while let last = slice.last, whitespace.contains(last) { slice.removeLast() }
        return String(slice)
    }
}

/// A record that does not follow its specification's grammar; the text says where.
public struct RecordSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Report destinations of DMARC and TLS-RPT: `scheme:rest`, with DMARC's optional `!size`.
public struct ReportURI: Sendable, Equatable, Codable {
    public var uri: String
    public var scheme: String
    /// For `mailto:` URIs with an address, the address's domain.
    public var mailDomain: String?

    /// The `!size` suffix RFC 7489 allowed, obsolete in RFC 9989 (accepted, with a warning).
    public var sizeLimit: String?

    /// A `mailto:` URI that names no address (e.g. "mailto://host"): well-formed, but no
    /// report can be sent there.
    public var isMailtoWithoutAddress: Bool { scheme == "mailto" && mailDomain == nil }

    /// Is this a mailto: destination on the list of retired report services?
    public func isRetired(in retired: Set<String>) -> Bool {
        scheme == "mailto" && retired.contains(uri.dropFirst("mailto:".count).lowercased())
    }

    /// A mailto: URI whose address is a mail address (local@domain, a domain of labels), or an
    /// https: URI with an authority: what a sender of TLS reports can use (RFC 8460 3).
    public var isUsableReportDestination: Bool {
        switch scheme {
        case "mailto":
            guard let domain = mailDomain else { return false }
            let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
            return labels.count >= 2 && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
        case "https":
            let rest = uri.dropFirst("https:".count)
            guard rest.hasPrefix("//") else { return false }
            let authority = rest.dropFirst(2).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            return !authority.isEmpty && !authority.contains("@")
        default:
            return false
        }
    }

    static func parse(_ text: String, allowSizeLimit: Bool) -> Result<ReportURI, RecordSyntaxError> {
        var uri = TagValueList.trim(text)
        var sizeLimit: String?
        if allowSizeLimit, let bang = uri.lastIndex(of: "!") {
            let limit = uri[uri.index(after: bang)...]
            let digits = limit.prefix(while: { $0.isASCII && $0.isNumber })
            let unit = limit.dropFirst(digits.count)
            guard !digits.isEmpty, digits.count <= 15, unit.count <= 1,
                  unit.isEmpty || "kmgtKMGT".contains(unit.first!) else {
                return .failure(RecordSyntaxError("\"\(text)\" has a malformed size limit"))
            }
            sizeLimit = String(limit)
            uri = String(uri[..<bang])
        }
        guard let colon = uri.firstIndex(of: ":") else {
            return .failure(RecordSyntaxError("\"\(text)\" is not a URI (no scheme)"))
        }
        let scheme = uri[..<colon].lowercased()
        guard let first = scheme.first, first.isLetter,
              scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }) else {
            return .failure(RecordSyntaxError("\"\(text)\" is not a URI (bad scheme)"))
        }
        let rest = uri[uri.index(after: colon)...]
        guard !rest.isEmpty, !rest.contains(where: { $0 == " " || $0 == "\t" || $0 == "," || $0 == ";" }) else {
            return .failure(RecordSyntaxError("\"\(text)\" is not a URI"))
        }
        var mailDomain: String?
        if scheme == "mailto" {
            let address = rest.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            if let at = address.lastIndex(of: "@"), at != address.startIndex, address.index(after: at) != address.endIndex {
                mailDomain = address[address.index(after: at)...].lowercased()
            }
        }
        return .success(ReportURI(uri: uri, scheme: scheme, mailDomain: mailDomain, sizeLimit: sizeLimit))
    }

    static func parseList(_ text: String, allowSizeLimit: Bool) -> Result<[ReportURI], RecordSyntaxError> {
        var uris: [ReportURI] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            switch parse(String(item), allowSizeLimit: allowSizeLimit) {
            case let .success(uri): uris.append(uri)
            case let .failure(error): return .failure(error)
            }
        }
        return .success(uris)
    }
}
