import Curl
import DoH
import Foundation
import MailDomain
import Report

/// Builds the HTTP client, the resolver and the domain checker the same way for every command.
/// Call `shutdown()` when done.
public struct DomainCheckerKit: Sendable {
    public let client: CurlClient
    public let resolver: DoHResolver
    public let checker: DomainChecker
    /// The DNS-over-HTTPS resolver asked, as the progress line names it.
    public let resolverURL: String

    public struct Options: Sendable {
        public var resolverURL: String
        public var caFile: String?
        public var dohMethod: String
        public var dnsTimeout: Double
        public var httpsTimeout: Double
        public var microsoftLoginURL: String?
        public var extraDKIMSelectors: [String]
        /// Probe MX hosts for STARTTLS on port 25 (the smtp-starttls check).
        public var smtpProbe = false
        public var smtpTimeout = 15.0
        /// Seconds from now after which nothing more is asked (checks.runDeadline, --run-deadline).
        public var runDeadline = 900.0
        /// Domains checked at once: the connections kept open are sized to it.
        public var concurrency = 16

        public init(resolverURL: String, caFile: String?, dohMethod: String, dnsTimeout: Double, httpsTimeout: Double,
                    microsoftLoginURL: String?, extraDKIMSelectors: [String], smtpProbe: Bool = false, smtpTimeout: Double = 15,
                    runDeadline: Double = 900, concurrency: Int = 16) {
            self.resolverURL = resolverURL; self.caFile = caFile; self.dohMethod = dohMethod; self.dnsTimeout = dnsTimeout
            self.httpsTimeout = httpsTimeout; self.microsoftLoginURL = microsoftLoginURL; self.extraDKIMSelectors = extraDKIMSelectors
            self.smtpProbe = smtpProbe; self.smtpTimeout = smtpTimeout; self.runDeadline = runDeadline; self.concurrency = concurrency
        }
    }

    public static let defaultResolver = "https://cloudflare-dns.com/dns-query"
    public static let defaultMicrosoftLogin = "https://login.microsoftonline.com"

    public init(_ options: Options, base: DomainCheckSettings = DomainCheckSettings()) throws {
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
        client = CurlClient(maxTotalConnections: min(try Self.connectionBudget(), max(8, options.concurrency * 3)),
                            deadline: .now + .milliseconds(Int(options.runDeadline * 1000)))
        resolver = DoHResolver(configuration: configuration, client: client)
        resolverURL = options.resolverURL
        checker = DomainChecker(resolver: resolver, client: client, settings: settings)
    }

    public func shutdown() { client.shutdown() }

    /// How many connections may be open at once: what the descriptor limit leaves after those
    /// already open and a reserve for files (the register, reports, CA files), at most 64.
    public static func connectionBudget() throws -> Int {
        guard let limit = LocalFailure.descriptorLimit() else { return 64 }
        let open = LocalFailure.descriptorsOpen() ?? 16
        let reserve = 16
        let budget = limit - open - reserve
        guard budget >= 4 else {
            throw SiteContext.Failure("only \(limit) file descriptors are allowed (ulimit -n) and \(open) are in use: "
                                      + "too few to check any domain safely; allow at least \(open + reserve + 4)")
        }
        return min(64, budget)
    }

    /// What the report must say about checks cut short: the run deadline, a resolver given up on.
    public func runWarnings(deadline: Double, statistics: ResolverStatistics) -> [String] {
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
    public func refuseIfLocalFailure() throws {
        guard let failure = client.localFailure else { return }
        throw SiteContext.Failure("this machine ran out of resources during the checks (\(failure.count) failure\(failure.count == 1 ? "" : "s"), "
                             + "first: \(failure.first)); no result is given. Raise the file-descriptor limit (ulimit -n) or lower "
                             + "the concurrency (checks.concurrency, --concurrency)")
    }

    /// A progress line on standard error, only when it is a terminal: at once "Checking 17
    /// domains via <resolver>", then how many are done.
    public func progressReporter() -> (@Sendable (Int, Int) -> Void)? {
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
    public func setting(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }
}
