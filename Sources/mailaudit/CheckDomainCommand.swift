import ArgumentParser
import Curl
import DoH
import Foundation
import Site
import MailDomain
import Report

struct CheckDomainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-domain",
        abstract: "Check the mail security of one or more domains.",
        discussion: """
        For each domain: MX (null MX included), SPF (the whole include/redirect tree, with the \
        RFC 7208 limits of 10 look-ups and 2 void look-ups), DMARC (falling back to the \
        organisational domain), MTA-STS (record and policy over HTTPS), TLS-RPT, DKIM keys at \
        known selectors, and the mail provider (Microsoft 365 tenant discovery included). With \
        --smtp, also whether each MX host starts TLS 1.2+ with a valid certificate on port 25 \
        (smtp-starttls; off by default because many networks block outgoing port 25).

        Statuses: pass, fail, warn, not-present (looked for, not there), error (could not tell: \
        time-out, SERVFAIL, bad answer) and not-applicable. An error is never read as absent.

        Examples:
          mailaudit check-domain cambridge.gov.uk example.org
          mailaudit check-domain --file domains.txt --format json > out.json
          mailaudit check-domain example.org --resolver https://dns.example/dns-query --ca-file test-ca.pem
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }
    enum Colour: String, ExpressibleByArgument, CaseIterable { case auto, always, never }

    @Argument(help: ArgumentHelp("Domains to check; internationalised names are checked as A-labels.", valueName: "domain"))
    var domains: [String] = []

    @Option(name: .long, help: ArgumentHelp("Read domains from a file, one per line ('#' starts a comment; '-' reads standard input).", valueName: "path"))
    var file: String?

    @Option(name: .long, help: "Output format: text (for people) or json (see the README for the schema).")
    var format: Format = .text

    @Option(name: .long, help: "Colour in text output: auto (when standard output is a terminal), always or never.")
    var color: Colour = .auto

    @Flag(name: .shortAndLong, help: "Show records and the evidence (DNS answers, HTTP responses) under each check.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("A DKIM selector to try before the common ones; repeat for more.", valueName: "selector"))
    var dkimSelector: [String] = []

    @Option(name: .long, help: ArgumentHelp("Base URL of Microsoft's login service, for tenant discovery.", valueName: "url"))
    var microsoftLoginUrl: String = "https://login.microsoftonline.com"

    @Flag(name: .long, help: "Do not ask Microsoft whether the domain belongs to an Entra ID tenant.")
    var noTenantDiscovery = false

    @Option(name: .long, help: ArgumentHelp("Domains checked at once.", valueName: "n"))
    var concurrency: Int = 16

    @Flag(name: .long, help: "Also probe each MX host (up to 5) for STARTTLS on port 25: TLS 1.2+ and a certificate valid for its name.")
    var smtp = false

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each MX host with --smtp.", valueName: "seconds"))
    var smtpTimeout: Double = 15

    @Flag(name: .long, help: "Print resolver statistics (questions, cache hits, DoH requests) to standard error.")
    var stats = false

    @OptionGroup var network: NetworkOptions

    func validate() throws {
        guard !domains.isEmpty || file != nil else {
            throw ValidationError("no domains given: name them as arguments or with --file")
        }
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 256") }
        guard smtpTimeout > 0, smtpTimeout <= 300 else { throw ValidationError("--smtp-timeout must be from 1 to 300 seconds") }
        guard microsoftLoginUrl.lowercased().hasPrefix("https://") else {
            throw ValidationError("--microsoft-login-url must be an https:// URL")
        }
        for selector in dkimSelector {
            guard !selector.isEmpty, selector.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw ValidationError("--dkim-selector \(selector): a selector is letters, digits, '-', '_' and '.'")
            }
        }
    }

    func run() async throws {
        var inputs = try domains.map { try Self.domain(of: $0, from: nil) }
        if let file { inputs += try DomainListFile.read(file).map { try Self.domain(of: $0, from: file) } }
        guard !inputs.isEmpty else { throw CommandFailure("the domain list \(file ?? "") holds no domains") }

        let kit = try DomainCheckerKit(.init(resolverURL: network.resolverURL, caFile: network.caFilePath, dohMethod: network.dohMethod,
                                         dnsTimeout: network.dnsTimeout, httpsTimeout: network.httpsTimeout,
                                         microsoftLoginURL: noTenantDiscovery ? nil : microsoftLoginUrl,
                                         extraDKIMSelectors: dkimSelector, smtpProbe: smtp, smtpTimeout: smtpTimeout,
                                             runDeadline: network.runDeadline, concurrency: concurrency))
        defer { kit.shutdown() }
        let started = ContinuousClock.now
        // Each domain is written as soon as those before it are: a long list is never held whole.
        let output = FileHandle.standardOutput
        var json = JSONOutput.ArrayWriter { output.write($0) }
        let text = DomainReportText(colour: color == .always || (color == .auto && isatty(STDOUT_FILENO) == 1), verbose: verbose)
        var written = 0
        var encodingFailure: Error?
        await kit.checker.check(inputs, concurrency: concurrency, progress: inputs.count > 1 ? kit.progressReporter() : nil) { report in
            switch format {
            case .json:
                do { try json.append(report) } catch { encodingFailure = encodingFailure ?? error }
            case .text:
                output.write(Data(((written == 0 ? "" : "\n") + text.render(report)).utf8))
            }
            written += 1
        }
        if format == .json {
            json.finish()
            output.write(Data("\n".utf8))
        }
        if let encodingFailure { throw CommandFailure("the results could not be written as JSON: \(encodingFailure)") }
        let statistics = await kit.resolver.statistics

        if stats {
            let elapsed = ContinuousClock.now - started
            let line = "domains: \(inputs.count); elapsed: \(elapsed); questions: \(statistics.questions); "
                + "cache hits: \(statistics.cacheHits); joined in flight: \(statistics.joinedInFlight); "
                + "distinct questions answered: \(statistics.answered); DoH requests: \(statistics.httpRequests) "
                + "(retries: \(statistics.retries)); evicted from the cache: \(statistics.evicted)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        for warning in kit.runWarnings(deadline: network.runDeadline, statistics: statistics) {
            FileHandle.standardError.write(Data("mailaudit: warning: \(warning)\n".utf8))
        }
        // The results above say `error` where this machine failed; the exit code says it was ours.
        try kit.refuseIfLocalFailure()
        // A resolver that answered nothing means nothing was checked: that is the tool failing.
        if statistics.httpRequests > 0 && statistics.answered == 0 {
            throw CommandFailure("the resolver \(network.resolverURL) answered no question; the errors are in the output above")
        }
    }
}

extension CheckDomainCommand {
    /// The domain to check for an argument: a domain, or an address's domain (user@example.org).
    /// Anything else is a usage error, not seven identical error lines.
    static func domain(of input: String, from file: String?) throws -> String {
        let candidate = input.contains("@") ? String(input[input.index(after: input.lastIndex(of: "@")!)...]) : input
        guard !candidate.isEmpty, (try? DomainNames.asciiName(candidate)) != nil,
              !candidate.contains(where: { $0 == "/" || $0 == ":" || $0 == " " }) else {
            let source = file.map { "\($0): " } ?? ""
            throw ValidationError("\(source)\"\(input)\" is not a domain name or an email address")
        }
        return candidate
    }
}

/// A list of domains, one per line, '#' comments.
enum DomainListFile {
    static func read(_ path: String) throws -> [String] {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw CommandFailure("cannot read the domain list \(path)")
            }
            data = contents
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CommandFailure("the domain list \(path) is not UTF-8 text")
        }
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = content.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        }
    }
}
