import Curl
import DoH
import Foundation

/// Whether the domain's mail servers protect mail in transit: each MX host (the first few, in
/// preference order) is asked on port 25 to start TLS, which must be TLS 1.2 or later with a
/// certificate valid for the host name. Optional: port 25 is blocked on many networks, so the
/// site turns it on (`--smtp`, `checks.smtp`).
struct SMTPStartTLSCheck {
    let resolver: DNSResolving
    let client: CurlClient
    let settings: DomainCheckSettings

    /// One MX host's outcome, for the details and the summary.
    struct HostResult {
        var host: String
        var address: String?
        var outcome: STARTTLSOutcome?
        /// Set when the host could not be probed at all (no address, or its look-up failed).
        var unresolved: DNSLookup.Status?

        var label: String {
            if let unresolved {
                if case .error = unresolved { return "undetermined" }
                return "no-address"
            }
            switch outcome {
            case .secured: return "secured"
            case .notOffered: return "no-starttls"
            case .handshakeFailed: return "tls-failed"
            case .certificateRejected: return "certificate-rejected"
            case .unreachable: return "unreachable"
            case .failed, nil: return "undetermined"
            }
        }

        /// A failure the domain's owner must fix, as opposed to one we could not get past.
        var isFailure: Bool { ["no-starttls", "tls-failed", "certificate-rejected", "no-address"].contains(label) }

        var sentence: String {
            // curl's messages end in a full stop of their own.
            func trimmed(_ message: String) -> String { message.hasSuffix(".") ? String(message.dropLast()) : message }
            switch outcome {
            case .secured: return "\(host) starts TLS 1.2+ with a valid certificate"
            case let .notOffered(why): return "\(host) does not offer STARTTLS (\(trimmed(why)))"
            case let .handshakeFailed(why): return "\(host) offers STARTTLS but the TLS 1.2+ handshake fails (\(trimmed(why)))"
            case let .certificateRejected(why): return "\(host) presents a certificate that does not verify (\(trimmed(why)))"
            case let .unreachable(why): return "\(host) could not be reached on port 25 (\(trimmed(why)))"
            case let .failed(why): return "\(host) could not be probed (\(trimmed(why)))"
            case nil:
                if case let .error(message)? = unresolved { return "\(host)'s address could not be looked up (\(message))" }
                return "\(host) has no address"
            }
        }
    }

    func run(_ domain: String, mx: MXObservation) async -> CheckResult {
        let log = EvidenceLog()
        func finish(_ status: CheckStatus, _ summary: String, advice: String? = nil, hosts: [HostResult] = []) -> CheckResult {
            let details: [(String, JSONValue)] = [
                ("port", .int(25)),
                ("hosts", .array(hosts.map { host in
                    var fields: [(String, JSONValue)] = [("host", .string(host.host)), ("address", .optional(host.address)),
                                                         ("result", .string(host.label)), ("detail", .string(host.sentence))]
                    if case let .secured(certificate)? = host.outcome {
                        fields.append(("certificate", .object([
                            ("subject", .optional(certificate?.subject)), ("issuer", .optional(certificate?.issuer)),
                            ("notAfter", .optional(certificate?.notAfter)),
                        ])))
                    }
                    return .object(fields)
                })),
            ]
            return CheckResult(id: "smtp-starttls", status: status, summary: summary, advice: advice,
                               details: .object(details), evidence: log.all)
        }
        if mx.isNullMX { return finish(.notApplicable, "The domain receives no mail (null MX): nothing to probe.") }
        if case let .error(message) = mx.lookup.status {
            return finish(.error, "The MX records could not be read, so no mail server was probed: \(message).")
        }
        guard !mx.hosts.isEmpty else {
            return finish(.notApplicable, "The domain has no MX records: no mail server to probe.")
        }
        let hosts = Array(mx.hosts.prefix(settings.smtpMaxHosts))
        // Each host's probe keeps its own evidence, joined in the MX order: the same order every run.
        let results = await withTaskGroup(of: (Int, HostResult, EvidenceLog).self) { group in
            for (index, host) in hosts.enumerated() {
                group.addTask {
                    let hostLog = EvidenceLog()
                    return (index, await probe(host, log: hostLog), hostLog)
                }
            }
            var results = [(HostResult, EvidenceLog)?](repeating: nil, count: hosts.count)
            for await (index, result, hostLog) in group { results[index] = (result, hostLog) }
            return results.compactMap { $0 }.map { result, hostLog in
                log.add(contentsOf: hostLog.all)
                return result
            }
        }
        let skipped = mx.hosts.count > hosts.count ? " (the first \(hosts.count) of \(mx.hosts.count) MX hosts)" : ""
        if let failing = results.first(where: \.isFailure) {
            let others = results.filter(\.isFailure).count - 1
            return finish(.fail, "Not every MX host protects mail in transit: \(failing.sentence)\(others > 0 ? ", and \(others) more" : "").",
                          advice: "Have every MX host offer STARTTLS with TLS 1.2 or later and a certificate for its own name from a public CA; then publish MTA-STS so that senders insist on it.",
                          hosts: results)
        }
        if let undetermined = results.first(where: { $0.label != "secured" }) {
            return finish(.error, "Not every mail server could be probed: \(undetermined.sentence). Port 25 may be blocked from here.",
                          hosts: results)
        }
        return finish(.pass, "Every MX host\(skipped) starts TLS 1.2+ with a valid certificate.", hosts: results)
    }

    private func probe(_ host: String, log: EvidenceLog) async -> HostResult {
        guard let name = DNSName.unescape(host) else {
            return HostResult(host: host, unresolved: .error("the name holds octets that are not text"))
        }
        let (addresses, status) = await HTTPSFetcher.addresses(of: name, resolver: resolver, log: log)
        guard let address = addresses.first else { return HostResult(host: host, unresolved: status) }
        var request = STARTTLSRequest(host: name, address: address)
        request.caFile = settings.caFile
        request.timeout = settings.smtpTimeout
        let started = Date()
        let outcome = await client.probeSTARTTLS(request)
        let result = HostResult(host: host, address: address, outcome: outcome)
        var data = [result.sentence]
        if case let .secured(certificate?) = outcome { data.append(certificate.evidenceLine) }
        log.add(Evidence(kind: .smtp, query: "STARTTLS \(name):25 (\(address))", result: result.label, data: data,
                         observedAt: started))
        return result
    }
}
