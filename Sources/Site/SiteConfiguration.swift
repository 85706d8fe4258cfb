import ConfigFile
import Directory
import Foundation
import Policy

/// site.yaml: the ICT provider's settings. The rule itself lives in the policy file it names.
public struct SiteConfiguration: Sendable {
    /// How domains are checked (`checks:`). Unset values fall back to the environment
    /// ($MAILAUDIT_RESOLVER, $MAILAUDIT_CA_FILE, $MAILAUDIT_MICROSOFT_LOGIN_URL), then defaults.
    public struct Checks: Sendable {
        public var resolver: String?
        public var caFile: String?
        public var dohMethod = "post"
        public var dnsTimeout = 5.0
        public var httpsTimeout = 10.0
        public var microsoftLoginURL: String?
        public var tenantDiscovery = true
        public var concurrency = 16
        public var dkimSelectors: [String] = []
        /// Probe MX hosts for STARTTLS on port 25: off unless the site can reach port 25.
        public var smtp = false
        public var smtpTimeout = 15.0
        /// Seconds after which nothing more is asked; what is unchecked then is `error`.
        public var runDeadline = 900.0
    }

    public var file: String
    public var directory: DirectoryConfiguration
    public var policyFile: String
    public var registerFile: String
    /// How long a write to the register waits for another process's write (register.busyTimeout).
    public var registerBusyTimeout: TimeInterval = 30
    public var mfaGroup: String?
    public var checks = Checks()
    public var console = ConsoleSettings()
    /// Where the report is mailed (`notify:`), if anywhere.
    public var notify: NotifySettings?

    public static func load(_ file: String) throws -> SiteConfiguration {
        try read(YAMLMapping.load(file: file))
    }

    /// site.yaml from a parsed file; relative paths in it are relative to `root.file`.
    public static func read(_ root: YAMLMapping) throws -> SiteConfiguration {
        let file = root.file
        try root.allowOnly(["directory", "policy", "register", "accounts", "checks", "console", "notify"])
        guard let directory = try root.mapping("directory") else {
            throw root.error("directory", "is required: where the Members are read from (ldif: or url:)")
        }
        guard let policy = try root.path("policy") else {
            throw root.error("policy", "is required: the rule file, e.g. policies/cpca-member-email.yaml")
        }
        let defaultRegister = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("mailaudit.sqlite").path
        var register = defaultRegister
        var busyTimeout = 30
        // `register: path`, or `register: {file: path, busyTimeout: seconds}`.
        if let settings = try? root.mapping("register") {
            try settings.allowOnly(["file", "busyTimeout"])
            register = try settings.path("file") ?? defaultRegister
            busyTimeout = try settings.int("busyTimeout", in: 1...3600) ?? busyTimeout
        } else if let path = try root.path("register") {
            register = path
        }
        var site = SiteConfiguration(file: file, directory: try DirectoryConfiguration.read(directory), policyFile: policy,
                                     registerFile: register)
        site.registerBusyTimeout = TimeInterval(busyTimeout)
        if let accounts = try root.mapping("accounts") {
            try accounts.allowOnly(["mfaGroup"])
            site.mfaGroup = try accounts.string("mfaGroup")
        }
        if let checks = try root.mapping("checks") {
            try checks.allowOnly(["resolver", "caFile", "dohMethod", "dnsTimeout", "httpsTimeout", "microsoftLoginURL",
                                  "tenantDiscovery", "concurrency", "dkimSelectors", "smtp", "smtpTimeout", "runDeadline"])
            if let resolver = try checks.string("resolver") {
                guard resolver.lowercased().hasPrefix("https://") else { throw checks.error("resolver", "must be an https:// URL") }
                site.checks.resolver = resolver
            }
            site.checks.caFile = try checks.path("caFile")
            if let method = try checks.string("dohMethod") {
                guard ["post", "get"].contains(method) else { throw checks.error("dohMethod", "must be post or get") }
                site.checks.dohMethod = method
            }
            site.checks.dnsTimeout = Double(try checks.int("dnsTimeout", in: 1...120) ?? 5)
            site.checks.httpsTimeout = Double(try checks.int("httpsTimeout", in: 1...300) ?? 10)
            if let url = try checks.string("microsoftLoginURL") {
                guard url.lowercased().hasPrefix("https://") else { throw checks.error("microsoftLoginURL", "must be an https:// URL") }
                site.checks.microsoftLoginURL = url
            }
            site.checks.tenantDiscovery = try checks.bool("tenantDiscovery") ?? true
            site.checks.concurrency = try checks.int("concurrency", in: 1...256) ?? 16
            site.checks.dkimSelectors = try checks.strings("dkimSelectors") ?? []
            site.checks.smtp = try checks.bool("smtp") ?? false
            site.checks.smtpTimeout = Double(try checks.int("smtpTimeout", in: 1...300) ?? 15)
            site.checks.runDeadline = Double(try checks.int("runDeadline", in: 1...86_400) ?? 900)
        }
        if let console = try root.mapping("console") {
            site.console = try ConsoleSettings.read(console)
        }
        if let notify = try root.mapping("notify") {
            site.notify = try NotifySettings.read(notify, file: file)
        }
        return site
    }

    /// Checks that need the site and the policy together.
    public func validate(against policy: MemberEmailPolicy) throws {
        if policy.names("account.mfa") && mfaGroup == nil {
            throw ConfigError(file: file, line: nil, key: "accounts.mfaGroup",
                              message: "the policy \(policy.file) checks account.mfa: name the directory group whose members have MFA enforced")
        }
        if policy.names("smtp-starttls") && !checks.smtp {
            throw ConfigError(file: file, line: nil, key: "checks.smtp",
                              message: "the policy \(policy.file) checks smtp-starttls: set checks.smtp: true (the MX hosts are then probed on port 25)")
        }
    }
}
