import ArgumentParser
import ConfigFile
import Directory
import Foundation
import Policy
import Register
import Site

/// What several commands need from the site: the Member named on the command line, and a
/// domain checker set up from site.yaml, the environment and the baseline.
enum SiteSupport {
    /// A day given as YYYY-MM-DD, in UTC, at the given offset into that day.
    static func day(_ text: String, option: String, at secondsIntoDay: TimeInterval) throws -> Date {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        guard let date = formatter.date(from: text) else { throw ValidationError("\(option) takes a day as YYYY-MM-DD, got \(text)") }
        return date.addingTimeInterval(secondsIntoDay)
    }

    /// The site, its policy and its register, or one clear error.
    static func open(_ config: String) throws -> (SiteConfiguration, MemberEmailPolicy, AuditRegister) {
        do {
            let context = try SiteContext.open(config)
            return (context.site, context.policy, context.register)
        } catch let failure as SiteContext.Failure {
            throw CommandFailure(failure.description)
        }
    }

    static func openRegister(_ site: SiteConfiguration) throws -> AuditRegister { try SiteContext.openRegister(site) }

    /// The one Member whose id or address is `wanted`.
    static func member(_ wanted: String, in read: DirectoryRead) throws -> Member {
        let key = wanted.lowercased()
        let matches = read.members.filter { $0.id.lowercased() == key || $0.effectiveAddress?.lowercased() == key }
        guard matches.count == 1, let found = matches.first else {
            throw CommandFailure(matches.isEmpty ? "no Member \(wanted) in \(read.source)" : "\(wanted) matches \(matches.count) Members; give the id")
        }
        return found
    }

    static func readDirectory(_ site: SiteConfiguration) async throws -> DirectoryRead {
        do { return try await DirectoryReader.read(site.directory) } catch let error as DirectoryError { throw CommandFailure(error.description) }
    }

    static func checkerKit(_ site: SiteConfiguration, policy: MemberEmailPolicy) throws -> DomainCheckerKit {
        let environment = ProcessInfo.processInfo
        return try DomainCheckerKit(.init(
            resolverURL: site.checks.resolver ?? environment.setting("MAILAUDIT_RESOLVER") ?? DomainCheckerKit.defaultResolver,
            caFile: site.checks.caFile ?? environment.setting("MAILAUDIT_CA_FILE"),
            dohMethod: site.checks.dohMethod, dnsTimeout: site.checks.dnsTimeout, httpsTimeout: site.checks.httpsTimeout,
            microsoftLoginURL: site.checks.tenantDiscovery
                ? (site.checks.microsoftLoginURL ?? environment.setting("MAILAUDIT_MICROSOFT_LOGIN_URL") ?? DomainCheckerKit.defaultMicrosoftLogin)
                : nil,
            extraDKIMSelectors: site.checks.dkimSelectors, smtpProbe: site.checks.smtp, smtpTimeout: site.checks.smtpTimeout,
            runDeadline: site.checks.runDeadline, concurrency: site.checks.concurrency),
            base: policy.baseline.settings)
    }
}
