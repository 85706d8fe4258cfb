import Curl
import DoH

struct MTASTSCheck {
    let resolver: DNSResolving
    let fetcher: HTTPSFetcher
    let settings: DomainCheckSettings

    func run(_ domain: String, mx: MXObservation) async -> CheckResult {
        let log = EvidenceLog()
        let answer = await resolver.lookup("_mta-sts.\(domain)", .txt)
        log.add(answer)
        var fields: [(String, JSONValue)] = [("record", .null), ("valid", .null), ("errors", .array([])),
                                             ("id", .null), ("mode", .null), ("maxAge", .null),
                                             ("mxPatterns", .array([])), ("mxCovered", .null), ("uncoveredMX", .array([])),
                                             ("policyURL", .null), ("httpStatus", .null), ("contentType", .null)]
        func set(_ key: String, _ value: JSONValue) {
            if let index = fields.firstIndex(where: { $0.0 == key }) { fields[index].1 = value } else { fields.append((key, value)) }
        }
        func finish(_ status: CheckStatus, _ summary: String, advice: String? = nil, errors: [String] = []) -> CheckResult {
            set("errors", .strings(errors))
            return CheckResult(id: "mta-sts", status: status, summary: summary, advice: advice,
                               details: .object(fields), evidence: log.all)
        }
        let text: String
        switch PublishedRecord(answer, isCandidate: MTASTSRecord.isCandidate) {
        case let .lookupFailed(message):
            return finish(.error, "The MTA-STS record could not be read: \(message).")
        case .absent:
            return finish(.notPresent, "The domain has no MTA-STS policy, so senders may deliver its mail unencrypted or to an impostor server.",
                          advice: "Publish _mta-sts.\(domain) TXT \"v=STSv1; id=...\" and a policy at https://mta-sts.\(domain)/.well-known/mta-sts.txt, first in testing mode, then enforce.")
        case let .several(records):
            set("valid", .bool(false))
            return finish(.fail, "There are \(records.count) MTA-STS records; senders then ignore MTA-STS (RFC 8461 3.1).",
                          advice: "Keep exactly one MTA-STS record.", errors: ["\(records.count) MTA-STS records"])
        case let .one(record):
            text = record
        }
        set("record", .string(text))
        switch MTASTSRecord.parse(text) {
        case let .failure(error):
            set("valid", .bool(false))
            return finish(.fail, "The MTA-STS record is invalid: \(error.message).", advice: "Correct the record.",
                          errors: [error.message])
        case let .success(record):
            set("id", .string(record.id))
        }

        // The policy: https only, no redirects, a verified certificate, text/plain, size-capped.
        let url = "https://mta-sts.\(domain)/.well-known/mta-sts.txt"
        set("policyURL", .string(url))
        let response: HTTPResponse
        switch await fetcher.get(url, maxBytes: settings.mtaStsMaxPolicyBytes, log: log) {
        case let .failure(failure):
            set("valid", .bool(false))
            let advice = "Serve the policy over HTTPS at \(url) with a certificate from a public CA valid for mta-sts.\(domain)."
            if failure.isInconclusive {
                return finish(.error, "The MTA-STS policy could not be fetched: \(failure).", errors: ["\(failure)"])
            }
            if case let .transfer(.bodyTooLarge(_, limit)) = failure {
                return finish(.fail, "The MTA-STS policy is larger than \(limit) bytes; senders may refuse it.",
                              advice: "Serve a policy of a few lines.", errors: ["\(failure)"])
            }
            if case .transfer(.tls) = failure {
                return finish(.fail, "The MTA-STS policy host's certificate is not trusted: \(failure).", advice: advice,
                              errors: ["\(failure)"])
            }
            return finish(.fail, "The MTA-STS policy could not be fetched: \(failure).", advice: advice, errors: ["\(failure)"])
        case let .success(fetched):
            response = fetched
        }
        set("httpStatus", .int(response.status))
        set("contentType", .optional(response.contentType))
        if (300..<400).contains(response.status) {
            set("valid", .bool(false))
            return finish(.fail, "The MTA-STS policy URL answers with a redirect (HTTP \(response.status)), which senders must not follow (RFC 8461 3.3).",
                          advice: "Serve the policy directly at \(url).", errors: ["redirect to \(response.header("location") ?? "?")"])
        }
        guard response.status == 200 else {
            set("valid", .bool(false))
            return finish(.fail, "The MTA-STS policy URL answers HTTP \(response.status).", advice: "Serve the policy at \(url).",
                          errors: ["HTTP \(response.status)"])
        }
        guard Self.isTextPlain(response.contentType) else {
            set("valid", .bool(false))
            return finish(.fail, "The MTA-STS policy is served as \(response.contentType ?? "no content type"), not text/plain (RFC 8461 3.2).",
                          advice: "Serve the policy with Content-Type: text/plain.",
                          errors: ["content type \(response.contentType ?? "none")"])
        }
        let policy: MTASTSPolicy
        switch MTASTSPolicy.parse(String(decoding: response.body, as: UTF8.self)) {
        case let .failure(error):
            set("valid", .bool(false))
            return finish(.fail, "The MTA-STS policy is invalid: \(error.message).", advice: "Correct the policy file.",
                          errors: [error.message])
        case let .success(parsed):
            policy = parsed
        }
        set("valid", .bool(true))
        set("mode", .string(policy.mode.rawValue))
        set("maxAge", .int(policy.maxAge))
        set("mxPatterns", .strings(policy.mxPatterns))
        log.add(mx.lookup)   // a policy must cover every MX host
        var problems: [String] = []
        var status = CheckStatus.pass
        var advice: [String] = []
        if !mx.hosts.isEmpty {
            let uncovered = mx.hosts.filter { !policy.covers($0) }
            set("mxCovered", .bool(uncovered.isEmpty))
            set("uncoveredMX", .strings(uncovered))
            if !uncovered.isEmpty && policy.mode != .none {
                status = .fail
                problems.append("the policy does not cover MX host \(uncovered.joined(separator: ", ")), so senders enforcing it cannot deliver there")
                advice.append("Add mx: lines for every MX host.")
            }
        }
        switch policy.mode {
        case .enforce:
            if policy.maxAge < settings.mtaStsMinMaxAge {
                if status == .pass { status = .warn }
                problems.append("max_age is \(policy.maxAge) s, less than \(settings.mtaStsMinMaxAge)")
                advice.append("Raise max_age to at least \(settings.mtaStsMinMaxAge).")
            }
        case .testing:
            if status == .pass { status = .warn }
            problems.append("the policy is in testing mode: failures are reported, not prevented")
            advice.append("Move to mode: enforce once TLS reports show no failures.")
        case .none:
            status = .fail
            problems.append("the policy is mode: none, which withdraws MTA-STS")
            advice.append("Publish mode: enforce.")
        }
        let summary = mx.lookup.isError
            ? "the policy is valid, mode \(policy.mode.rawValue), max_age \(policy.maxAge) s; which MX hosts it must cover is not known."
            : problems.isEmpty
            ? "MTA-STS is enforced for every MX host, cached by senders for \(policy.maxAge) s."
            : "MTA-STS is published, but \(problems.joined(separator: "; "))."
        // Whether the policy covers every MX host needs the MX records.
        let missing = [MissingAnswer("the MX records (to see that the policy covers every MX host)", mx.lookup)].compactMap { $0 }
        return finish(status, summary, advice: advice.isEmpty ? nil : advice.joined(separator: " "), errors: problems)
            .unless(missing: missing)
    }

    /// `text/plain`, any case, parameters allowed (RFC 8461 3.2).
    static func isTextPlain(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { TagValueList.trim($0) } ?? ""
        return media.lowercased() == "text/plain"
    }
}
