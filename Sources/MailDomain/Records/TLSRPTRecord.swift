/// The `_smtp._tls.<domain>` TXT record (RFC 8460 3): `v=TLSRPTv1; rua=...`.
public struct TLSRPTRecord: Sendable, Equatable {
    public var reportURIs: [ReportURI]
    public var extensions: [Tag]

    public static func isCandidate(_ text: String) -> Bool { text.hasPrefix("v=TLSRPTv1") }

    public static func parse(_ text: String) -> Result<TLSRPTRecord, RecordSyntaxError> {
        let tags: [Tag]
        switch TagValueList.parse(text, names: .extensionName) {
        case let .success(parsed): tags = parsed
        case let .failure(error): return .failure(error)
        }
        guard let first = tags.first, first.name == "v", first.value == "TLSRPTv1", text.hasPrefix("v=TLSRPTv1") else {
            return .failure(RecordSyntaxError("the record must start with v=TLSRPTv1"))
        }
        var uris: [ReportURI]?
        var extensions: [Tag] = []
        for tag in tags.dropFirst() {
            if tag.name == "rua" {
                switch ReportURI.parseList(tag.value, allowSizeLimit: false) {
                case let .success(parsed):
                    if let bad = parsed.first(where: { $0.scheme != "mailto" && $0.scheme != "https" }) {
                        return .failure(RecordSyntaxError("rua \(bad.uri): only mailto: and https: are allowed"))
                    }
                    if let bad = parsed.first(where: { !$0.isUsableReportDestination }) {
                        return .failure(RecordSyntaxError(bad.scheme == "mailto"
                            ? "rua \(bad.uri): a mailto: URI must hold a mail address (RFC 8460 3)"
                            : "rua \(bad.uri): an https: URI must be an absolute URL with a host (RFC 8460 3)"))
                    }
                    uris = parsed
                case let .failure(error):
                    return .failure(RecordSyntaxError("rua: \(error.message)"))
                }
            } else {
                guard tag.name.count <= 32, !tag.value.isEmpty,
                      tag.value.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) && $0 != "=" && $0 != ";" }) else {
                    return .failure(RecordSyntaxError("extension \(tag.name)=\(tag.value) is malformed"))
                }
                extensions.append(tag)
            }
        }
        guard let uris, !uris.isEmpty else { return .failure(RecordSyntaxError("rua is missing")) }
        return .success(TLSRPTRecord(reportURIs: uris, extensions: extensions))
    }
}
