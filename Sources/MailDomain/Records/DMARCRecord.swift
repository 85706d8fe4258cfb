/// A DMARC policy record (RFC 7489 6.3), read strictly: the tool audits records, so anything a
/// receiver might have to guess about is reported. DMARCbis tags (np, psd, t) are understood;
/// pct, rf and ri, which DMARCbis drops, are still read as RFC 7489 defines them.
public struct DMARCRecord: Sendable, Equatable {
    public enum Policy: String, Sendable, Codable { case none, quarantine, reject }

    public var tags: [Tag] = []
    public var policy: Policy?
    public var subdomainPolicy: Policy?
    public var nonExistentSubdomainPolicy: Policy?
    public var percent: Int?
    public var aggregateReports: [ReportURI] = []
    public var failureReports: [ReportURI] = []
    public var dkimAlignment = "r"
    public var spfAlignment = "r"
    public var failureOptions: [String] = ["0"]
    public var reportInterval: Int?
    /// Problems that do not make the record unusable.
    public var warnings: [String] = []

    /// The policy that applies to the domain itself: `p`, or none when `p` is missing and a
    /// valid `rua` is present (RFC 7489 6.6.3).
    public var effectivePolicy: Policy { policy ?? .none }
    public var effectiveSubdomainPolicy: Policy { subdomainPolicy ?? effectivePolicy }
    public var effectivePercent: Int { percent ?? 100 }

    /// Does this TXT record claim to be DMARC? (It starts with `v=DMARC1`, RFC 7489 6.6.3.)
    public static func isCandidate(_ text: String) -> Bool {
        let trimmed = TagValueList.trim(text)
        guard trimmed.lowercased().hasPrefix("v") else { return false }
        let afterV = TagValueList.trim(trimmed.dropFirst())
        guard afterV.hasPrefix("=") else { return false }
        return TagValueList.trim(afterV.dropFirst()).hasPrefix("DMARC1")
    }

    static func isKeyword(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last, first.isASCII, first.isLetter || first.isNumber,
              last != "-" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    public static func parse(_ text: String) -> Result<DMARCRecord, RecordSyntaxError> {
        let tags: [Tag]
        switch TagValueList.parse(text) {
        case let .success(parsed): tags = parsed
        case let .failure(error): return .failure(error)
        }
        guard let first = tags.first, first.name.lowercased() == "v" else {
            return .failure(RecordSyntaxError("the record must start with v=DMARC1"))
        }
        guard first.value == "DMARC1" else {
            return .failure(RecordSyntaxError("version is \"\(first.value)\", not DMARC1"))
        }
        var record = DMARCRecord(tags: tags)
        func policy(_ tag: Tag) -> Result<Policy, RecordSyntaxError> {
            guard let value = Policy(rawValue: tag.value.lowercased()) else {
                return .failure(RecordSyntaxError("\(tag.name)=\(tag.value): the policy must be none, quarantine or reject"))
            }
            return .success(value)
        }
        for (index, tag) in tags.enumerated().dropFirst() {
            let name = tag.name.lowercased()
            let value = tag.value
            switch name {
            case "p":
                if index != 1 { record.warnings.append("p should come straight after v (RFC 7489 6.3)") }
                switch policy(tag) { case let .success(p): record.policy = p; case let .failure(e): return .failure(e) }
            case "sp":
                switch policy(tag) { case let .success(p): record.subdomainPolicy = p; case let .failure(e): return .failure(e) }
            case "np":
                switch policy(tag) { case let .success(p): record.nonExistentSubdomainPolicy = p; case let .failure(e): return .failure(e) }
            case "pct":
                guard let number = Int(value), value.allSatisfy(\.isNumber), (0...100).contains(number) else {
                    return .failure(RecordSyntaxError("pct=\(value): must be a whole number from 0 to 100"))
                }
                record.percent = number
            case "rua", "ruf":
                switch ReportURI.parseList(value, allowSizeLimit: true) {
                case let .success(uris):
                    if name == "rua" { record.aggregateReports = uris } else { record.failureReports = uris }
                    for uri in uris where uri.scheme != "mailto" {
                        record.warnings.append("\(name) destination \(uri.uri) is not a mailto: URI; receivers send reports only by mail")
                    }
                    for uri in uris where uri.isMailtoWithoutAddress {
                        record.warnings.append("\(name) destination \(uri.uri) names no mail address")
                    }
                case let .failure(error):
                    return .failure(RecordSyntaxError("\(name): \(error.message)"))
                }
            case "adkim", "aspf":
                guard value == "r" || value == "s" else {
                    return .failure(RecordSyntaxError("\(name)=\(value): must be r (relaxed) or s (strict)"))
                }
                if name == "adkim" { record.dkimAlignment = value } else { record.spfAlignment = value }
            case "fo":
                let options = value.split(separator: ":", omittingEmptySubsequences: false).map { TagValueList.trim($0) }
                guard !options.isEmpty, options.allSatisfy({ ["0", "1", "d", "s"].contains($0) }) else {
                    return .failure(RecordSyntaxError("fo=\(value): must be 0, 1, d or s, separated by colons"))
                }
                record.failureOptions = options
            case "rf":
                // Keyword *(":" Keyword), Keyword being an ldh-str (RFC 7489 6.4, RFC 5321 4.1.2).
                let formats = value.split(separator: ":", omittingEmptySubsequences: false).map { TagValueList.trim($0).lowercased() }
                guard formats.allSatisfy(Self.isKeyword) else {
                    return .failure(RecordSyntaxError("rf=\(value): report formats are letters, digits and inner hyphens"))
                }
                if formats.contains(where: { $0 != "afrf" }) {
                    record.warnings.append("rf=\(value): afrf is the only report format defined")
                }
            case "ri":
                guard !value.isEmpty, value.allSatisfy(\.isNumber), let seconds = UInt32(value) else {
                    return .failure(RecordSyntaxError("ri=\(value): must be a whole number of seconds"))
                }
                record.reportInterval = Int(seconds)
            case "psd":
                guard ["y", "n", "u"].contains(value.lowercased()) else {
                    return .failure(RecordSyntaxError("psd=\(value): must be y, n or u"))
                }
            case "t":
                guard ["y", "n"].contains(value.lowercased()) else {
                    return .failure(RecordSyntaxError("t=\(value): must be y or n"))
                }
            case "v":
                return .failure(RecordSyntaxError("v appears twice"))
            default:
                record.warnings.append("unknown tag \(tag.name) ignored")
            }
        }
        if record.policy == nil {
            guard record.aggregateReports.contains(where: { $0.mailDomain != nil }) else {
                return .failure(RecordSyntaxError("the p tag (policy) is missing"))
            }
            record.warnings.append("the p tag is missing; with a valid rua it is read as p=none (RFC 7489 6.6.3)")
        }
        return .success(record)
    }
}
