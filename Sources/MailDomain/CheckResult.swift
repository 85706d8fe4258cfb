import DoH
import Foundation
import Synchronization

public enum CheckStatus: String, Codable, Sendable, CaseIterable {
    case pass, fail, warn
    case notPresent = "not-present"
    case error
    case notApplicable = "not-applicable"
}

/// One thing observed while checking: a DNS answer or an HTTP response, with when.
public struct Evidence: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case dns, http, smtp }
    public var kind: Kind
    /// "TXT _dmarc.example.org" or "GET https://mta-sts.example.org/.well-known/mta-sts.txt".
    public var query: String
    /// "NOERROR", "NXDOMAIN", "error: ...", "HTTP 200 text/plain".
    public var result: String
    /// Records as a zone file prints them, or the body of an HTTP response (capped).
    public var data: [String]
    public var observedAt: Date

    public init(kind: Kind, query: String, result: String, data: [String] = [], observedAt: Date = Date()) {
        self.kind = kind
        self.query = query
        self.result = result
        self.data = data
        self.observedAt = observedAt
    }

    public init(_ lookup: DNSLookup) {
        var data = lookup.cnameChain.map { "CNAME \($0)." }
        data += lookup.records.map(\.presentation)
        self.init(kind: .dns, query: "\(lookup.type) \(lookup.name)", result: lookup.statusText, data: data,
                  observedAt: lookup.observedAt)
    }
}

public struct CheckResult: Codable, Sendable {
    public var id: String
    public var status: CheckStatus
    /// One sentence a non-specialist can read.
    public var summary: String
    /// What to do about it, when there is something to do.
    public var advice: String?
    public var details: JSONValue
    public var evidence: [Evidence]

    public init(id: String, status: CheckStatus, summary: String, advice: String? = nil,
                details: JSONValue = .object([]), evidence: [Evidence] = []) {
        self.id = id
        self.status = status
        self.summary = summary
        self.advice = advice
        self.details = details
        self.evidence = evidence
    }

    enum CodingKeys: String, CodingKey { case id, status, summary, advice, details, evidence }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(status, forKey: .status)
        try container.encode(summary, forKey: .summary)
        try container.encode(advice, forKey: .advice)   // null rather than absent: a stable shape
        try container.encode(details, forKey: .details)
        try container.encode(evidence, forKey: .evidence)
    }
}

/// What `check-domain` reports for one domain.
public struct DomainReport: Codable, Sendable {
    /// The domain as given.
    public var domain: String
    /// The domain as checked: lower case, A-labels for internationalised names.
    public var asciiDomain: String
    public var checkedAt: Date
    public var checks: [CheckResult]

    public init(domain: String, asciiDomain: String, checkedAt: Date, checks: [CheckResult]) {
        self.domain = domain
        self.asciiDomain = asciiDomain
        self.checkedAt = checkedAt
        self.checks = checks
    }

    public func check(_ id: String) -> CheckResult? { checks.first { $0.id == id } }
}

/// Collects the evidence of one check as it runs. Checks that run parts concurrently give each
/// part its own log and merge them.
public final class EvidenceLog: Sendable {
    private let entries = Mutex<[Evidence]>([])

    public init() {}

    public func add(_ evidence: Evidence) {
        entries.withLock { $0.append(evidence) }
    }

    public func add(_ lookup: DNSLookup) { add(Evidence(lookup)) }

    public var all: [Evidence] { entries.withLock { $0 } }

    /// Adds evidence gathered elsewhere after this log's own, leaving out any whose query this
    /// log already holds when `skippingRepeats` is set.
    public func add(contentsOf list: [Evidence], skippingRepeats: Bool = false) {
        entries.withLock { entries in
            guard skippingRepeats else { entries += list; return }
            var seen = Set(entries.map { "\($0.kind.rawValue) \($0.query)" })
            entries += list.filter { seen.insert("\($0.kind.rawValue) \($0.query)").inserted }
        }
    }
}

/// A resolver that keeps every answer it passes on as evidence, each question once, in the order
/// the questions were asked: for code such as the SPF engine that asks DNS itself and knows
/// nothing of evidence. An answer takes its question's place, not its arrival's, so answers that
/// arrive together (a prefetch) come out in the same order run after run.
final class EvidenceRecordingResolver: DNSResolving {
    let resolver: DNSResolving
    private let questions = Mutex<(index: [String: Int], answers: [Evidence?])>(([:], []))

    init(_ resolver: DNSResolving) { self.resolver = resolver }

    /// The answers, in the order their questions were first asked.
    var evidence: [Evidence] { questions.withLock { $0.answers.compactMap { $0 } } }

    func lookup(_ name: String, _ type: RecordType) async -> DNSLookup {
        let place = reserve(name, type)
        let answer = await resolver.lookup(name, type)
        if let place { record(answer, at: place) }
        return answer
    }

    /// Every question's place is taken in the list's order before any is sent.
    func prefetch(_ list: [(name: String, type: RecordType)]) async {
        let places = list.map { reserve($0.name, $0.type) }
        let resolver = self.resolver
        await withTaskGroup(of: (Int, DNSLookup).self) { group in
            for (question, place) in zip(list, places) {
                guard let place else { continue }   // asked before: answered, or on its way
                group.addTask { (place, await resolver.lookup(question.name, question.type)) }
            }
            for await (place, answer) in group { record(answer, at: place) }
        }
    }

    /// The question's place in the list, or nil when it was asked before.
    private func reserve(_ name: String, _ type: RecordType) -> Int? {
        let key = "\(type.rawValue) \(DNSName.normalize(name))"
        return questions.withLock { state in
            guard state.index[key] == nil else { return nil }
            state.index[key] = state.answers.count
            state.answers.append(nil)
            return state.answers.count - 1
        }
    }

    private func record(_ answer: DNSLookup, at place: Int) {
        let evidence = Evidence(answer)
        questions.withLock { $0.answers[place] = evidence }
    }
}

/// Something a check's conclusion needed that could not be had: a look-up that failed, a
/// server that could not be reached.
public struct MissingAnswer: Sendable, Equatable {
    /// "the addresses of mx1.example.org".
    public var what: String
    /// "SERVFAIL", "timed out (...)".
    public var why: String

    public init(what: String, why: String) { self.what = what; self.why = why }

    /// A failed look-up as a missing answer; nil when the look-up was answered.
    public init?(_ what: String, _ lookup: DNSLookup) {
        guard case let .error(message) = lookup.status else { return nil }
        self.init(what: what, why: message)
    }
}

extension CheckResult {
    /// The one rule every check's conclusion passes through: a conclusion that needed an answer
    /// which could not be had is no conclusion, so `pass`, `warn`, `not-present` and
    /// `not-applicable` become `error`. A definite failure found without it stands: a known
    /// failure is known.
    public func unless(missing: [MissingAnswer]) -> CheckResult {
        guard !missing.isEmpty, status != .fail, status != .error else { return self }
        var result = self
        result.status = .error
        let list = missing.map { "\($0.what) (\($0.why))" }.joined(separator: "; ")
        let seen = summary.hasSuffix(".") ? summary : summary + "."
        result.summary = "Could not be completed: \(list) could not be looked up, so the result is not known. Seen so far: \(seen)"
        result.advice = nil
        return result
    }
}
