import DoH

struct SPFCheck {
    let resolver: DNSResolving
    let settings: DomainCheckSettings

    /// The `include:` and `redirect=` domains seen, for provider detection.
    struct Outcome { var result: CheckResult; var includedDomains: [String] }

    func run(_ domain: String) async -> Outcome {
        let log = EvidenceLog()
        let answer = await resolver.lookup(domain, .txt)
        log.add(answer)
        var details: [(String, JSONValue)] = []
        func finish(_ status: CheckStatus, _ summary: String, advice: String? = nil, record: String? = nil,
                    valid: Bool? = nil, errors: [String] = [], lookups: Int = 0, void: Int = 0,
                    included: [String] = []) -> Outcome {
            let fields: [(String, JSONValue)] = [
                ("record", .optional(record)), ("valid", .optional(valid)), ("errors", .strings(errors)),
                ("lookups", .int(lookups)), ("voidLookups", .int(void)),
            ]
            return Outcome(result: CheckResult(id: "spf", status: status, summary: summary, advice: advice,
                                               details: .object(fields + details), evidence: log.all),
                           includedDomains: included)
        }
        if answer.status == .nxDomain {
            return finish(.notPresent, "The domain does not exist, so it has no SPF record.")
        }
        let text: String
        switch PublishedRecord(answer, isCandidate: SPFRecord.isCandidate) {
        case let .lookupFailed(message):
            return finish(.error, "The SPF record could not be read: \(message).")
        case .absent:
            return finish(.notPresent, "The domain publishes no SPF record: anyone can send mail claiming to be from it.",
                          advice: "Publish one TXT record \"v=spf1 ... -all\" listing the services that send this domain's mail.")
        case let .several(records):
            details.append(("records", .strings(records)))
            return finish(.fail, "The domain publishes \(records.count) SPF records; receivers treat that as an error (permerror) and ignore SPF.",
                          advice: "Merge them into a single v=spf1 record.", valid: false,
                          errors: ["\(records.count) SPF records (RFC 7208 4.5)"])
        case let .one(record):
            text = record
        }
        if case let .failure(error) = SPFRecord.parse(text) {
            return finish(.fail, "The SPF record is invalid: \(error.message).",
                          advice: "Correct the record; receivers treat a syntax error as permerror.",
                          record: text, valid: false, errors: [error.message])
        }
        // The record is evaluated by the same engine as `spf-check`, for a client address no
        // record can mean to list, so that every term is evaluated: what the engine spends is
        // what the record costs a receiver. The limits are raised so the count goes on past
        // the receivers' and tells how far over them a record is.
        // Each evaluation keeps its own evidence, so that the two running side by side give one
        // order: the record's answer, the IPv4 evaluation's questions, then the IPv6 one's others.
        let recorders = (v4: EvidenceRecordingResolver(resolver), v6: EvidenceRecordingResolver(resolver))
        func engine(_ recorder: EvidenceRecordingResolver) -> SPFEngine {
            SPFEngine(resolver: recorder, maxLookups: Self.countingBound, maxVoidLookups: Self.countingBound, prefetch: true)
        }
        async let overIPv4 = engine(recorders.v4).checkHost(ip: Self.unlistedIPv4, sender: "postmaster@\(domain)", helo: domain)
        async let overIPv6 = engine(recorders.v6).checkHost(ip: Self.unlistedIPv6, sender: "postmaster@\(domain)", helo: domain)
        let (v4, v6) = await (overIPv4, overIPv6)
        log.add(contentsOf: recorders.v4.evidence + recorders.v6.evidence, skippingRepeats: true)
        let evaluations = [(family: "IPv4", address: "240.0.0.1", evaluation: v4), (family: "IPv6", address: "100::1", evaluation: v6)]
        // The tree is the IPv4 evaluation's; the counts are the larger of the two, as void
        // look-ups differ when a name has an address of one family only.
        let tree = v4.tree
        let all = tree?.effectiveAll
        let lookups = max(v4.lookups, v6.lookups)
        let void = max(v4.voidLookups, v6.voidLookups)
        let voidFamilies = evaluations.filter { $0.evaluation.voidLookups > settings.spfMaxVoidLookups }.map(\.family)
        details.append(("allQualifier", .optional(all.map { String($0.rawValue) })))
        details.append(("warnings", .strings(v4.warnings)))
        details.append(("unlistedSender", .object(evaluations.map { item in
            (item.family.lowercased(), .object([
                ("address", .string(item.address)), ("result", .string(item.evaluation.result.rawValue)),
                ("lookups", .int(item.evaluation.lookups)), ("voidLookups", .int(item.evaluation.voidLookups)),
                ("decidedBy", .strings(item.evaluation.decidedBy)), ("reason", .optional(item.evaluation.reason)),
            ]))
        })))
        details.append(("tree", tree?.json ?? .null))
        let included = tree.map(Self.domains) ?? []
        // A permerror from the counting bound is the look-up count's finding, reported below.
        let broken = evaluations.first { item in
            item.evaluation.result == .permerror
                && item.evaluation.lookups <= Self.countingBound && item.evaluation.voidLookups <= Self.countingBound
        }
        let unreadable = evaluations.first { $0.evaluation.result == .temperror }
        var errors: [String] = []
        var status = CheckStatus.pass
        var summary = ""
        var advice: String?
        if lookups > settings.spfMaxLookups {
            let count = lookups > Self.countingBound ? "more than \(Self.countingBound)" : "\(lookups)"
            errors.append("\(count) DNS-querying terms; the limit is \(settings.spfMaxLookups) (RFC 7208 4.6.4)")
            status = .fail
            summary = "The SPF record needs \(count) DNS look-ups, more than the \(settings.spfMaxLookups) receivers allow: they stop with permerror and SPF fails."
            advice = "Flatten or remove includes so that the whole tree needs at most \(settings.spfMaxLookups) look-ups."
        }
        if void > settings.spfMaxVoidLookups {
            let whom = voidFamilies.count == 1 ? " for senders over \(voidFamilies[0])" : ""
            errors.append("\(void) void look-ups\(whom); the limit is \(settings.spfMaxVoidLookups) (RFC 7208 4.6.4)")
            if status == .pass {
                status = .fail
                summary = "The SPF record has \(void) look-ups that find nothing\(whom), more than the \(settings.spfMaxVoidLookups) receivers allow."
                advice = "Remove terms that name domains which do not exist or have no address\(voidFamilies.count == 1 ? " of that family" : "")."
            }
        }
        if let broken, let reason = broken.evaluation.reason {
            errors.append(reason)
            if status == .pass {
                status = .fail
                summary = "The SPF record is broken: \(reason)."
                advice = "Fix the record so that every include and redirect leads to exactly one valid SPF record, without loops."
            }
        }
        if let unreadable, let reason = unreadable.evaluation.reason {
            errors.append(reason)
            if status == .pass {
                status = .error
                summary = "Part of the SPF record could not be checked: \(reason)."
            }
        }
        if status == .pass {
            let letThrough = evaluations.first { $0.evaluation.result == .pass }
            switch all {
            case .some(let qualifier) where settings.spfAcceptedAllQualifiers.contains(qualifier):
                if let letThrough {
                    status = .fail
                    let via = letThrough.evaluation.decidedBy.joined(separator: " → ")
                    summary = "The SPF record lets any address send: \(letThrough.address), an address no mail server has, passes through \(via)."
                    advice = "Remove the term that authorises everyone (an over-wide ip4/ip6 range, an include of a record ending in +all, an exists: that always finds an address)."
                    errors.append("\(letThrough.family) address \(letThrough.address) passes through \(via)")
                } else {
                    summary = "One valid SPF record ending in \(qualifier.rawValue)all, needing \(lookups) of \(settings.spfMaxLookups) DNS look-ups."
                }
                if status == .pass, let ptr = v4.ptrTerms.first {
                    status = .warn
                    summary += " But it uses the ptr mechanism (\(ptr)), which is slow, unreliable and deprecated."
                    advice = "Replace the ptr mechanism with ip4/ip6 or a mechanisms."
                }
            case .some(let qualifier):
                status = .fail
                let meaning = qualifier == .pass ? "lets anyone send as this domain" : "tells receivers nothing about other senders"
                summary = "The SPF record ends in \(qualifier.rawValue)all, which \(meaning)."
                advice = "End the record with -all (or ~all while testing)."
                errors.append("\(qualifier.rawValue)all")
            case .none:
                status = .fail
                summary = "The SPF record has no all mechanism, so mail from other senders is neutral, not failed."
                advice = "End the record with -all (or ~all while testing)."
                errors.append("no all mechanism")
            }
        }
        let evaluable = broken == nil && lookups <= settings.spfMaxLookups && void <= settings.spfMaxVoidLookups
        return finish(status, summary, advice: advice, record: text, valid: evaluable,
                      errors: errors, lookups: lookups, void: void, included: included)
    }

    /// Addresses no SPF record can mean to list: 240.0.0.1 is reserved for future use
    /// (RFC 1112 4) and 100::1 is in the discard-only prefix (RFC 6666). A record that lets
    /// one of them pass lets everyone pass.
    static let unlistedIPv4: [UInt8] = [240, 0, 0, 1]
    static let unlistedIPv6: [UInt8] = [0x01, 0x00] + Array(repeating: 0, count: 13) + [1]

    /// How far the control counts look-ups before it stops: far past any limit a receiver keeps,
    /// and a bound on the work a hostile tree can cause.
    static let countingBound = 50

    private static func domains(in node: SPFTreeNode) -> [String] {
        node.children.flatMap { [$0.domain] + domains(in: $0) }
    }
}
