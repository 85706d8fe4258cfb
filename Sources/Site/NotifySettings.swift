import ConfigFile
import Foundation

/// site.yaml `notify:`: where the audit's report is mailed. The password comes from an
/// environment variable or a file, never from site.yaml itself, the command line or a log.
///
///     notify:
///       server: smtp://smtp.example.org:587      # STARTTLS then required; or smtps://host:465
///       username: mailaudit@example.org
///       passwordFile: /etc/mailaudit/smtp-password   # or passwordEnv: MAILAUDIT_SMTP_PASSWORD
///       from: mailaudit@example.org
///       to:
///         monitoringOfficer: [monitoring.officer@example.org]
///         ictProvider: [ict@example.org]
///       when: on-change                           # or always
public struct NotifySettings: Sendable, Equatable {
    public enum When: String, Sendable, CaseIterable {
        case always
        /// Only when a verdict changed, an exception or assessment ends within 30 days, or
        /// the run could not check someone.
        case onChange = "on-change"
    }

    public var server: String
    public var username: String?
    public var passwordEnv: String?
    public var passwordFile: String?
    public var from: String
    public var monitoringOfficer: [String] = []
    public var ictProvider: [String] = []
    public var when: When = .always
    /// The CA bundle that verifies the mail server (default: the system's).
    public var caFile: String?
    /// Where the settings were read, for messages.
    public var file: String

    public var recipients: [String] { monitoringOfficer + ictProvider.filter { !monitoringOfficer.contains($0) } }

    static func read(_ notify: YAMLMapping, file: String) throws -> NotifySettings {
        try notify.allowOnly(["server", "username", "passwordEnv", "passwordFile", "from", "to", "when", "caFile"])
        let server = try notify.requiredString("server")
        let scheme = server.lowercased()
        guard scheme.hasPrefix("smtps://") || scheme.hasPrefix("smtp://") else {
            throw notify.error("server", "must be smtps://host:465 (TLS from the start) or smtp://host:587 (STARTTLS, then required)")
        }
        var settings = NotifySettings(server: server, from: try address(notify, "from", try notify.requiredString("from")), file: file)
        settings.username = try notify.string("username")
        settings.passwordEnv = try notify.string("passwordEnv")
        settings.passwordFile = try notify.path("passwordFile")
        if settings.passwordEnv != nil && settings.passwordFile != nil {
            throw notify.error("passwordFile", "give passwordEnv or passwordFile, not both")
        }
        if settings.username != nil && settings.passwordEnv == nil && settings.passwordFile == nil {
            throw notify.error("username", "needs passwordEnv (an environment variable's name) or passwordFile: the password is never written in site.yaml")
        }
        guard let to = try notify.mapping("to") else {
            throw notify.error("to", "is required: lists of addresses by role (monitoringOfficer, ictProvider)")
        }
        try to.allowOnly(["monitoringOfficer", "ictProvider"])
        settings.monitoringOfficer = try (to.strings("monitoringOfficer") ?? []).map { try address(to, "monitoringOfficer", $0) }
        settings.ictProvider = try (to.strings("ictProvider") ?? []).map { try address(to, "ictProvider", $0) }
        if settings.recipients.isEmpty { throw to.error("monitoringOfficer", "name at least one recipient") }
        if let when = try notify.string("when") {
            guard let parsed = When(rawValue: when) else { throw notify.error("when", "must be always or on-change") }
            settings.when = parsed
        }
        settings.caFile = try notify.path("caFile")
        return settings
    }

    /// A bare address (no display name, no line break that could start a header of its own).
    private static func address(_ mapping: YAMLMapping, _ key: String, _ value: String) throws -> String {
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
              value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !"<>,;\"()[]\\".unicodeScalars.contains($0) }) else {
            throw mapping.error(key, "\(value.debugDescription) is not a plain email address (local@domain)")
        }
        return value
    }

    /// The password, read when the mail is about to be sent; nil when no username is set.
    public func password() throws -> String? {
        guard username != nil else { return nil }
        let source: SecretSource = passwordEnv.map { .environment($0) } ?? .file(passwordFile ?? "")
        do {
            return try source.read("the mail server's password")
        } catch let unavailable as SecretSource.Unavailable {
            throw ConfigError(file: file, line: nil, key: passwordEnv == nil ? "notify.passwordFile" : "notify.passwordEnv",
                              message: unavailable.description)
        }
    }
}
