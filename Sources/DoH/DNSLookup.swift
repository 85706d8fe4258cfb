import Foundation

/// The answer to one question, as the checks need it: found, told there is nothing, or could
/// not tell. "Absent" (`noData`, `nxDomain`) and "could not tell" (`error`) are never merged.
public struct DNSLookup: Sendable {
    public enum Status: Sendable, Equatable {
        case found
        /// NOERROR with no record of the type asked for.
        case noData
        case nxDomain
        /// SERVFAIL, REFUSED, a time-out, an HTTP error or a malformed response.
        case error(String)
    }

    public var name: String
    public var type: RecordType
    public var status: Status
    /// Records of the type asked for, owned by the name or by the end of its CNAME chain.
    public var records: [ResourceRecord]
    /// CNAMEs followed from `name`, in order.
    public var cnameChain: [String]
    /// The resolver set the AD bit: it validated the answer with DNSSEC.
    public var authenticated: Bool
    public var observedAt: Date

    public init(name: String, type: RecordType, status: Status, records: [ResourceRecord] = [],
                cnameChain: [String] = [], authenticated: Bool = false, observedAt: Date = Date()) {
        self.name = name
        self.type = type
        self.status = status
        self.records = records
        self.cnameChain = cnameChain
        self.authenticated = authenticated
        self.observedAt = observedAt
    }

    public var isError: Bool { if case .error = status { return true } else { return false } }
    /// NXDOMAIN or NODATA: the RFC 7208 "void lookup".
    public var isVoid: Bool { status == .noData || status == .nxDomain }

    /// The TXT records' texts, each record's strings joined.
    public var texts: [String] { records.compactMap(\.joinedText) }

    public var statusText: String {
        switch status {
        case .found: return "NOERROR"
        case .noData: return "NOERROR (no \(type) record)"
        case .nxDomain: return "NXDOMAIN"
        case let .error(message): return "error: \(message)"
        }
    }

    /// Interprets a decoded response to the question (name, type).
    public static func from(message: DNSMessage, name: String, type: RecordType, observedAt: Date = Date()) -> DNSLookup {
        let asked = DNSName.presentation(name)
        func fail(_ why: String) -> DNSLookup {
            DNSLookup(name: DNSName.normalize(name), type: type, status: .error(why), observedAt: observedAt)
        }
        guard message.isResponse else { return fail("the reply is not a DNS response") }
        // Names from the parser are already in presentation form.
        guard message.questionName == asked, message.questionType == type else {
            return fail("the reply answers another question (\(message.questionName) \(message.questionType))")
        }
        guard !message.truncated else { return fail("the reply is truncated (TC bit set)") }
        // Follow the CNAME chain inside the answer section, at most 16 steps and never in a loop.
        var owner = asked
        var chain: [String] = []
        while type != .cname, chain.count < 16,
              let alias = message.answers.first(where: { $0.type == .cname && $0.name == owner }),
              case let .name(next) = alias.data {
            if next == asked || chain.contains(next) { return fail("CNAME loop at \(next)") }
            chain.append(next)
            owner = next
        }
        let matching = message.answers.filter { $0.type == type && $0.name == owner }
        let status: Status
        switch message.rcode {
        case .noError: status = matching.isEmpty ? .noData : .found
        case .nxDomain: status = .nxDomain
        default: return fail("the resolver answered \(message.rcode)")
        }
        return DNSLookup(name: DNSName.normalize(name), type: type, status: status, records: matching, cnameChain: chain,
                         authenticated: message.authenticated, observedAt: observedAt)
    }

    /// How long the answer may be reused: the smallest TTL of its records, or for a negative
    /// answer the SOA minimum (RFC 2308), bounded by `cap`.
    static func cacheSeconds(for message: DNSMessage, cap: UInt32) -> UInt32 {
        let ttls = message.answers.map(\.ttl) + message.authority.compactMap { record -> UInt32? in
            if case let .soa(minimum) = record.data { return min(minimum, record.ttl) }
            return nil
        }
        return min(ttls.min() ?? 0, cap)
    }
}

/// Anything that answers DNS questions: the DoH resolver, or an in-memory table in tests.
public protocol DNSResolving: Sendable {
    func lookup(_ name: String, _ type: RecordType) async -> DNSLookup
    /// Asks all the questions at once, for their answers to be at hand when asked one by one.
    func prefetch(_ questions: [(name: String, type: RecordType)]) async
}

extension DNSResolving {
    public func prefetch(_ questions: [(name: String, type: RecordType)]) async {
        await withTaskGroup(of: Void.self) { group in
            for question in questions {
                group.addTask { _ = await self.lookup(question.name, question.type) }
            }
        }
    }
}
