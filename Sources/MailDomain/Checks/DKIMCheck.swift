import DoH

struct DKIMCheck {
    let resolver: DNSResolving
    let settings: DomainCheckSettings

    private struct Key {
        var selector: String
        var text: String
        var parsed: Result<DKIMKeyRecord, RecordSyntaxError>
    }

    func run(_ domain: String) async -> CheckResult {
        let log = EvidenceLog()
        let selectors = settings.dkimSelectors
        var answers: [String: DNSLookup] = [:]
        await withTaskGroup(of: (String, DNSLookup).self) { group in
            for selector in selectors {
                group.addTask { (selector, await resolver.lookup("\(selector)._domainkey.\(domain)", .txt)) }
            }
            for await (selector, answer) in group { answers[selector] = answer }
        }
        var keys: [Key] = []
        var failedSelectors: [String] = []
        var missing: [MissingAnswer] = []
        for selector in selectors {
            guard let answer = answers[selector] else { continue }
            log.add(answer)
            if let failed = MissingAnswer("the DKIM selector \(selector)", answer) {
                failedSelectors.append(selector)
                missing.append(failed)
                continue
            }
            // A TXT at the selector that is not a key record (no p=) is not counted as a key.
            for text in answer.texts where text.contains("p=") || text.hasPrefix("v=DKIM1") {
                keys.append(Key(selector: selector, text: text, parsed: DKIMKeyRecord.parse(text)))
            }
        }
        let found: [JSONValue] = keys.map { key in
            var fields: [(String, JSONValue)] = [("selector", .string(key.selector)), ("record", .string(key.text))]
            switch key.parsed {
            case let .success(record):
                fields += [("valid", .bool(true)), ("keyType", .string(record.keyType.rawValue)),
                           ("bits", .optional(record.keyBits)), ("revoked", .bool(record.isRevoked)), ("errors", .array([]))]
            case let .failure(error):
                fields += [("valid", .bool(false)), ("keyType", .null), ("bits", .null), ("revoked", .null),
                           ("errors", .strings([error.message]))]
            }
            return .object(fields)
        }
        let conclusive = failedSelectors.isEmpty && !keys.isEmpty
        let details: JSONValue = .object([
            ("selectorsTried", .strings(selectors)), ("selectorsFailed", .strings(failedSelectors)),
            ("keys", .array(found)), ("conclusive", .bool(conclusive)),
        ])
        // A key that fails the threshold fails whatever else failed; anything short of that needed
        // every selector's answer (the one that failed may hold a weak key).
        func finish(_ status: CheckStatus, _ summary: String, advice: String? = nil) -> CheckResult {
            CheckResult(id: "dkim", status: status, summary: summary, advice: advice, details: details, evidence: log.all)
                .unless(missing: missing)
        }
        if keys.isEmpty {
            return finish(.warn, "No DKIM key was found among the \(selectors.count) selectors tried (\(selectors.joined(separator: ", "))); the domain may sign with a selector not tried.",
                          advice: "Confirm the domain's DKIM selectors with its IT contact and add them to the site configuration.")
        }
        let invalid = keys.filter { if case .failure = $0.parsed { return true } else { return false } }
        let usable = keys.compactMap { key -> (String, DKIMKeyRecord)? in
            if case let .success(record) = key.parsed, !record.isRevoked { return (key.selector, record) }
            return nil
        }
        let weak = usable.filter { $0.1.keyType == .rsa && ($0.1.keyBits ?? 0) < settings.dkimMinimumRSABits }
        let short = usable.filter { $0.1.keyType == .rsa && ($0.1.keyBits ?? 0) < settings.dkimRecommendedRSABits }
        let describe = { (pairs: [(String, DKIMKeyRecord)]) in
            pairs.map { "\($0.0) (\($0.1.keyType.rawValue) \($0.1.keyBits ?? 0) bits)" }.joined(separator: ", ")
        }
        if !weak.isEmpty {
            return finish(.fail, "DKIM key \(describe(weak)) is shorter than \(settings.dkimMinimumRSABits) bits and can be forged.",
                          advice: "Replace it with a 2048-bit RSA key and withdraw the old one.")
        }
        if usable.isEmpty {
            let why = invalid.isEmpty ? "only revoked keys were found" : "the key records found are invalid (\(invalid.map(\.selector).joined(separator: ", ")))"
            return finish(.warn, "No usable DKIM key among the selectors tried: \(why).",
                          advice: "Publish a valid 2048-bit key for the selector the mail system signs with.")
        }
        if !short.isEmpty {
            return finish(.warn, "DKIM key \(describe(short)) is shorter than the recommended \(settings.dkimRecommendedRSABits) bits.",
                          advice: "Rotate to a 2048-bit RSA key.")
        }
        if !invalid.isEmpty {
            return finish(.warn, "DKIM keys found: \(describe(usable)); but the record at \(invalid.map(\.selector).joined(separator: ", ")) is invalid.",
                          advice: "Correct or remove the invalid key record.")
        }
        return finish(.pass, "DKIM key\(usable.count > 1 ? "s" : "") found: \(describe(usable)).")
    }
}
