/// A DMARC Policy Record as RFC 9989 (DMARCbis, obsoleting RFC 7489) defines it, read as an
/// auditor must: the grammar strictly (a syntax error makes the record invalid, `errors`), and
/// everything a receiver would act on differently from what the owner may intend as a note
/// (`warnings`). pct, rf and ri are historic in RFC 9989: read, never decisive.
public struct DMARCRecord: Sendable, Equatable {
    public enum Policy: String, Sendable, Codable { case none, quarantine, reject }
    /// RFC 9989 4.7 `psd`: y, this is a public suffix domain's record; n, this is an
    /// organisational domain; u (the default), not said.
    public enum PublicSuffixFlag: String, Sendable, Codable { case yes = "y", no = "n", unknown = "u" }

    public var tags: [Tag] = []
    /// A valid `p`; nil when absent or invalid (see `invalidPolicies`).
    public var policy: Policy?
    public var subdomainPolicy: Policy?
    public var nonExistentSubdomainPolicy: Policy?
    /// Policy tags whose values are not none, quarantine or reject ("p=block"): RFC 9989 4.7 has
    /// receivers ignore them, falling back as `effectivePolicy` says.
    public var invalidPolicies: [String] = []
    /// Historic (RFC 7489) `pct`.
    public var percent: Int?
    /// `t=y`: test mode, the owner asks receivers to apply the policy one step weaker.
    public var testMode = false
    public var publicSuffix: PublicSuffixFlag = .unknown
    public var aggregateReports: [ReportURI] = []
    public var failureReports: [ReportURI] = []
    public var dkimAlignment = "r"
    public var spfAlignment = "r"
    public var failureOptions: [String] = ["0"]
    public var reportInterval: Int?
    /// Things a receiver acts on differently from what the record seems to say, or that RFC
    /// 7489 receivers still read; they do not make the record invalid.
    public var warnings: [String] = []

    /// Does a valid rua name somewhere to send aggregate reports?
    public var hasValidAggregateDestination: Bool { aggregateReports.contains { $0.mailDomain != nil } }

    /// The policy receivers apply to the domain itself: `p`; without a valid `p`, `none` when a
    /// valid rua exists (RFC 9989 4.7), else nil: no DMARC policy at all.
    public var effectivePolicy: Policy? {
        if let policy { return policy }
        return hasValidAggregateDestination ? Policy.none : nil
    }
    /// For subdomains: `sp`, else `p` (its fallback).
    public var effectiveSubdomainPolicy: Policy? { subdomainPolicy ?? effectivePolicy }
    /// For names that do not exist: `np`, else `sp`, else `p`.
    public var effectiveNonExistentPolicy: Policy? { nonExistentSubdomainPolicy ?? effectiveSubdomainPolicy }
    public var effectivePercent: Int { percent ?? 100 }

    /// Does this TXT record claim to be DMARC? It must begin with its version tag: `v`, optional
    /// spaces, `=`, optional spaces, `DMARC1` (RFC 9989 4.7); a leading space is another record.
    public static func isCandidate(_ text: String) -> Bool {
        guard text.first == "v" || text.first == "V" else { return false }
        let afterV = TagValueList.trim(text.dropFirst())
        guard afterV.hasPrefix("=") else { return false }
        let version = TagValueList.trim(afterV.dropFirst())
        guard version.hasPrefix("DMARC1") else { return false }
        let rest = version.dropFirst("DMARC1".count)
        return rest.isEmpty || TagValueList.trim(rest).hasPrefix(";")
    }

    /// Something that looks like a DMARC record but is not one ("v=DMARC2", "v=dmarc1",
    /// " v=DMARC1", "nv=DMARC1"): said by name, rather than as "no DMARC record".
    public static func looksLikeDMARC(_ text: String) -> Bool {
        !isCandidate(text) && text.lowercased().contains("dmarc")
    }

