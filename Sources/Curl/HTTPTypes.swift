import Foundation

/// What to fetch and under which limits. Redirects are never followed and TLS is always verified:
/// a caller that needs a private CA passes its file in `caFile`.
public struct HTTPRequest: Sendable {
    public enum Method: Sendable, Equatable {
        case get
        case post(body: [UInt8])
    }

    /// Let curl negotiate, or insist on HTTP/2 over TLS (DoH, RFC 8484 5.2).
    public enum HTTPVersion: Sendable { case negotiate, http2OverTLS }

    public var url: String
    public var method: Method = .get
    public var headers: [String] = []
    public var caFile: String?
    public var timeout: Duration = .seconds(10)
    public var connectTimeout: Duration = .seconds(5)
    /// Bodies larger than this end the transfer with `HTTPFailure.bodyTooLarge`.
    public var maxBodyBytes: Int = 1 << 20
    /// Pre-resolved addresses ("host:port:address"), so curl never asks the system resolver.
    public var resolve: [String] = []
    public var httpVersion: HTTPVersion = .negotiate
    /// Read the server certificate's subject, issuer and validity, for evidence.
    public var wantCertificateInfo = false
    /// Set by `reuseHandles()`: the shape this request and its copies share.
    public private(set) var handleShape: String?

    public init(url: String) { self.url = url }

    /// For many requests made from this one by changing only the URL, the body or the time-outs
    /// (DoH queries): the easy handle of a finished transfer is kept and used again by the next
    /// of them, as libcurl advises, instead of being made and configured anew each time. Call it
    /// once, on the request the others are copied from: the shape is worked out here, not per request.
    public mutating func reuseHandles() { handleShape = shape }

    /// Everything but the URL, the body and the time-outs, which are set for every transfer.
    var shape: String {
        let post = if case .post = method { true } else { false }
        return [post ? "POST" : "GET", caFile ?? "", "\(maxBodyBytes)", "\(httpVersion)", "\(wantCertificateInfo)",
                headers.joined(separator: "\n"), resolve.joined(separator: "\n")].joined(separator: "\u{0}")
    }
}

public struct CertificateSummary: Sendable, Codable, Equatable {
    public var subject: String?
    public var issuer: String?
    public var notBefore: String?
    public var notAfter: String?

    /// One line for a check's evidence.
    public var evidenceLine: String {
        "certificate: subject \(subject ?? "?"); issuer \(issuer ?? "?"); expires \(notAfter ?? "?")"
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header fields of the final response, names lower-cased, in the order received.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var effectiveURL: String
    public var primaryIP: String?
    public var httpVersion: String
    public var certificate: CertificateSummary?
    public var elapsed: Duration

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last(where: { $0.name == lower })?.value
    }

    public var contentType: String? { header("content-type") }
}

/// Why a transfer produced no usable response. The message is curl's own, with the host.
public enum HTTPFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case timedOut(url: String, message: String)
    case tls(url: String, message: String)
    case connection(url: String, message: String)
    case bodyTooLarge(url: String, limit: Int)
    case refusedURL(url: String, reason: String)
    case other(url: String, code: Int, message: String)
    /// The tool's own failure, not the remote side's: out of file descriptors or memory, or the
    /// CA file unreadable. Says nothing about the host.
    case local(url: String, message: String)
    case shutDown

    public var description: String {
        switch self {
        case let .timedOut(url, message): return "\(url): timed out (\(message))"
        case let .tls(url, message): return "\(url): TLS failure: \(message)"
        case let .connection(url, message): return "\(url): could not connect: \(message)"
        case let .bodyTooLarge(url, limit): return "\(url): response body larger than \(limit) bytes"
        case let .refusedURL(url, reason): return "\(url): refused: \(reason)"
        case let .other(url, code, message): return "\(url): curl error \(code): \(message)"
        case let .local(url, message): return "\(url): this machine's own failure: \(message)"
        case .shutDown: return "the HTTP client was shut down"
        }
    }
}

/// Failures of this process rather than of the network or the remote side.
public enum LocalFailure {
    /// Does curl's (or the system's) message say this machine ran out of something?
    public static func isLocal(_ message: String) -> Bool {
        let text = message.lowercased()
        return text.contains("too many open files") || text.contains("cannot allocate memory") || text.contains("out of memory")
            || text.contains("no buffer space")
    }

    /// Is this process at (or within a few of) its file-descriptor limit? Then a TLS or
    /// connection failure may be ours: OpenSSL that cannot open a CA file reports an untrusted
    /// certificate, and a socket that cannot be made a failed connection.
    public static func descriptorsNearlyExhausted(margin: Int = 4) -> Bool {
        guard let limit = descriptorLimit() else { return false }
        // Opening the directory needs a descriptor itself: failing to is the answer.
        guard let open = descriptorsOpen() else { return true }
        return open + margin >= limit
    }

    /// The soft limit on open files (ulimit -n), or nil when it cannot be read.
    public static func descriptorLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return Int(limit.rlim_cur)
    }

    /// How many descriptors this process has open, or nil when /proc/self/fd cannot be read.
    public static func descriptorsOpen() -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count
    }
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
