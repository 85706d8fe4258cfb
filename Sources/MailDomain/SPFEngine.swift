import DoH
import Foundation

/// RFC 7208 check_host(): evaluates a sender against a domain's SPF record, with the processing
/// limits of section 4.6.4 and the macros of section 7.
public struct SPFEvaluation: Sendable, Equatable {
    public enum Result: String, Sendable, Codable { case pass, fail, softfail, neutral, none, permerror, temperror }
    public var result: Result
    public var explanation: String?
    public var lookups: Int
    public var voidLookups: Int
    /// The terms evaluated, in order ("domain: term").
    public var path: [String] { steps.map { "\($0.domain): \($0.term)" } }
    /// The same, kept as its parts: the text is made only when asked for (by spf-check), not for
    /// each of the thousands of terms an audit evaluates.
    public var steps: [Step]
    public struct Step: Sendable, Equatable {
        public var domain: String
        public var term: String
    }
    /// The terms that decided the result, from the first record down: an include (or redirect)
    /// and the term that matched in the record it leads to. Empty when no term matched.
    public var decidedBy: [String]
    /// Why the result is none, permerror or temperror: the problem that ended the evaluation,
    /// e.g. "include:x.example: x.example has no SPF record".
    public var reason: String?
    /// The records evaluated, as their include/redirect tree, with the look-ups each spent.
    public var tree: SPFTreeNode?
    /// What receivers tolerate but a domain owner should fix: ptr, redirect beside all, unknown modifiers.
    public var warnings: [String]
    /// Where the ptr mechanism was met (RFC 7208 5.5: "SHOULD NOT be used").
    public var ptrTerms: [String]
}

public final class SPFEngine: Sendable {
    private let resolver: DNSResolving
    private let maxLookups: Int
    private let maxVoidLookups: Int
    private let prefetch: Bool

    /// - Parameters:
    ///   - maxLookups, maxVoidLookups: the limits of RFC 7208 4.6.4. A receiver's are 10 and 2;
    ///     an audit that wants to know how far over them a record goes passes higher ones.
    ///   - prefetch: ask for every fixed target of a record at once before evaluating it. Faster
    ///     over the network, at the price of names a receiver might never have asked.
    public init(resolver: DNSResolving, maxLookups: Int = 10, maxVoidLookups: Int = 2, prefetch: Bool = false) {
        self.resolver = resolver
        self.maxLookups = maxLookups
        self.maxVoidLookups = maxVoidLookups
        self.prefetch = prefetch
    }

    /// - Parameters: ip: the client address (4 or 16 bytes); sender: MAIL FROM (empty for the
    ///   HELO identity); helo: the HELO/EHLO name.
    public func checkHost(ip rawIP: [UInt8], sender: String, helo: String) async -> SPFEvaluation {
        var ip = rawIP
        // An IPv4-mapped IPv6 address is the IPv4 address (RFC 7208 5.6).
        if ip.count == 16, ip[0..<10].allSatisfy({ $0 == 0 }), ip[10] == 0xFF, ip[11] == 0xFF { ip = Array(ip[12...]) }
        var identity = sender.isEmpty ? "postmaster@\(helo)" : sender
        if !identity.contains("@") { identity = "postmaster@" + identity }
        var local = String(identity[..<identity.lastIndex(of: "@")!])
        if local.isEmpty { local = "postmaster" }
        let domain = String(identity[identity.index(after: identity.lastIndex(of: "@")!)...])
        let state = State(ip: ip, local: local, senderDomain: domain, helo: helo)
        let result = await evaluate(domain: domain, via: "record", state: state)
        return SPFEvaluation(result: result, explanation: state.explanation, lookups: state.lookups,
                             voidLookups: state.voidLookups, steps: state.path, decidedBy: state.decidedBy, reason: state.reason,
                             tree: state.tree(), warnings: state.warnings, ptrTerms: state.ptrTerms)
    }

