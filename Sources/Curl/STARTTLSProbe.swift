import CCurl
import Foundation

/// Which SMTP server to probe, and how. The address comes from the caller's resolver (DoH), so
/// curl never asks the system's; the certificate is checked against `host`.
public struct STARTTLSRequest: Sendable {
    public var host: String
    /// An IPv4 address, or an IPv6 address in brackets.
    public var address: String
    public var port = 25
    /// The name given in EHLO.
    public var ehloName = "mailaudit.invalid"
    public var caFile: String?
    public var timeout: Duration = .seconds(15)

    public init(host: String, address: String) {
        self.host = host
        self.address = address
    }
}

/// What an SMTP server did when asked to start TLS.
public enum STARTTLSOutcome: Sendable, Equatable {
    /// STARTTLS, then TLS 1.2 or later with a certificate valid for the host name.
    case secured(CertificateSummary?)
    /// The server answered but does not offer STARTTLS.
    case notOffered(String)
    /// STARTTLS was offered but the TLS handshake failed (often: only TLS 1.0/1.1 offered).
    case handshakeFailed(String)
    /// TLS works, but the certificate is not trusted, has expired or names another host.
    case certificateRejected(String)
    /// No SMTP conversation: connection refused, timed out (port 25 blocked on the way?).
    case unreachable(String)
    case failed(String)
}

/// One STARTTLS probe: connect, EHLO, STARTTLS, TLS handshake with verification, then hang up
/// (CURLOPT_CONNECT_ONLY ends the transfer once the protocol's connect phase, STARTTLS
/// included, is done; no mail is sent).
final class STARTTLSProbe: CurlTask {
    let handle: EasyHandle
    private let request: STARTTLSRequest
    var target: String { "smtp://\(request.host):\(request.port)/\(request.ehloName)" }
    var continuation: CheckedContinuation<STARTTLSOutcome, Never>?

    init?(_ request: STARTTLSRequest) {
        guard let handle = EasyHandle() else { return nil }
        self.handle = handle
        self.request = request
    }

    /// Sets the options; the curl error message when one is refused.
    func configure() -> String? {
        var codes = [
            handle.set(CURLOPT_URL, target),
            handle.set(CURLOPT_PROTOCOLS_STR, "smtp"),
            handle.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)),
            handle.set(CURLOPT_CONNECT_ONLY, 1),
            handle.set(CURLOPT_NOSIGNAL, 1),
            handle.set(CURLOPT_SSL_VERIFYPEER, 1),
            handle.set(CURLOPT_SSL_VERIFYHOST, 2),
            handle.set(CURLOPT_SSLVERSION, mailaudit_curl_sslversion_tlsv1_2()),
            handle.set(CURLOPT_CERTINFO, 1),
            handle.set(CURLOPT_TIMEOUT_MS, request.timeout.milliseconds),
            handle.set(CURLOPT_CONNECTTIMEOUT_MS, request.timeout.milliseconds),
            handle.set(CURLOPT_RESOLVE, list: ["\(request.host):\(request.port):\(request.address)"]),
        ]
        codes.append(handle.trust(adding: request.caFile))
        guard let refused = codes.first(where: { $0 != CURLE_OK }) else { return nil }
        return String(cString: curl_easy_strerror(refused))
    }

    func finish(code: CURLcode) {
        let outcome: STARTTLSOutcome
        let message = handle.message(for: code)
        switch code {
        case CURLE_OK: outcome = .secured(handle.leafCertificateFromCertInfo())
        case CURLE_USE_SSL_FAILED: outcome = .notOffered(message)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ISSUER_ERROR: outcome = .certificateRejected(message)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CIPHER: outcome = .handshakeFailed(message)
        case CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING,
             CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            outcome = .unreachable(message)
        default: outcome = .failed("curl error \(code.rawValue): \(message)")
        }
        resume(outcome)
    }

    func abandon(_ failure: HTTPFailure) { resume(.failed(failure.description)) }

    private func resume(_ outcome: STARTTLSOutcome) {
        let continuation = self.continuation
        self.continuation = nil
        continuation?.resume(returning: outcome)
    }
}

extension CurlClient {
    /// Probes one SMTP server for STARTTLS on the client's transfer thread.
    public func probeSTARTTLS(_ request: STARTTLSRequest) async -> STARTTLSOutcome {
        var request = request
        if let remaining = remainingTime() {
            guard remaining > .milliseconds(50) else { return .unreachable(Self.deadlineMessage) }
            request.timeout = min(request.timeout, remaining)
        }
        guard let probe = STARTTLSProbe(request) else {
            noteLocalFailure("curl_easy_init failed (out of memory or descriptors)")
            return .failed("curl_easy_init failed")
        }
        if let refused = probe.configure() { return .failed("curl refused an option: \(refused)") }
        let outcome = await withCheckedContinuation { continuation in
            probe.continuation = continuation
            enqueue(probe)
        }
        // A probe that failed because this process ran out of something says nothing of the host.
        switch outcome {
        case let .unreachable(message), let .handshakeFailed(message), let .certificateRejected(message), let .failed(message):
            if LocalFailure.isLocal(message) || LocalFailure.descriptorsNearlyExhausted() {
                noteLocalFailure(message)
                return .failed("this machine's own failure: \(message)")
            }
        default: break
        }
        return outcome
    }
}
