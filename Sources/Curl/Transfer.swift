import CCurl
import Foundation

/// An HTTPS transfer: one easy handle, the response as it arrives, and the caller waiting for it.
final class Transfer: CurlTask {
    let request: HTTPRequest
    let handle: EasyHandle
    var target: String { request.url }
    private let started = ContinuousClock.now

    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var statusLine = ""
    var exceededBodyLimit = false
    /// The server's certificate, read when its first status line arrives: the TLS session is
    /// certainly alive then, and may be gone (closed, not cached) once the transfer is done.
    var certificate: CertificateSummary?
    var continuation: CheckedContinuation<HTTPResponse, Error>?

    /// - Parameter pooled: a handle a finished transfer of the same shape
    ///   (`request.handleShape`) left, already configured for everything but the URL and the body.
    init(request: HTTPRequest, pooled: EasyHandle?) throws {
        guard let handle = pooled ?? EasyHandle() else {
            throw HTTPFailure.local(url: request.url, message: "curl_easy_init failed (out of memory or descriptors)")
        }
        self.handle = handle
        self.request = request
        guard Self.isHTTPS(request.url) else {
            throw HTTPFailure.refusedURL(url: request.url, reason: "only https:// URLs are fetched")
        }
        if pooled == nil { try configureShape() }
        try configureThisTransfer()
    }

