import Curl
import DoH
import Foundation
import MailDomain
import Report

/// Builds the HTTP client, the resolver and the domain checker the same way for every command.
/// Call `shutdown()` when done.
struct DomainCheckerKit {
    let client: CurlClient
    let resolver: DoHResolver
    let checker: DomainChecker
    /// The DNS-over-HTTPS resolver asked, as the progress line names it.
    let resolverURL: String

    struct Options {
        var resolverURL: String
        var caFile: String?
        var dohMethod: String
        var dnsTimeout: Double
        var httpsTimeout: Double
        var microsoftLoginURL: String?
        var extraDKIMSelectors: [String]
        /// Probe MX hosts for STARTTLS on port 25 (the smtp-starttls check).
        var smtpProbe = false
        var smtpTimeout = 15.0
        /// Seconds from now after which nothing more is asked (checks.runDeadline, --run-deadline).
        var runDeadline = 900.0
        /// Domains checked at once: the connections kept open are sized to it.
        var concurrency = 16
    }

    static let defaultResolver = "https://cloudflare-dns.com/dns-query"
    static let defaultMicrosoftLogin = "https://login.microsoftonline.com"

    init(_ options: Options, base: DomainCheckSettings = DomainCheckSettings()) throws {
        var settings = base
        settings.caFile = options.caFile
        settings.httpsTimeout = .milliseconds(Int(options.httpsTimeout * 1000))
        settings.microsoftLoginBaseURL = options.microsoftLoginURL
        settings.dkimSelectors = options.extraDKIMSelectors + settings.dkimSelectors.filter { !options.extraDKIMSelectors.contains($0) }
        settings.smtpProbe = options.smtpProbe
        settings.smtpTimeout = .milliseconds(Int(options.smtpTimeout * 1000))
        var configuration = DoHConfiguration(url: options.resolverURL, caFile: options.caFile)
        configuration.method = options.dohMethod.lowercased() == "get" ? .get : .post
        configuration.timeout = .milliseconds(Int(options.dnsTimeout * 1000))
        // A few connections per domain in progress (its MTA-STS host, tenant discovery, SMTP),
        // never more than the descriptors allow.
        client = CurlClient(maxTotalConnections: min(try ProcessSetup.connectionBudget(), max(8, options.concurrency * 3)),
                            deadline: .now + .milliseconds(Int(options.runDeadline * 1000)))
        resolver = DoHResolver(configuration: configuration, client: client)
        resolverURL = options.resolverURL
        checker = DomainChecker(resolver: resolver, client: client, settings: settings)
    }

    func shutdown() { client.shutdown() }

    /// What the report must say about checks cut short: the run deadline, a resolver given up on.
    func runWarnings(deadline: Double, statistics: ResolverStatistics) -> [String] {
        var warnings: [String] = []
        let refused = client.refusedAfterDeadlineCount
        if refused > 0 {
            warnings.append("The run deadline (\(Int(deadline)) s, checks.runDeadline) passed: \(refused) look-up\(refused == 1 ? " was" : "s were") "
                            + "not attempted, and what they would have shown is reported as could not be checked.")
        }
        if let reason = statistics.gaveUp {
            warnings.append("DNS: \(reason); \(statistics.notAskedAfterGivingUp) question\(statistics.notAskedAfterGivingUp == 1 ? "" : "s") "
                            + "were not asked, and what they would have shown is reported as could not be checked.")
        }
        return warnings
    }

    /// A run in which this process ran out of descriptors or memory has judged nobody fairly:
    /// say so once, and exit 2.
    func refuseIfLocalFailure() throws {
        guard let failure = client.localFailure else { return }
        throw CommandFailure("this machine ran out of resources during the checks (\(failure.count) failure\(failure.count == 1 ? "" : "s"), "
                             + "first: \(failure.first)); no result is given. Raise the file-descriptor limit (ulimit -n) or lower "
                             + "the concurrency (checks.concurrency, --concurrency)")
    }

    /// A progress line on standard error, only when it is a terminal: at once "Checking 17
    /// domains via <resolver>", then how many are done.
    func progressReporter() -> (@Sendable (Int, Int) -> Void)? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        let via = TerminalText.sanitize(resolverURL)
        return { done, total in
            let noun = total == 1 ? "domain" : "domains"
            let line = done == 0 ? "Checking \(total) \(noun) via \(via)…" : "Checking \(total) \(noun) via \(via): \(done) done"
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)\(done == total ? "\r\u{1B}[K" : "")".utf8))
        }
    }
}

extension ProcessInfo {
    func setting(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }
}
