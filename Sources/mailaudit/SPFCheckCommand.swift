import ArgumentParser
import Foundation
import Site
import MailDomain
import Report

struct SPFCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spf-check",
        abstract: "Evaluate SPF for a client address and sender, as a receiver would (RFC 7208 check_host()).",
        discussion: """
        Prints the result (pass, fail, softfail, neutral, none, permerror, temperror); for none, \
        permerror and temperror why (e.g. "more than 2 void look-ups", "loop: a.example → b.example → \
        a.example"); the terms that decided it; every term evaluated in order; the DNS look-ups spent; \
        the explanation when exp= gives one; and warnings (ptr, redirect beside all, unknown \
        modifiers). With no --sender (or an empty one) the HELO identity is checked.

        JSON (--format json): result, lookups, voidLookups, explanation (or null), reason (or null), \
        path, decidedBy, warnings. The exit status is 0 whatever the SPF result; 2 on a usage error, or \
        when the resolver answered no question at all (the result printed is then temperror).

        Examples:
          mailaudit spf-check --ip 192.0.2.10 --sender member@council.example --helo mail.council.example
          mailaudit spf-check --ip 2001:db8::25 --helo mail.council.example --format json
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .long, help: ArgumentHelp("The sending client's IPv4 or IPv6 address.", valueName: "address")) var ip: String
    @Option(name: .long, help: ArgumentHelp("MAIL FROM (empty: check the HELO identity).", valueName: "address")) var sender: String = ""
    @Option(name: .long, help: ArgumentHelp("The HELO/EHLO name.", valueName: "name")) var helo: String = ""
    @Option(name: .long, help: "text or json.") var format: Format = .text
    @OptionGroup var network: NetworkOptions

    func validate() throws {
        guard IPAddressText.parseIPv4(ip) != nil || IPAddressText.parseIPv6(ip) != nil else { throw ValidationError("--ip \(ip) is not an IPv4 or IPv6 address") }
        guard !sender.isEmpty || !helo.isEmpty else { throw ValidationError("give --sender, or --helo to check the HELO identity") }
    }

    func run() async throws {
        let address = IPAddressText.parseIPv4(ip) ?? IPAddressText.parseIPv6(ip)!
        let (sender, helo) = (try Self.dnsForm(sender: sender), try Self.dnsForm(domain: helo))
        let kit = try DomainCheckerKit(.init(resolverURL: network.resolverURL, caFile: network.caFilePath, dohMethod: network.dohMethod,
                                         dnsTimeout: network.dnsTimeout, httpsTimeout: network.httpsTimeout, microsoftLoginURL: nil,
                                         extraDKIMSelectors: []))
        defer { kit.shutdown() }
        let evaluation = await SPFEngine(resolver: kit.resolver).checkHost(ip: address, sender: sender, helo: helo)
        switch format {
        case .json:
            FileHandle.standardOutput.write(try JSONOutput.encode(Output(evaluation)))
            FileHandle.standardOutput.write(Data("\n".utf8))
        case .text:
            let spent = evaluation.lookups == 1 ? "1 DNS look-up" : "\(evaluation.lookups) DNS look-ups"
            var lines = ["SPF result: \(evaluation.result.rawValue) (\(spent), \(evaluation.voidLookups) void)"]
            if let reason = evaluation.reason { lines.append("Why: \(TerminalText.sanitize(reason))") }
            if !evaluation.decidedBy.isEmpty {
                lines.append("Decided by: " + evaluation.decidedBy.map(TerminalText.sanitize).joined(separator: " → "))
            }
            if let explanation = evaluation.explanation { lines.append("Explanation: \(TerminalText.sanitize(explanation))") }
            lines.append("Terms evaluated:")
            lines += evaluation.path.map { "  " + TerminalText.sanitize($0) }
            if !evaluation.warnings.isEmpty {
                lines.append("Warnings:")
                lines += evaluation.warnings.map { "  " + TerminalText.sanitize($0) }
            }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        // As check-domain: a resolver that answered nothing means nothing was evaluated.
        let statistics = await kit.resolver.statistics
        if statistics.httpRequests > 0 && statistics.answered == 0 {
            throw CommandFailure("the resolver \(network.resolverURL) answered no question; the temperror above is not the domain's SPF")
        }
    }

    /// The name as DNS is asked it: an internationalised domain in A-labels (RFC 8616 3.1: SPF
    /// works on the A-label form), one trailing dot dropped. ASCII names are left as given, odd
    /// characters included: what check_host() makes of them is part of the answer.
    static func dnsForm(domain: String) throws -> String {
        var name = domain
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.allSatisfy(\.isASCII) else { return name }
        do { return try DomainNames.asciiName(name) } catch {
            throw CommandFailure("\(error)")
        }
    }

    static func dnsForm(sender: String) throws -> String {
        guard let at = sender.lastIndex(of: "@") else { return try dnsForm(domain: sender) }
        return String(sender[...at]) + (try dnsForm(domain: String(sender[sender.index(after: at)...])))
    }

    /// The JSON shape: every key always present (null when empty), so scripts can rely on it.
    struct Output: Encodable {
        var result: String
        var lookups: Int
        var voidLookups: Int
        var explanation: String?
        var reason: String?
        var path: [String]
        var decidedBy: [String]
        var warnings: [String]

        init(_ evaluation: SPFEvaluation) {
            result = evaluation.result.rawValue
            lookups = evaluation.lookups
            voidLookups = evaluation.voidLookups
            explanation = evaluation.explanation
            reason = evaluation.reason
            path = evaluation.path
            decidedBy = evaluation.decidedBy
            warnings = evaluation.warnings
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(result, forKey: .result)
            try container.encode(lookups, forKey: .lookups)
            try container.encode(voidLookups, forKey: .voidLookups)
            try container.encode(explanation, forKey: .explanation)
            try container.encode(reason, forKey: .reason)
            try container.encode(path, forKey: .path)
            try container.encode(decidedBy, forKey: .decidedBy)
            try container.encode(warnings, forKey: .warnings)
        }

        enum CodingKeys: String, CodingKey { case result, lookups, voidLookups, explanation, reason, path, decidedBy, warnings }
    }
}
