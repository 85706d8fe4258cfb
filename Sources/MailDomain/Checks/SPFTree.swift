import DoH

/// One SPF record in the include/redirect tree, with what it costs.
public struct SPFTreeNode: Sendable {
    public var domain: String
    /// How the parent reached it: "record", "include:x" or "redirect=x".
    public var via: String
    public var record: String?
    /// The record's own `all` qualifier, if it has one.
    public var allQualifier: SPFRecord.Qualifier?
    /// DNS-querying terms in this record itself.
    public var ownLookups: Int
    /// This record's terms plus those of everything below it.
    public var totalLookups: Int
    public var voidLookups: Int
    public var problems: [String]
    public var children: [SPFTreeNode]

    /// The qualifier of the `all` that ends evaluation: the record's own, else the one its
    /// redirect target ends with (RFC 7208 6.1).
    public var effectiveAll: SPFRecord.Qualifier? {
        allQualifier ?? children.first(where: { $0.via.hasPrefix("redirect=") })?.effectiveAll
    }

    var json: JSONValue {
        .object([
            ("domain", .string(domain)), ("via", .string(via)), ("record", .optional(record)),
            ("all", .optional(allQualifier.map { String($0.rawValue) })),
            ("lookups", .int(ownLookups)), ("totalLookups", .int(totalLookups)), ("voidLookups", .int(voidLookups)),
            ("problems", .strings(problems)), ("children", .array(children.map(\.json))),
        ])
    }
}

/// Walks an SPF record's include and redirect tree without a sender address, counting every
/// DNS-querying term (RFC 7208 4.6.4) and every void look-up, and finding loops and broken
/// branches. What it counts is the worst case a receiver can meet: every term evaluated.
final class SPFTreeWalker {
    /// Problems that make receivers return permerror.
    private(set) var permanentErrors: [String] = []
    /// DNS failures: receivers would return temperror.
    private(set) var temporaryErrors: [String] = []
    private(set) var warnings: [String] = []
    /// Where the ptr mechanism is used (RFC 7208 5.5: "SHOULD NOT be used").
    private(set) var ptrTerms: [String] = []
    private(set) var lookups = 0
    private(set) var voidLookups = 0
    private var recordsVisited = 0

    private let resolver: DNSResolving
    private let log: EvidenceLog
    /// A bound on the walk itself, far above what a valid record can reach.
    private let maxRecords = 40

    init(resolver: DNSResolving, log: EvidenceLog) {
        self.resolver = resolver
        self.log = log
    }

    func walk(domain: String, record: SPFRecord, text: String) async -> SPFTreeNode {
        await visit(domain: domain, record: record, text: text, via: "record", path: [domain])
    }

    private func visit(domain: String, record: SPFRecord, text: String, via: String, path: [String]) async -> SPFTreeNode {
        recordsVisited += 1
        var node = SPFTreeNode(domain: domain, via: via, record: text, allQualifier: record.allQualifier,
                               ownLookups: 0, totalLookups: 0, voidLookups: 0, problems: [], children: [])
        // Fetch every target of this record at once; the walk below then reads the cache.
        await prefetch(record, domain: domain)

        for directive in record.directives {
            guard directive.mechanism.queriesDNS else { continue }
            node.ownLookups += 1
            lookups += 1
            switch directive.mechanism {
            case let .include(spec):
                guard let target = concrete(spec, term: directive.text, node: &node) else { continue }
                if let child = await descend(into: target, via: "include:\(target)", path: path, node: &node) {
                    node.children.append(child)
                }
            case let .a(spec, _, _):
                guard let target = spec.flatMap({ concrete($0, term: directive.text, node: &node) }) ?? (spec == nil ? domain : nil) else { continue }
                let v4 = await resolver.lookup(target, .a), v6 = await resolver.lookup(target, .aaaa)
                log.add(v4); log.add(v6)
                countVoid(all: [v4, v6], term: directive.text, node: &node)
            case let .mx(spec, _, _):
                guard let target = spec.flatMap({ concrete($0, term: directive.text, node: &node) }) ?? (spec == nil ? domain : nil) else { continue }
                let answer = await resolver.lookup(target, .mx)
                log.add(answer)
                countVoid(all: [answer], term: directive.text, node: &node)
                if answer.records.count > 10 {
                    let problem = "\(directive.text): \(answer.records.count) MX names, more than the 10 allowed (RFC 7208 4.6.4)"
                    node.problems.append(problem); permanentErrors.append(problem)
                }
            case let .exists(spec):
                guard let target = concrete(spec, term: directive.text, node: &node) else { continue }
                let answer = await resolver.lookup(target, .a)
                log.add(answer)
                countVoid(all: [answer], term: directive.text, node: &node)
            case .ptr:
                let warning = "\(domain): \(directive.text) uses the ptr mechanism, which RFC 7208 5.5 says not to use"
                node.problems.append(warning); warnings.append(warning)
                ptrTerms.append("\(domain): \(directive.text)")
            case .all, .ip4, .ip6:
                break
            }
        }
        // redirect= is ignored when the record has an all mechanism (RFC 7208 6.1).
        if let redirect = record.redirect, record.allQualifier == nil {
            node.ownLookups += 1
            lookups += 1
            if let target = concrete(redirect, term: "redirect=\(redirect)", node: &node),
               let child = await descend(into: target, via: "redirect=\(target)", path: path, node: &node) {
                node.children.append(child)
            }
        } else if record.redirect != nil {
            let warning = "\(domain): redirect= is ignored because the record has an all mechanism"
            node.problems.append(warning); warnings.append(warning)
        }
        for modifier in record.unknownModifiers {
            warnings.append("\(domain): unknown modifier \(modifier.name)= is ignored by receivers")
        }
        node.totalLookups = node.ownLookups + node.children.reduce(0) { $0 + $1.totalLookups }
        return node
    }

