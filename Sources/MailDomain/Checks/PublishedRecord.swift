import DoH

/// What a TXT look-up says about a record that must be published exactly once (SPF, DMARC,
/// MTA-STS, TLS-RPT): other TXT records at the name are ignored, as receivers ignore them.
enum PublishedRecord {
    case lookupFailed(String)
    case absent
    case several([String])
    case one(String)

    init(_ answer: DNSLookup, isCandidate: (String) -> Bool) {
        if case let .error(message) = answer.status {
            self = .lookupFailed(message)
            return
        }
        let candidates = answer.texts.filter(isCandidate)
        switch candidates.count {
        case 0: self = .absent
        case 1: self = .one(candidates[0])
        default: self = .several(candidates)
        }
    }
}
