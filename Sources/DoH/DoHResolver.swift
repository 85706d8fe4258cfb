import Curl
import Foundation

public struct DoHConfiguration: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST" }

    /// The resolver's URL template without variables, e.g. `https://dns.example/dns-query`.
    public var url: String
    public var caFile: String?
    public var method: Method = .post
    /// Per-attempt time-out; each question is tried once more after a time-out or failure.
    public var timeout: Duration = .seconds(5)
    public var retries = 1
    /// DoH requests in flight at once, across all questions.
    public var maxConcurrentRequests = 32
    /// Longest time an answer is reused, whatever its TTL.
    public var maxCacheSeconds: UInt32 = 3600
    /// How long a failure is remembered, so that 500 domains sharing a broken include do not
    /// each wait for their own time-out.
    public var errorCacheSeconds: UInt32 = 60
    /// After this many questions in a row got no answer at all (no DNS message: time-outs,
    /// connection or HTTP failures), with nothing answered for `giveUpSilence` either, the
    /// resolver is taken to be down and not asked again: a frozen resolver would otherwise make
    /// every remaining question wait for its own time-out.
    public var giveUpAfter = 100
    public var giveUpSilence: Duration = .seconds(30)
    /// Answers kept at most. Past it the oldest go first: those of domains checked long ago,
    /// never of one being checked (16 at a time ask a few hundred questions), so a list of any
    /// length checks in the same memory. A name many domains share is asked again now and then.
    public var maxCacheEntries = 20_000

    public init(url: String, caFile: String? = nil) {
        self.url = url
        self.caFile = caFile
    }
}

/// Counters that show how much the cache and de-duplication saved.
public struct ResolverStatistics: Sendable, Codable, Equatable {
    /// Questions asked of the resolver by the checks.
    public var questions = 0
    /// Of those, answered from the cache.
    public var cacheHits = 0
    /// Of those, joined a query for the same question already under way.
    public var joinedInFlight = 0
    /// HTTP requests sent to the DoH server, retries included.
    public var httpRequests = 0
    public var retries = 0
    /// Distinct questions that got an answer (records, NODATA or NXDOMAIN) rather than an error.
    public var answered = 0
    /// Set when the resolver was given up on: why, and how many questions were then not asked.
    public var gaveUp: String?
    public var notAskedAfterGivingUp = 0
    /// Answers dropped to keep the cache within `maxCacheEntries`.
    public var evicted = 0
}

