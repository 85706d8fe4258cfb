/// The `_mta-sts.<domain>` TXT record (RFC 8461 3.1): `v=STSv1; id=...`.
public struct MTASTSRecord: Sendable, Equatable {
    public var id: String
    public var extensions: [Tag]

    public static func isCandidate(_ text: String) -> Bool { text.hasPrefix("v=STSv1") }

    public static func parse(_ text: String) -> Result<MTASTSRecord, RecordSyntaxError> {
        let tags: [Tag]
        switch TagValueList.parse(text, names: .extensionName) {
        case let .success(parsed): tags = parsed
        case let .failure(error): return .failure(error)
        }
        // The grammar is case-sensitive and allows no space around "=".
        guard let first = tags.first, first.name == "v", first.value == "STSv1", text.hasPrefix("v=STSv1") else {
            return .failure(RecordSyntaxError("the record must start with v=STSv1"))
        }
        var id: String?
        var extensions: [Tag] = []
        for tag in tags.dropFirst() {
            if tag.name == "id" {
                guard (1...32).contains(tag.value.count), tag.value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                    return .failure(RecordSyntaxError("id=\(tag.value): must be 1 to 32 letters and digits"))
                }
                id = tag.value
            } else {
                guard tag.name.count <= 32, !tag.value.isEmpty,
                      tag.value.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) && $0 != "=" && $0 != ";" }) else {
                    return .failure(RecordSyntaxError("extension \(tag.name)=\(tag.value) is malformed"))
                }
                extensions.append(tag)
            }
        }
        guard let id else { return .failure(RecordSyntaxError("the id field is missing")) }
        return .success(MTASTSRecord(id: id, extensions: extensions))
    }
}

/// The policy file served at `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 3.2).
public struct MTASTSPolicy: Sendable, Equatable {
    public enum Mode: String, Sendable, Codable { case enforce, testing, none }

    public var mode: Mode
    public var maxAge: Int
    public var mxPatterns: [String]
    public var extensions: [Tag]

    public static func parse(_ text: String) -> Result<MTASTSPolicy, RecordSyntaxError> {
        var version: String?
        var mode: Mode?
        var maxAge: Int?
        var patterns: [String] = []
        var extensions: [Tag] = []
        // Lines end in CRLF or LF (RFC 8461 3.2 allows both to be read).
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (number, rawLine) in lines.enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: ":") else {
                return .failure(RecordSyntaxError("line \(number + 1) is not a key: value pair"))
            }
            let key = String(line[..<colon])
            let value = TagValueList.trim(line[line.index(after: colon)...])
            // sts-policy-ext-name: a letter or digit, then up to 31 of those or "_", "-", ".".
            guard let first = key.first, first.isASCII, first.isLetter || first.isNumber, key.count <= 32,
                  key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }) else {
                return .failure(RecordSyntaxError("line \(number + 1): \"\(key)\" is not a valid key"))
            }
            switch key {
            case "version":
                guard version == nil else { return .failure(RecordSyntaxError("version appears twice")) }
                version = value
            case "mode":
                guard mode == nil else { return .failure(RecordSyntaxError("mode appears twice")) }
                guard let parsed = Mode(rawValue: value) else {
                    return .failure(RecordSyntaxError("mode \"\(value)\" is not enforce, testing or none"))
                }
                mode = parsed
            case "max_age":
                guard maxAge == nil else { return .failure(RecordSyntaxError("max_age appears twice")) }
                guard !value.isEmpty, value.count <= 10, value.allSatisfy(\.isNumber), let seconds = Int(value),
                      seconds <= 31_557_600 else {
                    return .failure(RecordSyntaxError("max_age \"\(value)\" must be a number of seconds up to 31557600"))
                }
                maxAge = seconds
            case "mx":
                guard isValidPattern(value) else {
                    return .failure(RecordSyntaxError("mx \"\(value)\" is not a host name or *.pattern"))
                }
                patterns.append(value.lowercased())
            default:
                guard !value.isEmpty else {
                    return .failure(RecordSyntaxError("line \(number + 1): \(key) has no value"))
                }
                extensions.append(Tag(name: key, value: value))
            }
        }
        guard version == "STSv1" else { return .failure(RecordSyntaxError("version must be STSv1")) }
        guard let mode else { return .failure(RecordSyntaxError("mode is missing")) }
        guard let maxAge else { return .failure(RecordSyntaxError("max_age is missing")) }
        if mode != .none && patterns.isEmpty {
            return .failure(RecordSyntaxError("no mx patterns in \(mode.rawValue) mode"))
        }
        return .success(MTASTSPolicy(mode: mode, maxAge: maxAge, mxPatterns: patterns, extensions: extensions))
    }

    private static func isValidPattern(_ value: String) -> Bool {
        var host = Substring(value)
        if host.hasPrefix("*.") { host = host.dropFirst(2) }
        if host.hasSuffix(".") { host = host.dropLast() }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 1 && labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// Does an MX host match one of the patterns? A wildcard covers exactly one left-most label.
    public func covers(_ mxHost: String) -> Bool {
        Self.matches(patterns: mxPatterns, host: mxHost)
    }

    public static func matches(patterns: [String], host: String) -> Bool {
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return patterns.contains { pattern in
            var pattern = pattern.lowercased()
            if pattern.hasSuffix(".") { pattern.removeLast() }
            if pattern.hasPrefix("*.") {
                let suffix = pattern.dropFirst(1)   // ".example.com"
                guard name.hasSuffix(suffix) else { return false }
                let head = name.dropLast(suffix.count)
                return !head.isEmpty && !head.contains(".")
            }
            return name == pattern
        }
    }
}