    final class State {
        let ip: [UInt8]
        let local: String
        let senderDomain: String
        let helo: String
        var lookups = 0
        var voidLookups = 0
        var path: [SPFEvaluation.Step] = []
        var explanation: String?
        var reason: String?
        /// The matching terms that gave the result, from the first record down (an include, then
        /// the term that matched inside it); empty when no term matched.
        var decidedBy: [String] = []
        var warnings: [String] = []
        var ptrTerms: [String] = []
        /// The records evaluated, flat, in the order met; `parent` links them into the tree.
        private var entries: [(node: SPFTreeNode, parent: Int?)] = []
        private var current: Int?
        /// Domains from the first record down to the one being evaluated: meeting one of them
        /// again is a loop, which would otherwise run until the look-up limit stops it.
        var ancestry: [String] = []

        init(ip: [UInt8], local: String, senderDomain: String, helo: String) {
            self.ip = ip; self.local = local; self.senderDomain = senderDomain; self.helo = helo
        }

        /// Starts a record's node below the one being evaluated; returns its index for `close`.
        func open(_ node: SPFTreeNode) -> Int {
            entries.append((node, current))
            current = entries.count - 1
            return entries.count - 1
        }

        func close(_ index: Int) { current = entries[index].parent }

        /// Look-ups are charged to the record whose term spent them.
        func charge(lookups: Int = 0, void: Int = 0) {
            self.lookups += lookups
            voidLookups += void
            guard let current else { return }
            entries[current].node.ownLookups += lookups
            entries[current].node.voidLookups += void
        }

        /// A remark on the record being evaluated (with no record yet, it has nowhere to go).
        func note(_ problem: String) {
            if let current { entries[current].node.problems.append(problem) }
        }

        /// The problem that ends the evaluation: the first one is the cause, the rest its echoes.
        func stop(_ problem: String) {
            note(problem)
            if reason == nil { reason = problem }
        }

        func tree() -> SPFTreeNode? {
            func build(_ index: Int) -> SPFTreeNode {
                var node = entries[index].node
                node.children = entries.indices.filter { entries[$0].parent == index }.map(build)
                node.totalLookups = node.ownLookups + node.children.reduce(0) { $0 + $1.totalLookups }
                return node
            }
            return entries.isEmpty ? nil : build(0)
        }
    }

    /// Ends the evaluation with `result`; `reason` is nil when a deeper record already gave it.
    private struct Abort: Error {
        var result: SPFEvaluation.Result
        var reason: String?
    }

    /// A name worth asking DNS about. A macro can expand to anything (a HELO of "JUMPIN' JUPITER");
    /// such a name matches nothing, it is not an error (RFC 7208 7.1, 4.8).
    private static func isQueryable(_ domain: String) -> Bool {
        // Spaces (from %_) are legal octets in a label; control and non-ASCII characters are not asked.
        isValidDomain(domain) && domain.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
    }

    /// A literal name that is not a domain is a broken record (permerror); a name a macro made is
    /// the sender's doing, and simply matches nothing.
    private static func worthAsking(_ target: String, spec: String?, term: @autoclosure () -> String) throws -> Bool {
        if isQueryable(target) { return true }
        if let spec, SPFMacro.containsMacro(spec) { return false }
        throw Abort(result: .permerror, reason: "\(term()): \(target) is not a valid domain name")
    }

