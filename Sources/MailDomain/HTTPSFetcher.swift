import Curl
import DoH
import Foundation

/// HTTPS GETs whose host names are resolved through the DoH resolver and handed to curl, so
/// that one resolver is the only source of names.
public struct HTTPSFetcher: Sendable {
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// The host name could not be resolved, or has no address.
        case unresolved(host: String, status: DNSLookup.Status)
        case transfer(HTTPFailure)
        case badURL(String)

        public var description: String {
            switch self {
            case let .unresolved(host, status):
                switch status {
                case .nxDomain: return "\(host) does not exist in DNS (NXDOMAIN)"
                case .noData, .found: return "\(host) has no address record"
                case let .error(message): return "\(host) could not be resolved: \(message)"
                }
            case let .transfer(failure): return failure.description
            case let .badURL(url): return "\(url) is not a valid https URL"
            }
        }

        /// True when the failure says nothing about the remote side: a time-out, a DNS error, a
        /// host that could not be reached (the network between may be at fault), or the tool's
        /// own failure (out of file descriptors or memory).
        public var isInconclusive: Bool {
            switch self {
            case let .unresolved(_, status): if case .error = status { return true } else { return false }
            case let .transfer(failure):
                switch failure {
                case .timedOut, .connection, .local, .shutDown: return true
                case .tls, .bodyTooLarge, .refusedURL, .other: return false
                }
            case .badURL: return false
            }
        }
    }

    let client: CurlClient
    let resolver: DNSResolving
    let caFile: String?
    let timeout: Duration

    public init(client: CurlClient, resolver: DNSResolving, caFile: String?, timeout: Duration) {
        self.client = client
        self.resolver = resolver
        self.caFile = caFile
        self.timeout = timeout
    }

    /// The host and port of an https URL, as written: URLComponents would turn an A-label
    /// host back into Unicode, and DNS is asked in A-labels.
    static func hostAndPort(_ url: String) -> (String, Int)? {
        guard url.lowercased().hasPrefix("https://") else { return nil }
        let rest = url.dropFirst("https://".count)
        let authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        guard !authority.contains("@"), !authority.hasPrefix("[") else { return nil }
        let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let host = parts[0].lowercased()
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else {
            return nil
        }
        guard parts.count == 2 else { return (host, 443) }
        guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
        return (host, port)
    }

    /// The host's IPv4 and IPv6 addresses through DoH, as curl takes them (IPv6 in brackets),
    /// and, for when there are none, why: a failed look-up's error, else NXDOMAIN or no data.
    static func addresses(of host: String, resolver: DNSResolving, log: EvidenceLog) async -> (addresses: [String], status: DNSLookup.Status) {
        async let v4 = resolver.lookup(host, .a)
        async let v6 = resolver.lookup(host, .aaaa)
        let answers = await [v4, v6]
        var addresses: [String] = []
        for answer in answers {
            log.add(answer)
            for record in answer.records {
                switch record.data {
                case let .a(bytes): addresses.append(bytes.map(String.init).joined(separator: "."))
                case let .aaaa(bytes): addresses.append("[\(IPv6Text.format(bytes))]")
                default: break
                }
            }
        }
        return (addresses, answers.first(where: \.isError)?.status ?? answers[0].status)
    }

    public func get(_ url: String, maxBytes: Int, accept: String? = nil, log: EvidenceLog) async -> Result<HTTPResponse, Failure> {
        guard let (host, port) = Self.hostAndPort(url) else { return .failure(.badURL(url)) }
        let (addresses, status) = await Self.addresses(of: host, resolver: resolver, log: log)
        if addresses.isEmpty { return .failure(.unresolved(host: host, status: status)) }
        var request = HTTPRequest(url: url)
        request.caFile = caFile
        request.timeout = timeout
        request.connectTimeout = timeout
        request.maxBodyBytes = maxBytes
        request.resolve = ["\(host):\(port):\(addresses.joined(separator: ","))"]
        request.wantCertificateInfo = true
        if let accept { request.headers.append("Accept: \(accept)") }
        let started = Date()
        do {
            let response = try await client.perform(request)
            var result = "HTTP \(response.status)"
            if let type = response.contentType { result += " \(type)" }
            if let location = response.header("location") { result += " Location: \(location)" }
            var data = [String(decoding: response.body.prefix(4096), as: UTF8.self)]
            if let certificate = response.certificate {
                data.append(certificate.evidenceLine)
            }
            log.add(Evidence(kind: .http, query: "GET \(url)", result: result, data: data, observedAt: started))
            return .success(response)
        } catch let failure as HTTPFailure {
            log.add(Evidence(kind: .http, query: "GET \(url)", result: "error: \(failure)", observedAt: started))
            return .failure(.transfer(failure))
        } catch {
            log.add(Evidence(kind: .http, query: "GET \(url)", result: "error: \(error)", observedAt: started))
            return .failure(.transfer(.other(url: url, code: -1, message: "\(error)")))
        }
    }
}
