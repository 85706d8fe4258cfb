import ConfigFile
import Directory
import Foundation
import Policy
import Register

/// A site opened: its configuration, its policy (validated against it) and its register. The
/// command line and the console both start here, so a site is read one way.
public struct SiteContext: Sendable {
    public var site: SiteConfiguration
    public var policy: MemberEmailPolicy
    public var register: AuditRegister

    /// One clear error (file, line, key; the register's, the directory's) when anything is wrong.
    /// `isUsage`: the way the tool was asked is wrong (a command line shows its usage with it).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public var isUsage = false

        public init(_ description: String) { self.description = description }
        public init(usage description: String) { self.description = description; isUsage = true }
    }

    public static func open(_ config: String, validate: Bool = false) throws -> SiteContext {
        do {
            let site = try SiteConfiguration.load(config)
            let policy = try MemberEmailPolicy.load(file: site.policyFile)
            if validate { try site.validate(against: policy) }
            return SiteContext(site: site, policy: policy, register: try openRegister(site))
        } catch let error as ConfigError {
            throw Failure(error.description)
        } catch let error as RegisterError {
            throw Failure(error.description)
        }
    }

    public static func openRegister(_ site: SiteConfiguration) throws -> AuditRegister {
        try AuditRegister(path: site.registerFile, busyTimeout: site.registerBusyTimeout)
    }

    /// The Members as the directory gives them now.
    public func readDirectory() async throws -> DirectoryRead { try await Self.readDirectory(site) }

    public static func readDirectory(_ site: SiteConfiguration) async throws -> DirectoryRead {
        do { return try await DirectoryReader.read(site.directory) } catch let error as DirectoryError { throw Failure(error.description) }
    }

    /// The one Member whose id or address is `wanted`.
    public static func member(_ wanted: String, in read: DirectoryRead) throws -> Member {
        let key = wanted.lowercased()
        let matches = read.members.filter { $0.id.lowercased() == key || $0.effectiveAddress?.lowercased() == key }
        guard matches.count == 1, let found = matches.first else {
            throw Failure(matches.isEmpty ? "no Member \(wanted) in \(read.source)" : "\(wanted) matches \(matches.count) Members; give the id")
        }
        return found
    }

    /// A day given as YYYY-MM-DD, in UTC, at the given offset into that day.
    public static func day(_ text: String, option: String, at secondsIntoDay: TimeInterval) throws -> Date {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.locale = Locale(identifier: "en_US_POSIX")
        guard let date = formatter.date(from: text) else { throw Failure(usage: "\(option) takes a day as YYYY-MM-DD, got \(text)") }
        return date.addingTimeInterval(secondsIntoDay)
    }

    /// The domain checker as site.yaml, the environment and the baseline set it up.
    public func checkerKit() throws -> DomainCheckerKit { try Self.checkerKit(site, policy: policy) }

    public static func checkerKit(_ site: SiteConfiguration, policy: MemberEmailPolicy) throws -> DomainCheckerKit {
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
