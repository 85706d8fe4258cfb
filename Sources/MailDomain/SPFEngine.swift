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
    public var path: [String]
}

public final class SPFEngine: @unchecked Sendable {
    private let resolver: DNSResolving
    private let maxLookups: Int
    private let maxVoidLookups: Int

    public init(resolver: DNSResolving, maxLookups: Int = 10, maxVoidLookups: Int = 2) {
        self.resolver = resolver
        self.maxLookups = maxLookups
        self.maxVoidLookups = maxVoidLookups
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
        let result = await evaluate(domain: domain, state: state, depth: 0)
        return SPFEvaluation(result: result, explanation: state.explanation, lookups: state.lookups,
                             voidLookups: state.voidLookups, path: state.path)
    }

    final class State {
        let ip: [UInt8]
        let local: String
        let senderDomain: String
        let helo: String
        var lookups = 0
        var voidLookups = 0
        var path: [String] = []
        var explanation: String?
        init(ip: [UInt8], local: String, senderDomain: String, helo: String) {
            self.ip = ip; self.local = local; self.senderDomain = senderDomain; self.helo = helo
        }
    }

    private struct Abort: Error { var result: SPFEvaluation.Result }

    /// A name worth asking DNS about. A macro can expand to anything (a HELO of "JUMPIN' JUPITER");
    /// such a name matches nothing, it is not an error (RFC 7208 7.1, 4.8).
    private static func isQueryable(_ domain: String) -> Bool {
        // Spaces (from %_) are legal octets in a label; control and non-ASCII characters are not asked.
        isValidDomain(domain) && domain.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
    }

    /// A literal name that is not a domain is a broken record (permerror); a name a macro made is
    /// the sender's doing, and simply matches nothing.
    private static func worthAsking(_ target: String, spec: String?) throws -> Bool {
        if isQueryable(target) { return true }
        if let spec, SPFMacro.containsMacro(spec) { return false }
        throw Abort(result: .permerror)
    }

    private static func isValidDomain(_ domain: String) -> Bool {
        var name = domain
        if name.hasSuffix(".") { name.removeLast() }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && name.utf8.count <= 253 && labels.allSatisfy { !$0.isEmpty && $0.utf8.count <= 63 }
    }

    private func evaluate(domain: String, state: State, depth: Int) async -> SPFEvaluation.Result {
        guard Self.isValidDomain(domain) else { return .none }
        let answer = await resolver.lookup(domain, .txt)
        switch answer.status {
        case .error: return .temperror
        case .nxDomain: return .none
        default: break
        }
        let candidates = answer.texts.filter(SPFRecord.isCandidate)
        guard candidates.count == 1 else { return candidates.isEmpty ? .none : .permerror }
        guard case let .success(record) = SPFRecord.parse(candidates[0]) else { return .permerror }
        do {
            for directive in record.directives {
                state.path.append("\(domain): \(directive.text)")
                if directive.mechanism.queriesDNS { try count(state) }
                if try await matches(directive.mechanism, domain: domain, state: state, depth: depth) {
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
                state.path.append("\(domain): redirect=\(redirect)")
                try count(state)
                let target = try await expand(redirect, domain: domain, state: state, explanation: false, domainSpec: true)
                state.explanation = nil
                let result = await evaluate(domain: target, state: state, depth: depth + 1)
                return result == .none ? .permerror : result
            }
            return .neutral
        } catch let abort as Abort {
            return abort.result
        } catch {
            return .permerror
        }
    }

    private func count(_ state: State) throws {
        state.lookups += 1
        if state.lookups > maxLookups { throw Abort(result: .permerror) }
    }

    private func void(_ answer: DNSLookup, state: State) throws {
        if case .error = answer.status { throw Abort(result: .temperror) }
        if answer.isVoid {
            state.voidLookups += 1
            if state.voidLookups > maxVoidLookups { throw Abort(result: .permerror) }
        }
    }

    private func addresses(_ name: String, v6: Bool) async throws -> (DNSLookup, [[UInt8]]) {
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

    private func matches(_ mechanism: SPFRecord.Mechanism, domain: String, state: State, depth: Int) async throws -> Bool {
        let v6 = state.ip.count == 16
        switch mechanism {
        case .all:
            return true
        case let .include(spec):
            let target = try await expand(spec, domain: domain, state: state, explanation: false, domainSpec: true)
            switch await evaluate(domain: target, state: state, depth: depth + 1) {
            case .pass: return true
            case .fail, .softfail, .neutral: return false
            case .temperror: throw Abort(result: .temperror)
            case .permerror, .none: throw Abort(result: .permerror)
            }
        case let .a(spec, ip4Prefix, ip6Prefix):
            let target = try await target(spec, domain: domain, state: state)
            guard try Self.worthAsking(target, spec: spec) else { return false }
            let (answer, list) = try await addresses(target, v6: v6)
            try void(answer, state: state)
            return list.contains { inNetwork($0, state.ip, prefix: v6 ? ip6Prefix : ip4Prefix) }
        case let .mx(spec, ip4Prefix, ip6Prefix):
            let target = try await target(spec, domain: domain, state: state)
            guard try Self.worthAsking(target, spec: spec) else { return false }
            let answer = await resolver.lookup(target, .mx)
            try void(answer, state: state)
            // Exchange names come in presentation form; a name with octets that are not text matches nothing.
            let names = answer.records.compactMap { record -> String? in
                if case let .mx(_, exchange) = record.data, !exchange.isEmpty { return DNSName.unescape(exchange) } else { return nil }
            }
            if names.count > 10 { throw Abort(result: .permerror) }
            for name in names {
                let (lookup, list) = try await addresses(name, v6: v6)
                if case .error = lookup.status { throw Abort(result: .temperror) }
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
            guard try Self.worthAsking(target, spec: spec) else { return false }
            let answer = await resolver.lookup(target, .a)
            try void(answer, state: state)
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
            let (_, list) = (try? await addresses(name, v6: state.ip.count == 16)) ?? (reverse, [])
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