    /// The URL starts "https://" in any case. Compared on the bytes: lowercasing the whole URL
    /// for it took an allocation on every transfer.
    static func isHTTPS(_ url: String) -> Bool {
        let expected = "https://".utf8
        guard url.utf8.count >= expected.count else { return false }
        return zip(url.utf8, expected).allSatisfy { byte, wanted in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte) == wanted
        }
    }

    /// The options every request of this shape has.
    private func configureShape() throws {
        try check(handle.set(CURLOPT_PROTOCOLS_STR, "https"))
        try check(handle.set(CURLOPT_FOLLOWLOCATION, 0))
        try check(handle.set(CURLOPT_NOSIGNAL, 1))
        try check(handle.set(CURLOPT_SSL_VERIFYPEER, 1))
        try check(handle.set(CURLOPT_SSL_VERIFYHOST, 2))
        try check(handle.set(CURLOPT_SSLVERSION, mailaudit_curl_sslversion_tlsv1_2()))
        try check(handle.trust(adding: request.caFile))
        try check(mailaudit_curl_setopt_off(handle.pointer, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxBodyBytes)))
        try check(handle.set(CURLOPT_USERAGENT, "mailaudit/1"))
        // Wait for an existing connection to multiplex on rather than opening another one:
        // hundreds of DoH queries then share one HTTP/2 connection.
        try check(handle.set(CURLOPT_PIPEWAIT, 1))
        switch request.httpVersion {
        case .negotiate: break
        case .http2OverTLS:
            try check(handle.set(CURLOPT_HTTP_VERSION, mailaudit_curl_http_version_2tls()))
        }
        try check(handle.set(CURLOPT_HTTPHEADER, list: request.headers))
        try check(handle.set(CURLOPT_RESOLVE, list: request.resolve))
        if case .post = request.method { try check(handle.set(CURLOPT_POST, 1)) }
        try check(mailaudit_curl_setopt_write(handle.pointer, transferWriteCallback))
        try check(mailaudit_curl_setopt_header(handle.pointer, transferHeaderCallback))
    }

    /// The URL, the body, the time-outs (a run's deadline shortens them), and where curl hands
    /// what arrives: this transfer.
    private func configureThisTransfer() throws {
        try check(handle.set(CURLOPT_URL, request.url))
        try check(handle.set(CURLOPT_TIMEOUT_MS, request.timeout.milliseconds))
        try check(handle.set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.milliseconds))
        if case let .post(body) = request.method {
            try check(handle.set(CURLOPT_POSTFIELDSIZE, body.count))
            // COPYPOSTFIELDS: curl keeps its own copy, so the Swift array need not outlive this call.
            try body.withUnsafeBytes { raw in
                try check(mailaudit_curl_setopt_ptr(handle.pointer, CURLOPT_COPYPOSTFIELDS, raw.baseAddress))
            }
        }
        // Unretained: the client holds the transfer while curl runs it, and a handle put back in
        // the pool is given a new transfer here before it runs again.
        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(mailaudit_curl_setopt_ptr(handle.pointer, CURLOPT_WRITEDATA, me))
        try check(mailaudit_curl_setopt_ptr(handle.pointer, CURLOPT_HEADERDATA, me))
    }

    private func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else {
            throw HTTPFailure.other(url: request.url, code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
    }

    func finish(code: CURLcode) {
        let continuation = self.continuation
        self.continuation = nil
        continuation?.resume(with: outcome(code: code).mapError { $0 as Error })
    }

    func abandon(_ failure: HTTPFailure) {
        let continuation = self.continuation
        self.continuation = nil
        continuation?.resume(throwing: failure)
    }

    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if body.count + bytes.count > request.maxBodyBytes {
            exceededBodyLimit = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// One header line as curl hands it over (with its CRLF). Read on the bytes: Foundation's
    /// `trimmingCharacters` took a twentieth of a domain check's CPU here.
    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = HeaderLine.trimmed(bytes[...])
        if line.starts(with: HeaderLine.statusPrefix) {
            // A new status line starts a new response (after 100-continue, say): forget the old headers.
            statusLine = String(decoding: line, as: UTF8.self)
            // Room for a typical response's headers at once, rather than growing one by one.
            headers.removeAll(keepingCapacity: true)
            headers.reserveCapacity(16)
            if request.wantCertificateInfo && certificate == nil { certificate = handle.leafCertificate() }
        } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: HeaderLine.trimmed(line[(colon + 1)...]), as: UTF8.self)
            headers.append((name, value))
        }
    }

    /// The outcome of a finished transfer, read from the handle before it is cleaned up.
    func outcome(code: CURLcode) -> Result<HTTPResponse, HTTPFailure> {
        let url = request.url
        if exceededBodyLimit || code == CURLE_FILESIZE_EXCEEDED {
            return .failure(.bodyTooLarge(url: url, limit: request.maxBodyBytes))
        }
        guard code == CURLE_OK else {
            let message = handle.message(for: code)
            if LocalFailure.isLocal(message) { return .failure(.local(url: url, message: message)) }
            let network: Set<UInt32> = [CURLE_SSL_CONNECT_ERROR.rawValue, CURLE_PEER_FAILED_VERIFICATION.rawValue,
                                        CURLE_COULDNT_CONNECT.rawValue, CURLE_SEND_ERROR.rawValue, CURLE_RECV_ERROR.rawValue]
            if network.contains(code.rawValue) && LocalFailure.descriptorsNearlyExhausted() {
                return .failure(.local(url: url, message: "\(message) (this process had run out of file descriptors)"))
            }
            switch code {
            case CURLE_OUT_OF_MEMORY, CURLE_FAILED_INIT, CURLE_SSL_CACERT_BADFILE:
                return .failure(.local(url: url, message: message))
            case CURLE_OPERATION_TIMEDOUT: return .failure(.timedOut(url: url, message: message))
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION,
                 CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR:
                return .failure(.tls(url: url, message: message))
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_RECV_ERROR, CURLE_SEND_ERROR,
                 CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM:
                return .failure(.connection(url: url, message: message))
            default:
                return .failure(.other(url: url, code: Int(code.rawValue), message: message))
            }
        }
        var status = 0
        _ = mailaudit_curl_getinfo_long(handle.pointer, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>?
        _ = mailaudit_curl_getinfo_string(handle.pointer, CURLINFO_EFFECTIVE_URL, &effective)
        var ip: UnsafeMutablePointer<CChar>?
        _ = mailaudit_curl_getinfo_string(handle.pointer, CURLINFO_PRIMARY_IP, &ip)
        var version = 0
        _ = mailaudit_curl_getinfo_long(handle.pointer, CURLINFO_HTTP_VERSION, &version)
        return .success(HTTPResponse(
            status: status,
            headers: headers,
            body: body,
            effectiveURL: effective.map { String(cString: $0) } ?? url,
            primaryIP: ip.map { String(cString: $0) },
            httpVersion: Self.versionName(version),
            certificate: certificate,
            elapsed: ContinuousClock.now - started))
    }

    private static func versionName(_ version: Int) -> String {
        switch version {
        case CURL_HTTP_VERSION_1_0: return "HTTP/1.0"
        case CURL_HTTP_VERSION_1_1: return "HTTP/1.1"
        case CURL_HTTP_VERSION_2_0: return "HTTP/2"
        case CURL_HTTP_VERSION_3: return "HTTP/3"
        default: return "HTTP"
        }
    }
}

private let transferWriteCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, user in
    guard let user else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    guard length > 0, let data else { return length }
    // Returning less than `length` makes curl abort with CURLE_WRITE_ERROR: that is the body cap.
    return transfer.appendBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private let transferHeaderCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, user in
    guard let user, let data else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    transfer.appendHeaderLine(bytes)
    return length
}

/// Header lines trimmed as HTTP does: spaces, tabs and the line end (RFC 9110 5.5, RFC 9112 2.2).
enum HeaderLine {
    static let statusPrefix = Array("HTTP/".utf8)

    static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else {
            return bytes[bytes.startIndex..<bytes.startIndex]
        }
        return bytes[first...last]
    }
}
