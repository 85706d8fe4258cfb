import Curl
import DoH
import Foundation
import MailDomain

/// Builds the HTTP client, the resolver and the domain checker the same way for every command.
/// Call `shutdown()` when done.
struct DomainCheckerKit {
    let client: CurlClient
    let resolver: DoHResolver
    let checker: DomainChecker

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
    }

    static let defaultResolver = "https://cloudflare-dns.com/dns-query"
    static let defaultMicrosoftLogin = "https://login.microsoftonline.com"

    init(_ options: Options, base: DomainCheckSettings = DomainCheckSettings()) {
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
        client = CurlClient()
        resolver = DoHResolver(configuration: configuration, client: client)
        checker = DomainChecker(resolver: resolver, client: client, settings: settings)
    }

    func shutdown() { client.shutdown() }

    /// A progress line on standard error, only when it is a terminal.
    static func progressReporter(label: String) -> (@Sendable (Int, Int) -> Void)? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        return { done, total in
            FileHandle.standardError.write(Data("\r\(label) \(done) of \(total)\(done == total ? "\r\u{1B}[K" : "")".utf8))
        }
    }
}

extension ProcessInfo {
    func setting(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }
}
