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
        let record: SPFRecord
        switch SPFRecord.parse(text) {
        case let .failure(error):
            return finish(.fail, "The SPF record is invalid: \(error.message).",
                          advice: "Correct the record; receivers treat a syntax error as permerror.",
                          record: text, valid: false, errors: [error.message])
        case let .success(parsed):
            record = parsed
        }
        let walker = SPFTreeWalker(resolver: resolver, log: log)
        let tree = await walker.walk(domain: domain, record: record, text: text)
        let all = tree.effectiveAll
        details.append(("allQualifier", .optional(all.map { String($0.rawValue) })))
        details.append(("warnings", .strings(walker.warnings)))
        details.append(("tree", tree.json))
        let included = Self.domains(in: tree)
        var errors = walker.permanentErrors
        var status = CheckStatus.pass
        var summary = ""
        var advice: String?
        if walker.lookups > settings.spfMaxLookups {
            errors.insert("\(walker.lookups) DNS-querying terms; the limit is \(settings.spfMaxLookups) (RFC 7208 4.6.4)", at: 0)
            status = .fail
            summary = "The SPF record needs \(walker.lookups) DNS look-ups, more than the \(settings.spfMaxLookups) receivers allow: they stop with permerror and SPF fails."
            advice = "Flatten or remove includes so that the whole tree needs at most \(settings.spfMaxLookups) look-ups."
        }
        if walker.voidLookups > settings.spfMaxVoidLookups {
            errors.append("\(walker.voidLookups) void look-ups; the limit is \(settings.spfMaxVoidLookups) (RFC 7208 4.6.4)")
            if status == .pass {
                status = .fail
                summary = "The SPF record has \(walker.voidLookups) look-ups that find nothing, more than the \(settings.spfMaxVoidLookups) receivers allow."
                advice = "Remove terms that name domains which do not exist or have no address."
            }
        }
        if status == .pass, let first = walker.permanentErrors.first {
            status = .fail
            summary = "The SPF record is broken: \(first)."
            advice = "Fix the record so that every include and redirect leads to exactly one valid SPF record, without loops."
        }
        if status == .pass, let first = walker.temporaryErrors.first {
            errors.append(contentsOf: walker.temporaryErrors)
            status = .error
            summary = "Part of the SPF record could not be checked: \(first)."
        }
        if status == .pass {
            switch all {
            case .some(let qualifier) where settings.spfAcceptedAllQualifiers.contains(qualifier):
                summary = "One valid SPF record ending in \(qualifier.rawValue)all, needing \(walker.lookups) of \(settings.spfMaxLookups) DNS look-ups."
                if let ptr = walker.ptrTerms.first {
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
        let evaluable = walker.permanentErrors.isEmpty && walker.lookups <= settings.spfMaxLookups
            && walker.voidLookups <= settings.spfMaxVoidLookups
        return finish(status, summary, advice: advice, record: text, valid: evaluable,
                      errors: errors, lookups: walker.lookups, void: walker.voidLookups, included: included)
    }

    private static func domains(in node: SPFTreeNode) -> [String] {
        node.children.flatMap { [$0.domain] + domains(in: $0) }
    }
}