    private static func isValidDomain(_ domain: String) -> Bool {
        var bytes = domain.utf8[...]
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return isValidDomainByCharacters(domain) }
        // ASCII, the usual case: counted on the bytes, without making an array of the labels.
        if bytes.last == UInt8(ascii: ".") { bytes = bytes.dropLast() }
        guard bytes.count <= 253 else { return false }
        var labels = 1, length = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard length > 0 else { return false }
                labels += 1
                length = 0
            } else {
                length += 1
                guard length <= 63 else { return false }
            }
        }
        return length > 0 && labels >= 2
    }

    /// A dot can be part of a larger character elsewhere, which belongs to one label.
    private static func isValidDomainByCharacters(_ domain: String) -> Bool {
        var name = domain
        if name.hasSuffix(".") { name.removeLast() }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && name.utf8.count <= 253 && labels.allSatisfy { !$0.isEmpty && $0.utf8.count <= 63 }
    }

    /// check_host() for one domain: its record's terms in order, then redirect=, else neutral.
    private func evaluate(domain: String, via: String, state: State) async -> SPFEvaluation.Result {
        func ended(_ abort: Abort) -> SPFEvaluation.Result {
            if let reason = abort.reason { state.stop(reason) }
            return abort.result
        }
        guard Self.isValidDomain(domain) else { return ended(Abort(result: .none, reason: "\(domain) is not a valid domain name")) }
        if state.ancestry.contains(domain) {
            return ended(Abort(result: .permerror, reason: "loop: " + (state.ancestry + [domain]).joined(separator: " → ")))
        }
        let answer = await resolver.lookup(domain, .txt)
        if case let .error(message) = answer.status {
            return ended(Abort(result: .temperror, reason: "the TXT look-up for \(domain) failed (\(message))"))
        }
        // An include or redirect target that does not exist is a look-up that found nothing.
        if answer.isVoid, !state.ancestry.isEmpty {
            do { try void(answer, state: state, term: via) } catch let abort as Abort { return ended(abort) } catch {}
        }
        let candidates = answer.texts.filter(SPFRecord.isCandidate)
        guard candidates.count <= 1 else {
            return ended(Abort(result: .permerror, reason: "\(domain) has \(candidates.count) SPF records"))
        }
        guard let text = candidates.first else { return ended(Abort(result: .none, reason: "\(domain) has no SPF record")) }
        let record: SPFRecord
        switch SPFRecord.parse(text) {
        case let .failure(error): return ended(Abort(result: .permerror, reason: "the record at \(domain) is invalid: \(error.message)"))
        case let .success(parsed): record = parsed
        }
        let index = state.open(SPFTreeNode(domain: domain, via: via, record: text, allQualifier: record.allQualifier,
                                           ownLookups: 0, totalLookups: 0, voidLookups: 0, problems: [], children: []))
        state.ancestry.append(domain)
        defer { state.close(index); state.ancestry.removeLast() }
        remark(on: record, domain: domain, state: state)
        if prefetch { await prefetchTargets(of: record, domain: domain, v6: state.ip.count == 16) }
        do {
            for directive in record.directives {
                state.path.append(SPFEvaluation.Step(domain: domain, term: directive.text))
                if directive.mechanism.queriesDNS { try count(state) }
                if try await matches(directive, domain: domain, state: state) {
                    // An include matched because of a term in the included record: keep that below it.
                    if case .include = directive.mechanism {
                        state.decidedBy.insert("\(domain): \(directive.text)", at: 0)
                    } else {
                        state.decidedBy = ["\(domain): \(directive.text)"]
                    }
                    let result: SPFEvaluation.Result
                    switch directive.qualifier {
                    case .pass: result = .pass
                    case .fail: result = .fail
                    case .softfail: result = .softfail
                    case .neutral: result = .neutral
                    }
                    if result == .fail, let exp = record.explanation { await explain(exp, domain: domain, state: state) }
                    return result
                }
            }
            if let redirect = record.redirect {
                state.path.append(SPFEvaluation.Step(domain: domain, term: "redirect=\(redirect)"))
                try count(state)
                let target = try await expand(redirect, domain: domain, state: state, explanation: false, domainSpec: true)
                state.explanation = nil
                let result = await evaluate(domain: DNSName.normalize(target), via: "redirect=\(target)", state: state)
                state.decidedBy.insert("\(domain): redirect=\(redirect)", at: 0)
                return result == .none ? .permerror : result
            }
            // No term matched: the default result, decided by no term.
            state.decidedBy = []
            return .neutral
        } catch let abort as Abort {
            return ended(abort)
        } catch {
            return .permerror
        }
    }

    /// What receivers let pass but a domain owner should hear about. Noted once per record met.
    private func remark(on record: SPFRecord, domain: String, state: State) {
        for directive in record.directives {
            if case .ptr = directive.mechanism {
                let warning = "\(domain): \(directive.text) uses the ptr mechanism, which RFC 7208 5.5 says not to use"
                state.warnings.append(warning); state.note(warning)
                state.ptrTerms.append("\(domain): \(directive.text)")
            }
            if directive.mechanism.queriesDNS, SPFMacro.containsMacro(directive.text) {
                state.note("\(directive.text) contains a macro: what it asks depends on the sender")
            }
        }
        if record.redirect != nil, record.allQualifier != nil {
            let warning = "\(domain): redirect= is ignored because the record has an all mechanism"
            state.warnings.append(warning); state.note(warning)
        }
        for modifier in record.unknownModifiers {
            state.warnings.append("\(domain): unknown modifier \(modifier.name)= is ignored by receivers")
        }
    }

    /// Asks for every target the record names without a macro, at once; the evaluation then
    /// reads the resolver's cache instead of waiting for each in turn.
    private func prefetchTargets(of record: SPFRecord, domain: String, v6: Bool) async {
        var questions: [(name: String, type: RecordType)] = []
        for directive in record.directives {
            switch directive.mechanism {
            case let .include(spec): questions.append((spec, .txt))
            case let .a(spec, _, _): questions.append((spec ?? domain, v6 ? .aaaa : .a))
            case let .mx(spec, _, _): questions.append((spec ?? domain, .mx))
            case let .exists(spec): questions.append((spec, .a))
            case .all, .ip4, .ip6, .ptr: break
            }
        }
        if let redirect = record.redirect { questions.append((redirect, .txt)) }
        await resolver.prefetch(questions.filter { !SPFMacro.containsMacro($0.name) && Self.isQueryable($0.name) })
    }

    private func count(_ state: State) throws {
        state.charge(lookups: 1)
        if state.lookups > maxLookups {
            throw Abort(result: .permerror, reason: "more than \(maxLookups) DNS-querying terms (RFC 7208 4.6.4)")
        }
    }

    private func void(_ answer: DNSLookup, state: State, term: @autoclosure () -> String) throws {
        if case let .error(message) = answer.status {
            throw Abort(result: .temperror, reason: "\(term()): the look-up for \(answer.name) failed (\(message))")
        }
        guard answer.isVoid else { return }
        state.charge(void: 1)
        let found = answer.status == .nxDomain ? "\(answer.name) does not exist" : "\(answer.name) has no \(answer.type) record"
        state.note("\(term()): a void look-up (\(found))")
        if state.voidLookups > maxVoidLookups {
            throw Abort(result: .permerror, reason: "more than \(maxVoidLookups) void look-ups (RFC 7208 4.6.4)")
        }
    }

    private func addresses(_ name: String, v6: Bool) async -> (DNSLookup, [[UInt8]]) {
        let answer = await resolver.lookup(name, v6 ? .aaaa : .a)
        let list = answer.records.compactMap { record -> [UInt8]? in
            switch record.data { case let .a(bytes), let .aaaa(bytes): return bytes; default: return nil }
        }
        return (answer, list)
    }

    private func inNetwork(_ candidate: [UInt8], _ ip: [UInt8], prefix: Int?) -> Bool {
        guard candidate.count == ip.count else { return false }
        let bits = prefix ?? ip.count * 8
        for index in 0..<ip.count {
            let remaining = bits - index * 8
            if remaining <= 0 { return true }
            let mask: UInt8 = remaining >= 8 ? 0xFF : UInt8(0xFF << (8 - remaining) & 0xFF)
            if candidate[index] & mask != ip[index] & mask { return false }
        }
        return true
    }

    private func matches(_ directive: SPFRecord.Directive, domain: String, state: State) async throws -> Bool {
        let v6 = state.ip.count == 16
        // Made only when an error or a void look-up needs it, not for every term evaluated.
        func term() -> String { "\(domain): \(directive.text)" }
        switch directive.mechanism {
        case .all:
            return true
        case let .include(spec):
            let target = DNSName.normalize(try await expand(spec, domain: domain, state: state, explanation: false, domainSpec: true))
            switch await evaluate(domain: target, via: "include:\(target)", state: state) {
            case .pass: return true
            case .fail, .softfail, .neutral: return false
            // The included evaluation has said why.
            case .temperror: throw Abort(result: .temperror)
            case .permerror, .none: throw Abort(result: .permerror)
            }
        case let .a(spec, ip4Prefix, ip6Prefix):
            let target = try await target(spec, domain: domain, state: state)
            guard try Self.worthAsking(target, spec: spec, term: term()) else { return false }
            let (answer, list) = await addresses(target, v6: v6)
            try void(answer, state: state, term: term())
            return list.contains { inNetwork($0, state.ip, prefix: v6 ? ip6Prefix : ip4Prefix) }
        case let .mx(spec, ip4Prefix, ip6Prefix):
            let target = try await target(spec, domain: domain, state: state)
            guard try Self.worthAsking(target, spec: spec, term: term()) else { return false }
            let answer = await resolver.lookup(target, .mx)
            try void(answer, state: state, term: term())
            // Exchange names come in presentation form; a name with octets that are not text matches nothing.
            let names = answer.records.compactMap { record -> String? in
                if case let .mx(_, exchange) = record.data, !exchange.isEmpty { return DNSName.unescape(exchange) } else { return nil }
            }
            if names.count > 10 {
                throw Abort(result: .permerror, reason: "\(term()): \(names.count) MX names, more than the 10 allowed (RFC 7208 4.6.4)")
            }
            for name in names {
                let (lookup, list) = await addresses(name, v6: v6)
                if case let .error(message) = lookup.status {
                    throw Abort(result: .temperror, reason: "\(term()): the address look-up for \(name) failed (\(message))")
                }
                if list.contains(where: { inNetwork($0, state.ip, prefix: v6 ? ip6Prefix : ip4Prefix) }) { return true }
            }
            return false
        case let .ptr(spec):
            let target = try await target(spec, domain: domain, state: state)
            let names = await validatedNames(state)
            let wanted = DNSName.normalize(target)
            return names.contains { $0 == wanted || $0.hasSuffix("." + wanted) }
        case let .ip4(address, prefix):
            return !v6 && inNetwork(address, state.ip, prefix: prefix)
        case let .ip6(address, prefix):
            return v6 && inNetwork(address, state.ip, prefix: prefix)
        case let .exists(spec):
            let target = try await expand(spec, domain: domain, state: state, explanation: false, domainSpec: true)
            guard try Self.worthAsking(target, spec: spec, term: term()) else { return false }
            let answer = await resolver.lookup(target, .a)
            try void(answer, state: state, term: term())
            return answer.status == .found
        }
    }

    /// The domain a mechanism names, expanded, or the current domain.
    private func target(_ spec: String?, domain: String, state: State) async throws -> String {
        guard let spec else { return domain }
        return try await expand(spec, domain: domain, state: state, explanation: false, domainSpec: true)
    }

    /// Names of the client's address that resolve back to it (RFC 7208 5.5), at most 10 tried.
    private func validatedNames(_ state: State) async -> [String] {
        let reverse = await resolver.lookup(Self.reverseName(state.ip), .ptr)
        var names: [String] = []
        for record in reverse.records.prefix(10) {
            guard case let .name(presentation) = record.data, let name = DNSName.unescape(presentation) else { continue }
            let (_, list) = await addresses(name, v6: state.ip.count == 16)
            if list.contains(state.ip) { names.append(DNSName.normalize(name)) }
        }
        return names
    }

    static func reverseName(_ ip: [UInt8]) -> String {
        if ip.count == 4 { return ip.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa" }
        return nibbles(ip).reversed().joined(separator: ".") + ".ip6.arpa"
    }

    static func nibbles(_ ip: [UInt8]) -> [String] {
        ip.flatMap { [String($0 >> 4, radix: 16), String($0 & 0x0F, radix: 16)] }
    }

    private func explain(_ spec: String, domain: String, state: State) async {
        guard let target = try? await expand(spec, domain: domain, state: state, explanation: false, domainSpec: true),
              Self.isValidDomain(target) else { return }
        let answer = await resolver.lookup(target, .txt)
        guard answer.status == .found, answer.texts.count == 1 else { return }
        state.explanation = try? await expand(answer.texts[0], domain: domain, state: state, explanation: true, domainSpec: false)
    }

    /// Macro expansion (RFC 7208 7.3). A domain-spec longer than 253 octets loses labels on the left.
    func expand(_ text: String, domain: String, state: State, explanation: Bool, domainSpec: Bool) async throws -> String {
        let malformed = Abort(result: .permerror, reason: "\(domain): \"\(text)\" holds a malformed macro (RFC 7208 7.1)")
        do {
            return try await expandMacros(text, domain: domain, state: state, explanation: explanation, domainSpec: domainSpec)
        } catch let abort as Abort where abort.reason == nil {
            throw malformed
        }
    }

    private func expandMacros(_ text: String, domain: String, state: State, explanation: Bool, domainSpec: Bool) async throws -> String {
        var out = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            guard character == "%" else { out.append(character); index = text.index(after: index); continue }
            let next = text.index(after: index)
            guard next < text.endIndex else { throw Abort(result: .permerror) }
            switch text[next] {
            case "%": out += "%"; index = text.index(after: next)
            case "_": out += " "; index = text.index(after: next)
            case "-": out += "%20"; index = text.index(after: next)
            case "{":
                guard let close = text[next...].firstIndex(of: "}") else { throw Abort(result: .permerror) }
                out += try await macro(String(text[text.index(after: next)..<close]), domain: domain, state: state, explanation: explanation)
                index = text.index(after: close)
            default:
                throw Abort(result: .permerror)
            }
        }
        if domainSpec {
            while out.utf8.count > 253, let dot = out.firstIndex(of: ".") { out = String(out[out.index(after: dot)...]) }
        }
        return out
    }

    private func macro(_ body: String, domain: String, state: State, explanation: Bool) async throws -> String {
        guard let letter = body.first else { throw Abort(result: .permerror) }
        let value: String
        switch letter.lowercased() {
        case "s": value = "\(state.local)@\(state.senderDomain)"
        case "l": value = state.local
        case "o": value = state.senderDomain
        case "d": value = domain
        case "i": value = state.ip.count == 4 ? state.ip.map(String.init).joined(separator: ".") : Self.nibbles(state.ip).joined(separator: ".")
        case "p": value = await validatedNames(state).first ?? "unknown"
        case "v": value = state.ip.count == 4 ? "in-addr" : "ip6"
        case "h": value = state.helo
        case "c" where explanation:
            value = state.ip.count == 4 ? state.ip.map(String.init).joined(separator: ".") : IPv6Text.format(state.ip)
        case "r" where explanation: value = "unknown"
        case "t" where explanation: value = String(Int(Date().timeIntervalSince1970))
        default: throw Abort(result: .permerror)
        }
        var rest = body.dropFirst()
        let digits = rest.prefix(while: { $0.isNumber })
        rest = rest.dropFirst(digits.count)
        let reverse = rest.first == "r" || rest.first == "R"
        if reverse { rest = rest.dropFirst() }
        let delimiters = rest.isEmpty ? Set<Character>(["."]) : Set(rest)
        guard delimiters.isSubset(of: [".", "-", "+", ",", "/", "_", "="]) else { throw Abort(result: .permerror) }
        var parts = value.split(whereSeparator: { delimiters.contains($0) }).map(String.init)
        if reverse { parts.reverse() }
        if !digits.isEmpty {
            guard let keep = Int(digits), keep > 0 else { throw Abort(result: .permerror) }
            parts = Array(parts.suffix(keep))
        }
        var result = parts.joined(separator: ".")
        if letter.isUppercase {
            let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
            result = result.addingPercentEncoding(withAllowedCharacters: unreserved) ?? result
        }
        return result
    }
}
