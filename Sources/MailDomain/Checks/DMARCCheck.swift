import DoH

/// Where a domain's DMARC policy comes from, found as RFC 9989 4.10 says: by walking the DNS
/// tree from the domain towards the top-level domain, not from a list of public suffixes.
struct DMARCDiscovery: Sendable {
    struct Step: Sendable {
        var name: String
        var lookup: DNSLookup
        /// TXT strings at `_dmarc.<name>` that begin as DMARC records.
        var records: [String]
        /// Other TXT strings there that look like DMARC but are not ("v=DMARC2", " v=DMARC1").
        var lookalikes: [String]
        /// The one record there, parsed; nil when none, several, or invalid.
        var parsed: DMARCRecord?
    }

    var steps: [Step] = []
    /// The look-up that failed, which makes the whole walk inconclusive.
    var failure: Step?

    /// The names asked, in order: the domain; then, for a name of 8 or more labels, its
    /// 7-label parent; then each parent up to the top-level domain; at most 8 in all.
    static func names(for domain: String) -> [String] {
        let labels = domain.split(separator: ".").map(String.init)
        var names = [domain]
        var count = labels.count >= 8 ? 7 : labels.count - 1
        while count >= 1 && names.count < 8 {
            names.append(labels.suffix(count).joined(separator: "."))
            count -= 1
        }
        return names
    }

    static func walk(_ domain: String, resolver: DNSResolving, log: EvidenceLog) async -> DMARCDiscovery {
        var discovery = DMARCDiscovery()
        for name in names(for: domain) {
            let lookup = await resolver.lookup("_dmarc.\(name)", .txt)
            log.add(lookup)
            let texts = lookup.texts
            let records = texts.filter(DMARCRecord.isCandidate)
            var parsed: DMARCRecord?
            if records.count == 1, case let .success(record) = DMARCRecord.parse(records[0]) { parsed = record }
            let step = Step(name: name, lookup: lookup, records: records, lookalikes: texts.filter(DMARCRecord.looksLikeDMARC), parsed: parsed)
            discovery.steps.append(step)
            if lookup.isError {
                discovery.failure = step
                return discovery
            }
            // A record that says whether it is a public suffix ends the walk.
            if let flag = parsed?.publicSuffix, flag != .unknown { break }
        }
        return discovery
    }

    /// The organisational domain (RFC 9989 4.10.2): the name of a psd=n record; else the name one
    /// label below a psd=y record; else the name with the fewest labels holding a record; nil
    /// when no record was found.
    var organisationalDomain: String? {
        if let own = steps.first(where: { $0.parsed?.publicSuffix == .no }) { return own.name }
        if let suffix = steps.first(where: { $0.parsed?.publicSuffix == .yes }) {
            let domain = steps[0].name
            guard suffix.name != domain else { return domain }
            let labels = suffix.name.split(separator: ".").count + 1
            return domain.split(separator: ".").suffix(labels).joined(separator: ".")
        }
        return steps.filter { $0.parsed != nil }.min { $0.name.split(separator: ".").count < $1.name.split(separator: ".").count }?.name
    }

    enum Source: String { case domain, organisationalDomain = "organisational-domain", publicSuffixDomain = "public-suffix-domain" }

    /// The record whose policy applies to the domain: its own, else the organisational
    /// domain's, else a public-suffix domain's.
    var applicable: (step: Step, source: Source)? {
        if steps.first?.parsed != nil { return (steps[0], .domain) }
        if let organisational = organisationalDomain, let step = steps.first(where: { $0.name == organisational && $0.parsed != nil }) {
            return (step, .organisationalDomain)
        }
        if let suffix = steps.first(where: { $0.parsed?.publicSuffix == .yes }) { return (suffix, .publicSuffixDomain) }
        return nil
    }
}

struct DMARCCheck {
    let resolver: DNSResolving
    let settings: DomainCheckSettings

