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

    /// curl's own words for why a transfer ended with `code`.
    func message(for code: CURLcode) -> String {
        let detailed = String(cString: errorBuffer)
        return detailed.isEmpty ? String(cString: curl_easy_strerror(code)) : detailed
    }

    /// Subject, issuer and validity of the server's own certificate, read from the connection's
    /// TLS session: only while it is alive (from a header callback, or after a connect-only
    /// transfer). Nil when there is no TLS session or no certificate.
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
