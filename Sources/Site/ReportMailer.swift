import ConfigFile
import Curl
import Foundation
import Policy
import Report

/// Mails an audit's report to the people named in site.yaml `notify:`, over libcurl SMTP with
/// TLS verification on. The CLI and any later front end share it.
public struct ReportMailer: Sendable {
    public var settings: NotifySettings

    public init(_ settings: NotifySettings) { self.settings = settings }

    /// The message for `result` (already redacted when the reports are).
    public func message(for result: AuditResult, reportFolder: String?, at date: Date = Date()) -> MailMessage {
        let content = MailedReport.content(result, reportFolder: reportFolder)
        let domain = settings.from.split(separator: "@").last.map(String.init) ?? "mailaudit.invalid"
        let run = result.runId.map { "run-\($0)" } ?? "unrecorded"
        return MailMessage(from: settings.from, to: settings.recipients, subject: content.subject, date: date,
                           messageID: "mailaudit.\(run).\(UUID().uuidString.lowercased())@\(domain)",
                           text: content.text, html: content.html,
                           attachments: content.attachments.map { .init(name: $0.name, contentType: $0.contentType, data: $0.data) })
    }

    /// Whether `when:` sends this run, and why (or why not).
    public func decision(for result: AuditResult) -> (send: Bool, why: String) {
        switch settings.when {
        case .always: return (true, "when: always")
        case .onChange:
            let news = MailedReport.news(result)
            return news.isEmpty ? (false, "when: on-change, and nothing changed, nothing ends within 30 days and everyone was checked")
                                : (true, "when: on-change: " + news.joined(separator: "; "))
        }
    }

    /// The password is read now (from its variable or file), never earlier, never logged.
    public func send(_ message: MailMessage) async throws {
        let password = try settings.password()
        let client = CurlClient(maxConnectionsPerHost: 1, maxTotalConnections: 2)
        defer { client.shutdown() }
        try await client.submit(message, to: MailServer(url: settings.server, username: settings.username, password: password,
                                                        caFile: settings.caFile))
    }

    /// What `audit --print-mail` shows: the headers, both parts and the attachments as a
    /// person reads them (the MIME encoding itself is libcurl's, at sending).
    public static func preview(_ message: MailMessage) -> String {
        var out = message.headers.map { TerminalText.sanitize($0) }
        out += ["", "--- text/plain ---", TerminalText.sanitize(message.text, keeping: ["\n"]),
                "--- text/html ---", TerminalText.sanitize(message.html, keeping: ["\n"])]
        for attachment in message.attachments {
            out.append("--- attachment \(attachment.name) (\(attachment.contentType), \(attachment.data.count) bytes) ---")
        }
        return out.joined(separator: "\n") + "\n"
    }
}
