import DoH

struct DMARCCheck {
    let resolver: DNSResolving
    let settings: DomainCheckSettings

    private func find(at domain: String, log: EvidenceLog) async -> PublishedRecord {
        let answer = await resolver.lookup("_dmarc.\(domain)", .txt)
        log.add(answer)
        return PublishedRecord(answer, isCandidate: DMARCRecord.isCandidate)
    }

    func run(_ domain: String) async -> CheckResult {
        let log = EvidenceLog()
        var source = "domain"
        var at = domain
        var found = await find(at: domain, log: log)
        let organisational = OrganizationalDomain.shared.of(domain)
        // RFC 7489 6.6.3: with no record at the domain, ask at its organisational domain.
        if case .absent = found, organisational != domain {
            source = "organisational-domain"
            at = organisational
            found = await find(at: organisational, log: log)
        }
        var extra: [(String, JSONValue)] = []
        func finish(_ status: CheckStatus, _ summary: String, advice: String? = nil, record: String? = nil,
                    valid: Bool? = nil, errors: [String] = [], parsed: DMARCRecord? = nil, at: String? = nil) -> CheckResult {
            var fields: [(String, JSONValue)] = [
                ("record", .optional(record)), ("valid", .optional(valid)), ("errors", .strings(errors)),
                ("p", .optional(parsed?.policy?.rawValue)), ("sp", .optional(parsed?.subdomainPolicy?.rawValue)),
                ("pct", .optional(parsed?.percent)),
                ("rua", .strings(parsed?.aggregateReports.map(\.uri) ?? [])),
                ("ruf", .strings(parsed?.failureReports.map(\.uri) ?? [])),
                ("adkim", .optional(parsed?.dkimAlignment)), ("aspf", .optional(parsed?.spfAlignment)),
                ("fo", .strings(parsed?.failureOptions ?? [])),
                ("source", .optional(at == nil ? nil : source)), ("sourceDomain", .optional(at)),
            ]
            fields.append(("warnings", .strings(parsed?.warnings ?? [])))
            return CheckResult(id: "dmarc", status: status, summary: summary, advice: advice,
                               details: .object(fields + extra), evidence: log.all)
        }
        let text: String
        switch found {
        case let .lookupFailed(message):
            return finish(.error, "The DMARC record could not be read: \(message).")
        case .absent:
            return finish(.notPresent, "The domain has no DMARC record, so receivers are not told to reject mail that fails SPF and DKIM.",
                          advice: "Publish \"v=DMARC1; p=reject; rua=mailto:...\" at _dmarc.\(domain) (start with p=none while you collect reports, then move to quarantine or reject).")
        case let .several(records):
            extra.append(("records", .strings(records)))
            return finish(.fail, "There are \(records.count) DMARC records at _dmarc.\(at); receivers then apply none of them.",
                          advice: "Keep exactly one DMARC record.", valid: false,
                          errors: ["\(records.count) DMARC records (RFC 7489 6.6.3)"], at: at)
        case let .one(record):
            text = record
        }
        let inherited = source == "organisational-domain"
        let origin = inherited ? " (inherited from the organisational domain \(at))" : ""
        let record: DMARCRecord
        switch DMARCRecord.parse(text) {
        case let .failure(error):
            return finish(.fail, "The DMARC record\(origin) is invalid: \(error.message).",
                          advice: "Correct the record at _dmarc.\(at).", record: text, valid: false,
                          errors: [error.message], at: at)
        case let .success(parsed):
            record = parsed
        }
        // Report destinations on another organisational domain must agree to take the
        // reports (RFC 7489 7.1), or receivers will not send them.
        var destinations: [JSONValue] = []
        var unauthorised: [String] = []
        var missing: [MissingAnswer] = []
        let ownOrganisation = OrganizationalDomain.shared.of(at)
        for uri in record.aggregateReports + record.failureReports {
            guard let target = uri.mailDomain, OrganizationalDomain.shared.of(target) != ownOrganisation else { continue }
            let answer = await resolver.lookup("\(at)._report._dmarc.\(target)", .txt)
            log.add(answer)
            if let failed = MissingAnswer("the report authorisation \(at)._report._dmarc.\(target)", answer) { missing.append(failed) }
            let authorised: Bool? = answer.isError ? nil : answer.texts.contains(where: { $0.hasPrefix("v=DMARC1") })
            destinations.append(.object([("uri", .string(uri.uri)), ("authorised", .optional(authorised))]))
            if authorised == false { unauthorised.append(uri.uri) }
        }
        extra.append(("externalDestinations", .array(destinations)))

        // The policy that applies to mail from this domain: p at the domain itself, the
        // subdomain policy when inherited from the organisational domain.
        let applied = inherited ? record.effectiveSubdomainPolicy : record.effectivePolicy
        var failures: [String] = []
        var advice: [String] = []
        if !settings.dmarcEnforcingPolicies.contains(applied) {
            failures.append(inherited ? "the subdomain policy inherited from \(at) is \(applied.rawValue)" : "the policy is p=\(applied.rawValue)")
            advice.append("Move the policy to p=quarantine, then p=reject, once reports show legitimate mail passes.")
        }
        if !inherited, let sp = record.subdomainPolicy, !settings.dmarcEnforcingPolicies.contains(sp) {
            failures.append("the subdomain policy is sp=\(sp.rawValue)")
            advice.append("Set sp=quarantine or sp=reject, or remove sp so that subdomains inherit p.")
        }
        if record.effectivePercent < settings.dmarcRequiredPercent {
            failures.append("the policy covers only pct=\(record.effectivePercent)% of failing mail")
            advice.append("Set pct=100 (or remove pct).")
        }
        var warnings: [String] = []
        if record.aggregateReports.isEmpty {
            warnings.append("no aggregate report address (rua), so nobody sees who sends as this domain")
            advice.append("Add rua=mailto:... so that receivers send aggregate reports.")
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
        let policyText = inherited ? "sp=\(record.effectiveSubdomainPolicy.rawValue)" : "p=\(record.effectivePolicy.rawValue)"
        let status: CheckStatus = !failures.isEmpty ? .fail : (!warnings.isEmpty ? .warn : .pass)
        let summary: String
        switch status {
        case .fail: summary = "DMARC is not enforcing\(origin): \(failures.joined(separator: "; "))."
        case .warn: summary = "DMARC enforces \(policyText)\(origin), but \(warnings.joined(separator: "; "))."
        default: summary = "DMARC enforces \(policyText) on all mail\(origin), with aggregate reports."
        }
        return finish(status, summary, advice: advice.isEmpty ? nil : advice.joined(separator: " "),
                      record: text, valid: true, errors: failures + warnings, parsed: record, at: at).unless(missing: missing)
    }
}