    /// Looks up the SPF record at `target` and walks it, or records why it cannot be walked.
    private func descend(into target: String, via: String, path: [String], node: inout SPFTreeNode) async -> SPFTreeNode? {
        if path.contains(target) {
            let problem = "loop: \((path + [target]).joined(separator: " → "))"
            node.problems.append(problem); permanentErrors.append(problem)
            return nil
        }
        guard recordsVisited < maxRecords else {
            let problem = "the tree has more than \(maxRecords) records; the walk stopped at \(target)"
            node.problems.append(problem); permanentErrors.append(problem)
            return nil
        }
        let answer = await resolver.lookup(target, .txt)
        log.add(answer)
        func broken(_ problem: String, permanent: Bool) -> SPFTreeNode? {
            node.problems.append(problem)
            if permanent { permanentErrors.append(problem) } else { temporaryErrors.append(problem) }
            return nil
        }
        switch answer.status {
        case let .error(message):
            return broken("\(via): the look-up failed (\(message))", permanent: false)
        case .nxDomain, .noData:
            voidLookups += 1
            node.voidLookups += 1
            return broken("\(via): \(target) has no SPF record", permanent: true)
        case .found:
            break
        }
        let text: String
        switch PublishedRecord(answer, isCandidate: SPFRecord.isCandidate) {
        case .lookupFailed, .absent: return broken("\(via): \(target) has no SPF record", permanent: true)
        case let .several(records): return broken("\(via): \(target) has \(records.count) SPF records", permanent: true)
        case let .one(record): text = record
        }
        switch SPFRecord.parse(text) {
        case let .failure(error):
            return broken("\(via): the record at \(target) is invalid: \(error.message)", permanent: true)
        case let .success(child):
            return await visit(domain: target, record: child, text: text, via: via, path: path + [target])
        }
    }

    /// The target of a term, or nil when it holds a macro: those depend on the sender, so the
    /// term is counted but not followed.
    private func concrete(_ spec: String, term: String, node: inout SPFTreeNode) -> String? {
        if SPFMacro.containsMacro(spec) {
            let note = "\(term) contains a macro; it is counted but not followed"
            node.problems.append(note); warnings.append(note)
            return nil
        }
        return DNSName.normalize(spec)
    }

    private func countVoid(all answers: [DNSLookup], term: String, node: inout SPFTreeNode) {
        if answers.contains(where: \.isError) {
            let problem = "\(term): the look-up failed"
            node.problems.append(problem); temporaryErrors.append(problem)
        } else if answers.allSatisfy(\.isVoid) {
            voidLookups += 1
            node.voidLookups += 1
            node.problems.append("\(term): a void look-up (no such name or no address)")
        }
    }

    private func prefetch(_ record: SPFRecord, domain: String) async {
        var questions: [(String, RecordType)] = []
        for directive in record.directives {
            switch directive.mechanism {
            case let .include(spec) where !SPFMacro.containsMacro(spec): questions.append((spec, .txt))
            case let .a(spec, _, _) where !SPFMacro.containsMacro(spec ?? ""):
                questions.append((spec ?? domain, .a)); questions.append((spec ?? domain, .aaaa))
            case let .mx(spec, _, _) where !SPFMacro.containsMacro(spec ?? ""): questions.append((spec ?? domain, .mx))
            case let .exists(spec) where !SPFMacro.containsMacro(spec): questions.append((spec, .a))
            default: break
            }
        }
        if let redirect = record.redirect, !SPFMacro.containsMacro(redirect) { questions.append((redirect, .txt)) }
        let resolver = self.resolver
        await withTaskGroup(of: Void.self) { group in
            for (name, type) in questions { group.addTask { _ = await resolver.lookup(name, type) } }
        }
    }
}
