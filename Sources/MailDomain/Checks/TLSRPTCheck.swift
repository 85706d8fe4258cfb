import DoH

struct TLSRPTCheck {
    let resolver: DNSResolving
    var retiredReportAddresses: Set<String> = []

    func run(_ domain: String) async -> CheckResult {
        let log = EvidenceLog()
        let answer = await resolver.lookup("_smtp._tls.\(domain)", .txt)
        log.add(answer)
        func finish(_ status: CheckStatus, _ summary: String, advice: String? = nil, record: String? = nil,
                    valid: Bool? = nil, errors: [String] = [], rua: [String] = []) -> CheckResult {
            CheckResult(id: "tls-rpt", status: status, summary: summary, advice: advice,
                        details: .object([("record", .optional(record)), ("valid", .optional(valid)),
                                          ("errors", .strings(errors)), ("rua", .strings(rua))]),
                        evidence: log.all)
        }
        let text: String
        switch PublishedRecord(answer, isCandidate: TLSRPTRecord.isCandidate) {
        case let .lookupFailed(message):
            return finish(.error, "The TLS-RPT record could not be read: \(message).")
        case .absent:
            return finish(.notPresent, "The domain asks for no TLS reports (TLS-RPT), so failures of encrypted delivery go unseen.",
                          advice: "Publish _smtp._tls.\(domain) TXT \"v=TLSRPTv1; rua=mailto:...\".")
        case let .several(records):
            return finish(.fail, "There are \(records.count) TLS-RPT records; senders then use none (RFC 8460 3).",
                          advice: "Keep exactly one TLS-RPT record.", valid: false,
                          errors: ["\(records.count) TLS-RPT records"])
        case let .one(record):
            text = record
        }
        switch TLSRPTRecord.parse(text) {
        case let .failure(error):
            return finish(.fail, "The TLS-RPT record is invalid: \(error.message).", advice: "Correct the record.",
                          record: text, valid: false, errors: [error.message])
        case let .success(record):
            if record.reportURIs.allSatisfy({ $0.isRetired(in: retiredReportAddresses) }) {
                return finish(.warn, "TLS reports go only to a retired service (\(record.reportURIs.map(\.uri).joined(separator: ", "))), so nobody reads them.",
                              advice: "Send TLS reports (rua) to an address someone reads.", record: text, valid: true,
                              rua: record.reportURIs.map(\.uri))
            }
            return finish(.pass, "TLS failures are reported to \(record.reportURIs.map(\.uri).joined(separator: ", ")).",
                          record: text, valid: true, rua: record.reportURIs.map(\.uri))
        }
    }
}