    static func isKeyword(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last, first.isASCII, first.isLetter || first.isNumber,
              last != "-" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    public static func parse(_ text: String) -> Result<DMARCRecord, RecordSyntaxError> {
        guard isCandidate(text) else {
            return .failure(RecordSyntaxError(text.first.map { $0 == " " || $0 == "\t" } == true
                ? "the record begins with a space; a DMARC record begins with v=DMARC1"
                : "the record must start with v=DMARC1"))
        }
        let tags: [Tag]
        switch TagValueList.parse(text) {
        case let .success(parsed): tags = parsed
        case let .failure(error): return .failure(error)
        }
        var record = DMARCRecord(tags: tags)
        // Keyword values are case-insensitive (RFC 5234 2.3): "adkim=S" is strict alignment.
        func keyword(_ tag: Tag) -> String { tag.value.lowercased() }
        for (index, tag) in tags.enumerated().dropFirst() {
            let name = tag.name.lowercased()
            let value = tag.value
            switch name {
            case "p", "sp", "np":
                guard let policy = Policy(rawValue: keyword(tag)) else {
                    record.invalidPolicies.append("\(tag.name)=\(value)")
                    continue
                }
                if name == "p" {
                    record.policy = policy
                    if index != 1 { record.warnings.append("p is not straight after v; RFC 7489 receivers want it there (RFC 7489 6.3)") }
                } else if name == "sp" {
                    record.subdomainPolicy = policy
                } else {
                    record.nonExistentSubdomainPolicy = policy
                }
            case "pct":
                // Historic (RFC 9989 drops it); RFC 7489 receivers still apply it.
                if let number = Int(value), value.allSatisfy(\.isNumber), (0...100).contains(number) {
                    record.percent = number
                } else {
                    record.warnings.append("pct=\(value) is not a whole number from 0 to 100; RFC 7489 receivers ignore it")
                }
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
                    for uri in uris where uri.sizeLimit != nil {
                        record.warnings.append("\(name) destination \(uri.uri)!\(uri.sizeLimit!): the size limit is obsolete in RFC 9989 and ignored")
                    }
                    if uris.count > 2 {
                        record.warnings.append("\(name) lists \(uris.count) destinations; receivers need only use the first two (RFC 9989)")
                    }
                case let .failure(error):
                    return .failure(RecordSyntaxError("\(name): \(error.message)"))
                }
            case "adkim", "aspf":
                guard keyword(tag) == "r" || keyword(tag) == "s" else {
                    return .failure(RecordSyntaxError("\(name)=\(value): must be r (relaxed) or s (strict)"))
                }
                if name == "adkim" { record.dkimAlignment = keyword(tag) } else { record.spfAlignment = keyword(tag) }
            case "fo":
                let options = value.split(separator: ":", omittingEmptySubsequences: false).map { TagValueList.trim($0).lowercased() }
                guard !options.isEmpty, options.allSatisfy({ ["0", "1", "d", "s"].contains($0) }) else {
                    return .failure(RecordSyntaxError("fo=\(value): must be 0, 1, d or s, separated by colons"))
                }
                record.failureOptions = options
            case "rf":
                // Historic: Keyword *(":" Keyword) (RFC 7489 6.4); only afrf was ever defined.
                let formats = value.split(separator: ":", omittingEmptySubsequences: false).map { TagValueList.trim($0).lowercased() }
                if !formats.allSatisfy(Self.isKeyword) || formats.contains(where: { $0 != "afrf" }) {
                    record.warnings.append("rf=\(value): historic; afrf is the only report format defined")
                }
            case "ri":
                // Historic: a whole number of seconds.
                if !value.isEmpty, value.allSatisfy(\.isNumber), let seconds = UInt32(value) {
                    record.reportInterval = Int(seconds)
                } else {
                    record.warnings.append("ri=\(value) is not a whole number of seconds; it is historic and ignored")
                }
            case "psd":
                guard let flag = PublicSuffixFlag(rawValue: keyword(tag)) else {
                    return .failure(RecordSyntaxError("psd=\(value): must be y, n or u"))
                }
                record.publicSuffix = flag
            case "t":
                guard ["y", "n"].contains(keyword(tag)) else {
                    return .failure(RecordSyntaxError("t=\(value): must be y or n"))
                }
                record.testMode = keyword(tag) == "y"
            case "v":
                return .failure(RecordSyntaxError("v appears twice"))
            default:
                record.warnings.append("unknown tag \(tag.name) ignored")
            }
        }
        if record.policy == nil && record.invalidPolicies.isEmpty {
            record.warnings.append(record.hasValidAggregateDestination
                ? "there is no valid p; with a valid rua receivers read it as p=none (RFC 9989 4.7)"
                : "there is no valid p and no valid rua, so receivers apply no DMARC policy (RFC 9989 4.7)")
        }
        if let percent = record.percent, percent < 100 {
            record.warnings.append("pct=\(percent) is historic: RFC 7489 receivers apply the policy to only \(percent)% of failing mail; t=y replaces pct=0")
        }
        return .success(record)
    }
}