/// A DNS-over-HTTPS resolver (RFC 8484) with a cache and in-flight de-duplication: however many
/// checks ask the same question at once, it is sent once.
public actor DoHResolver: DNSResolving {
    private enum Entry {
        case pending(Task<(DNSLookup, UInt32), Never>)
        case ready(DNSLookup, expires: ContinuousClock.Instant)
    }

    private let configuration: DoHConfiguration
    private let client: CurlClient
    private let limiter: AsyncLimiter
    /// A question as the cache keys it: the normalized name and the record type.
    private struct Question: Hashable {
        let name: String
        let type: UInt16
    }

    private var entries: [Question: Entry] = [:]
    /// Keys in the order their answers arrived, from `oldestReady` on: what is evicted first.
    private var readyOrder: [Question] = []
    private var oldestReady = 0
    private var counters = ResolverStatistics()
    private var unansweredInARow = 0
    private var lastAnswer = ContinuousClock.now

    /// Every query is this request with its own body (POST) or URL (GET).
    private let requestTemplate: HTTPRequest

    public init(configuration: DoHConfiguration, client: CurlClient) {
        self.configuration = configuration
        self.client = client
        limiter = AsyncLimiter(limit: configuration.maxConcurrentRequests)
        var request = HTTPRequest(url: configuration.url)
        if configuration.method == .post {
            request.method = .post(body: [])
            request.headers.append("Content-Type: application/dns-message")
        }
        request.headers.append("Accept: application/dns-message")
        request.caFile = configuration.caFile
        request.timeout = configuration.timeout
        request.connectTimeout = configuration.timeout
        request.maxBodyBytes = 65_535
        request.httpVersion = .http2OverTLS
        request.reuseHandles()
        requestTemplate = request
    }

    public var statistics: ResolverStatistics { counters }

    public func lookup(_ name: String, _ type: RecordType) async -> DNSLookup {
        let normalized = DNSName.normalize(name)
        let key = Question(name: normalized, type: type.rawValue)
        counters.questions += 1
        switch entries[key] {
        case let .ready(lookup, expires) where expires > .now:
            counters.cacheHits += 1
            return lookup
        case let .pending(task):
            counters.joinedInFlight += 1
            return await task.value.0
        default:
            break
        }
        let task = Task { await self.resolve(normalized, type) }
        entries[key] = .pending(task)
        let (lookup, seconds) = await task.value
        if !lookup.isError { counters.answered += 1 }
        entries[key] = .ready(lookup, expires: .now + .seconds(Int(seconds)))
        readyOrder.append(key)
        if entries.count > configuration.maxCacheEntries { evictOldest() }
        return lookup
    }

    /// Drops the oldest answers down to nine tenths of the cap, so eviction runs once in many answers.
    private func evictOldest() {
        let target = configuration.maxCacheEntries * 9 / 10
        while entries.count > target, oldestReady < readyOrder.count {
            let key = readyOrder[oldestReady]
            oldestReady += 1
            // A question asked again since (pending) stays; a key listed twice was answered twice.
            if case .ready = entries[key] {
                entries[key] = nil
                counters.evicted += 1
            }
        }
        if oldestReady > readyOrder.count / 2 {
            readyOrder.removeFirst(oldestReady)
            oldestReady = 0
        }
    }

    private func countRequest(retry: Bool) {
        counters.httpRequests += 1
        if retry { counters.retries += 1 }
    }

    /// Asks the server, retrying once after a failure that another attempt might cure.
    private func resolve(_ name: String, _ type: RecordType) async -> (DNSLookup, UInt32) {
        let query: [UInt8]
        do {
            query = try DNSQueryEncoder.encode(name: name, type: type)
        } catch {
            return (DNSLookup(name: name, type: type, status: .error("\(error)")), 0)
        }
        if let reason = counters.gaveUp {
            counters.notAskedAfterGivingUp += 1
            return (DNSLookup(name: name, type: type, status: .error("not asked: \(reason)")), configuration.errorCacheSeconds)
        }
        var last = DNSLookup(name: name, type: type, status: .error("not asked"))
        for attempt in 0...configuration.retries {
            countRequest(retry: attempt > 0)
            let outcome = await limiter.run { await self.exchange(query, name: name, type: type) }
            switch outcome {
            case let .answered(lookup, seconds):
                unansweredInARow = 0
                lastAnswer = .now
                if case .error = lookup.status, attempt < configuration.retries { last = lookup; continue }
                return (lookup, lookup.isError ? configuration.errorCacheSeconds : seconds)
            case let .failed(lookup):
                last = lookup
            }
        }
        unansweredInARow += 1
        if unansweredInARow >= configuration.giveUpAfter && ContinuousClock.now - lastAnswer > configuration.giveUpSilence {
            counters.gaveUp = "the resolver \(configuration.url) answered none of the last \(unansweredInARow) questions; it was not asked again"
        }
        return (last, configuration.errorCacheSeconds)
    }

    private enum Exchange: Sendable {
        case answered(DNSLookup, cacheSeconds: UInt32)
        case failed(DNSLookup)
    }

    private nonisolated func exchange(_ query: [UInt8], name: String, type: RecordType) async -> Exchange {
        var request = requestTemplate
        switch configuration.method {
        case .get:
            request.url = configuration.url + (configuration.url.contains("?") ? "&" : "?") + "dns=" + Base64URL.encode(query)
        case .post:
            request.method = .post(body: query)
        }
        let observedAt = Date()
        func failure(_ why: String) -> DNSLookup {
            DNSLookup(name: name, type: type, status: .error(why), observedAt: observedAt)
        }
        let response: HTTPResponse
        do {
            response = try await client.perform(request)
        } catch {
            return .failed(failure("DoH request failed: \(error)"))
        }
        guard response.status == 200 else {
            return .failed(failure("DoH server answered HTTP \(response.status)"))
        }
        guard DNSMediaType.isDNSMessage(response.contentType) else {
            return .failed(failure("DoH server answered with content type \(response.contentType ?? "none"), not application/dns-message"))
        }
        let message: DNSMessage
        do {
            message = try DNSMessageParser.parse(response.body)
        } catch {
            return .failed(failure("\(error)"))
        }
        guard message.id == 0 else { return .failed(failure("the reply has ID \(message.id), the query had 0")) }
        let lookup = DNSLookup.from(message: message, name: name, type: type, observedAt: observedAt)
        return .answered(lookup, cacheSeconds: DNSLookup.cacheSeconds(for: message, cap: configuration.maxCacheSeconds))
    }
}

/// RFC 8484's media type, recognised in a Content-Type header on every answer.
enum DNSMediaType {
    private static let expected = Array("application/dns-message".utf8)

    /// The type before any parameter, case-blind, with spaces and tabs (which a media type never
    /// holds) ignored. Compared on the bytes: making the lowercased string took eight
    /// allocations an answer.
    static func isDNSMessage(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        var matched = 0
        for byte in contentType.utf8 {
            if byte == UInt8(ascii: ";") { break }
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { continue }
            let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
            guard matched < expected.count, lower == expected[matched] else { return false }
            matched += 1
        }
        return matched == expected.count
    }
}

enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