    func run(_ domain: String) async -> CheckResult {
        let log = EvidenceLog()
        let discovery = await DMARCDiscovery.walk(domain, resolver: resolver, log: log)
        var extra: [(String, JSONValue)] = [
            ("organisationalDomain", .optional(discovery.organisationalDomain)),
            ("walk", .strings(discovery.steps.map(\.name))),
        ]
        func finish(_ status: CheckStatus, _ summary: String, advice: String? = nil, record: String? = nil, valid: Bool? = nil,
                    errors: [String] = [], findings: [String] = [], warnings: [String] = [], parsed: DMARCRecord? = nil,
                    source: DMARCDiscovery.Source? = nil, at: String? = nil) -> CheckResult {
            let fields: [(String, JSONValue)] = [
                ("record", .optional(record)), ("valid", .optional(valid)), ("errors", .strings(errors)),
                ("findings", .strings(findings)),
                ("p", .optional(parsed?.policy?.rawValue)), ("sp", .optional(parsed?.subdomainPolicy?.rawValue)),
                ("np", .optional(parsed?.nonExistentSubdomainPolicy?.rawValue)),
                ("t", .optional(parsed.map { $0.testMode ? "y" : "n" })), ("psd", .optional(parsed?.publicSuffix.rawValue)),
                ("pct", .optional(parsed?.percent)),
                ("rua", .strings(parsed?.aggregateReports.map(\.uri) ?? [])),
                ("ruf", .strings(parsed?.failureReports.map(\.uri) ?? [])),
                ("adkim", .optional(parsed?.dkimAlignment)), ("aspf", .optional(parsed?.spfAlignment)),
                ("fo", .strings(parsed?.failureOptions ?? [])),
                ("source", .optional(source?.rawValue)), ("sourceDomain", .optional(at)),
                ("warnings", .strings(warnings)),
            ]
            return CheckResult(id: "dmarc", status: status, summary: summary, advice: advice,
                               details: .object(fields + extra), evidence: log.all)
        }
        // An error anywhere in the walk leaves the applicable record unknown: never "absent".
        if let failed = discovery.failure, case let .error(message) = failed.lookup.status {
            return finish(.error, "The DMARC record could not be read: the look-up of _dmarc.\(failed.name) failed (\(message)).")
        }
        let own = discovery.steps[0]
        if own.records.count > 1 {
            extra.append(("records", .strings(own.records)))
            return finish(.fail, "There are \(own.records.count) DMARC records at _dmarc.\(domain); receivers then apply none of them.",
                          advice: "Keep exactly one DMARC record.", valid: false,
                          errors: ["\(own.records.count) DMARC records (RFC 9989 4.10)"], at: domain)
        }
        if own.records.count == 1, own.parsed == nil, case let .failure(error) = DMARCRecord.parse(own.records[0]) {
            return finish(.fail, "The DMARC record is invalid: \(error.message).", advice: "Correct the record at _dmarc.\(domain).",
                          record: own.records[0], valid: false, errors: [error.message], source: .domain, at: domain)
        }
        guard let (step, source) = discovery.applicable, let record = step.parsed, let text = step.records.first else {
            if let lookalike = discovery.steps.lazy.flatMap({ step in step.lookalikes.map { (step.name, $0) } }).first {
                return finish(.fail, "A TXT record at _dmarc.\(lookalike.0) looks like DMARC but begins with \"\(lookalike.1.prefix(24))\"; "
                              + "a DMARC record begins with v=DMARC1, so receivers ignore it.",
                              advice: "Publish the record as \"v=DMARC1; p=reject; rua=mailto:...\" at _dmarc.\(domain).",
                              valid: false, errors: ["not a DMARC record: \(lookalike.1.prefix(60))"], at: lookalike.0)
            }
            // A record published at the domain itself instead of at _dmarc (the SPF check asks the
            // same question, so the answer comes from the cache).
            let apex = await resolver.lookup(domain, .txt)
            if let misplaced = apex.texts.first(where: { DMARCRecord.isCandidate($0) || DMARCRecord.looksLikeDMARC($0) }) {
                log.add(apex)
                return finish(.fail, "A DMARC record is published at \(domain) itself (\"\(misplaced.prefix(24))\"), not at _dmarc.\(domain), "
                              + "where receivers look for it; they apply no DMARC policy.",
                              advice: "Publish the record at _dmarc.\(domain) instead.", valid: false,
                              errors: ["the DMARC record is at the domain's apex, not at _dmarc.\(domain)"], at: domain)
            }
            return finish(.notPresent, "The domain has no DMARC record, so receivers are not told to reject mail that fails SPF and DKIM.",
                          advice: "Publish \"v=DMARC1; p=reject; rua=mailto:...\" at _dmarc.\(domain) (start with p=none while you collect reports, then move to quarantine or reject).")
        }
        let at = step.name
        let origin: String
        switch source {
        case .domain: origin = ""
        case .organisationalDomain: origin = " (inherited from the organisational domain \(at))"
        case .publicSuffixDomain: origin = " (from the public-suffix domain \(at))"
        }

        // Report destinations on another organisational domain must agree to take the
        // reports (RFC 9990 3), or receivers will not send them.
        var destinations: [JSONValue] = []
        var unauthorised: [String] = []
        var missing: [MissingAnswer] = []
        // (libpsl still tells which destinations are external: RFC 9990 does not say how.)
        let ownOrganisation = OrganizationalDomain.shared.of(at)
        func isRetired(_ uri: ReportURI) -> Bool { uri.isRetired(in: settings.retiredReportAddresses) }
        for uri in record.aggregateReports + record.failureReports where !isRetired(uri) {
            guard let target = uri.mailDomain, OrganizationalDomain.shared.of(target) != ownOrganisation else { continue }
            let answer = await resolver.lookup("\(at)._report._dmarc.\(target)", .txt)
            log.add(answer)
            if let failed = MissingAnswer("the report authorisation \(at)._report._dmarc.\(target)", answer) { missing.append(failed) }
            let authorised: Bool? = answer.isError ? nil : answer.texts.contains(where: DMARCRecord.isCandidate)
            destinations.append(.object([("uri", .string(uri.uri)), ("authorised", .optional(authorised))]))
            if authorised == false { unauthorised.append(uri.uri) }
        }
        extra.append(("externalDestinations", .array(destinations)))

        // The policy that applies to mail from this domain: p at the domain itself, the
        // subdomain policy when it comes from a record above it.
        let applied = source == .domain ? record.effectivePolicy : record.effectiveSubdomainPolicy
        let appliedText = source == .domain ? "p" : "sp"
        var failures: [String] = []
        var warnings = record.warnings
        var advice: [String] = []
        if let applied {
            if !settings.dmarcEnforcingPolicies.contains(applied) && !(record.policy == nil && !record.invalidPolicies.isEmpty) {
                failures.append(source == .domain ? "the policy is p=\(applied.rawValue)"
                                : "the subdomain policy that applies from \(at) is \(applied.rawValue)")
                advice.append("Move the policy to p=quarantine, then p=reject, once reports show legitimate mail passes.")
            }
        } else {
            failures.append("the record has no valid p and no valid rua, so receivers apply no DMARC policy")
            advice.append("Give the record a valid p=quarantine or p=reject.")
        }
        if !record.invalidPolicies.isEmpty {
            failures.append("\(record.invalidPolicies.joined(separator: ", ")) is not none, quarantine or reject, so receivers ignore it"
                            + (record.policy == nil ? " and apply p=none at most" : ""))
            advice.append("Correct the policy values to quarantine or reject.")
        }
        if record.testMode {
            failures.append("t=y asks receivers to treat the policy as test mode, one step weaker (reject as quarantine, quarantine as none)")
            advice.append("Remove t=y (or set t=n) once reports show legitimate mail passes.")
        }
        if source == .domain, let sp = record.subdomainPolicy, !settings.dmarcEnforcingPolicies.contains(sp) {
            failures.append("the subdomain policy is sp=\(sp.rawValue)")
            advice.append("Set sp=quarantine or sp=reject, or remove sp so that subdomains inherit p.")
        }
        if let np = record.nonExistentSubdomainPolicy, !settings.dmarcEnforcingPolicies.contains(np) {
            warnings.append("the policy for names that do not exist is np=\(np.rawValue), so mail from made-up subdomains is not stopped")
            advice.append("Set np=reject (or remove np so that sp applies).")
        }
        if record.effectivePercent < settings.dmarcRequiredPercent {
            advice.append("Remove pct (use t=y for testing instead).")
        }
        if record.aggregateReports.isEmpty {
            warnings.append("no aggregate report address (rua), so nobody sees who sends as this domain")
            advice.append("Add rua=mailto:... so that receivers send aggregate reports.")
        } else if record.aggregateReports.allSatisfy(isRetired) {
            warnings.append("aggregate reports go only to a retired service (\(record.aggregateReports.map(\.uri).joined(separator: ", "))), so nobody reads them")
            advice.append("Send aggregate reports (rua) to an address someone reads.")
        }
        if !unauthorised.isEmpty {
            warnings.append("report destination \(unauthorised.joined(separator: ", ")) has not authorised reports for \(at)")
            advice.append("Ask the report destination to publish \(at)._report._dmarc.<their domain> TXT \"v=DMARC1\".")
        }
        if let required = settings.dmarcRequiredReportAddress?.lowercased(),
           !record.aggregateReports.contains(where: { $0.uri.lowercased() == "mailto:\(required)" }) {
            warnings.append("rua does not include the required address \(required)")
            advice.append("Add mailto:\(required) to rua.")
        }
        let policyText = applied.map { "\(appliedText)=\($0.rawValue)" } ?? "no policy"
        let status: CheckStatus = !failures.isEmpty ? .fail : (!warnings.isEmpty ? .warn : .pass)
        let summary: String
        switch status {
        case .fail: summary = "DMARC is not enforcing\(origin): \(failures.joined(separator: "; "))."
        case .warn: summary = "DMARC enforces \(policyText)\(origin), but \(warnings.joined(separator: "; "))."
        default: summary = "DMARC enforces \(policyText) on all mail\(origin), with aggregate reports."
        }
        return finish(status, summary, advice: advice.isEmpty ? nil : advice.joined(separator: " "), record: text, valid: true,
                      findings: failures, warnings: warnings, parsed: record, source: source, at: at).unless(missing: missing)
    }
}
