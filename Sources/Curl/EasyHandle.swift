import CCurl
import CTLSPeer
import Foundation

/// One libcurl easy handle and the memory curl keeps pointers to while it lives: the error
/// buffer and the string lists. All of it is freed in `deinit`, so a transfer that fails at any
/// point frees what it took.
final class EasyHandle {
    let pointer: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var lists: [UnsafeMutablePointer<curl_slist>] = []

    init?() {
        guard let pointer = curl_easy_init() else { return nil }
        self.pointer = pointer
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        _ = mailaudit_curl_setopt_ptr(pointer, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    deinit {
        curl_easy_cleanup(pointer)
        for list in lists { curl_slist_free_all(list) }
        errorBuffer.deallocate()
    }

    func set(_ option: CURLoption, _ value: Int) -> CURLcode { mailaudit_curl_setopt_long(pointer, option, value) }

    /// curl copies strings passed as options (since 7.17), so `value` need not outlive the call.
    func set(_ option: CURLoption, _ value: String) -> CURLcode { mailaudit_curl_setopt_ptr(pointer, option, value) }

    /// A string list (headers, CURLOPT_RESOLVE entries): curl keeps the pointer, the handle keeps the list.
    func set(_ option: CURLoption, list entries: [String]) -> CURLcode {
        var list: UnsafeMutablePointer<curl_slist>?
        for entry in entries {
            // On failure curl_slist_append returns NULL and leaves the list as it was: free it.
            guard let longer = curl_slist_append(list, entry) else {
                curl_slist_free_all(list)
                return CURLE_OUT_OF_MEMORY
            }
            list = longer
        }
        guard let list else { return CURLE_OK }
        lists.append(list)
        return mailaudit_curl_setopt_ptr(pointer, option, list)
    }

    /// The same from the text curl keeps of the chain (CURLOPT_CERTINFO), for a transfer that
    /// has ended: a connect-only one (the STARTTLS probe) no longer holds its connection when
    /// curl says it is done, so its session cannot be asked.
    func leafCertificateFromCertInfo() -> CertificateSummary? {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard mailaudit_curl_getinfo_certinfo(pointer, &info) == CURLE_OK, let info,
              info.pointee.num_of_certs > 0, let first = info.pointee.certinfo?[0] else { return nil }
        var summary = CertificateSummary()
        var node: UnsafeMutablePointer<curl_slist>? = first
        while let current = node {
            if let data = current.pointee.data {
                let line = String(cString: data)
                if let colon = line.firstIndex(of: ":") {
                    let value = String(line[line.index(after: colon)...])
                    switch line[..<colon] {
                    case "Subject": summary.subject = value
                    case "Issuer": summary.issuer = value
                    case "Start date": summary.notBefore = value
                    case "Expire date": summary.notAfter = value
                    default: break
                    }
                }
            }
            node = current.pointee.next
        }
        return summary
    }

    /// curl's own words for why a transfer ended with `code`.
    func message(for code: CURLcode) -> String {
        let detailed = String(cString: errorBuffer)
        return detailed.isEmpty ? String(cString: curl_easy_strerror(code)) : detailed
    }

    /// Subject, issuer and validity of the server's own certificate, read from the connection's
    /// TLS session: only while the transfer runs (from a header callback). Nil when there is no
    /// TLS session or no certificate.
    func leafCertificate() -> CertificateSummary? {
        var peer = mailaudit_tls_peer()
        guard mailaudit_tls_peer_read(pointer, &peer) == 1 else { return nil }
        func text<T>(_ field: inout T) -> String? {
            let value = withUnsafeBytes(of: &field) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            return value.isEmpty ? nil : value
        }
        var summary = CertificateSummary()
        summary.subject = text(&peer.subject)
        summary.issuer = text(&peer.issuer)
        summary.notBefore = text(&peer.not_before)
        summary.notAfter = text(&peer.not_after)
        return summary
    }
}

/// What the transfer thread of `CurlClient` drives: an easy handle, and what to do when it ends.
protocol CurlTask: AnyObject {
    var handle: EasyHandle { get }
    /// What is being fetched or probed, for messages: a URL.
    var target: String { get }
    /// The transfer ended with `code`: read what is needed from the handle and resume the caller.
    func finish(code: CURLcode)
    /// The transfer will not run (the client is shutting down, or the multi handle refused it).
    func abandon(_ failure: HTTPFailure)
}
