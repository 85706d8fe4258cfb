import ArgumentParser
import Foundation
import Policy
import Register
import Site

@main
struct MailAudit: AsyncParsableCommand {
    /// Runs the command, with one change to ArgumentParser's exit codes: a usage error exits 2
    /// (as documented for cron and scripts), not 64.
    static func main() async {
        var parsed: ParsableCommand.Type?
        do {
            var command = try parseAsRoot(ProcessSetup.prepare(Array(CommandLine.arguments.dropFirst())))
            parsed = type(of: command)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("mailaudit: \(failure)\n".utf8))
            Foundation.exit(2)
        } catch let failure as RegisterError {
            FileHandle.standardError.write(Data("mailaudit: \(failure)\n".utf8))
            Foundation.exit(2)
        } catch let failure as SiteContext.Failure where !failure.isUsage {
            FileHandle.standardError.write(Data("mailaudit: \(failure)\n".utf8))
            Foundation.exit(2)
        } catch {
            // A usage failure found in the shared site code is shown as the command's usage error.
            let error: Error = (error as? SiteContext.Failure).map { ValidationError($0.description) } ?? error
            let code = exitCode(for: error)
            if code == .validationFailure || code.rawValue == 64 {
                // A usage error found while the command ran: the command's own usage, not the root's.
                if let parsed, let validation = error as? ValidationError {
                    let name = parsed.configuration.commandName ?? "\(parsed)".lowercased()
                    let usage = usageString(for: parsed)
                    FileHandle.standardError.write(Data("Error: \(validation.message)\nUsage: \(usage)\n  See 'mailaudit \(name) --help' for more information.\n".utf8))
                } else {
                    FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                }
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "mailaudit",
        abstract: "Audits the security of Members' email accounts and their mail domains.",
        discussion: """
        audit: judges every Member against the rule (paragraph 4.3 of the CPCA's Member/Officer \
        protocol) and writes the assessment report. history: past runs. members: reads the Members \
        from the directory (LDIF, Active Directory or OpenLDAP) and shows what the audit will see. check-domain: checks each mail domain's published security \
        (MX, SPF, DMARC, MTA-STS, TLS-RPT, DKIM and the mail provider) through a DNS-over-HTTPS \
        resolver, with the evidence behind every result. serve: the web console over the register \
        (users: its users and their roles).

        --debug-tls-keylog, anywhere on the command line, lets $SSLKEYLOGFILE record TLS session \
        keys (for Wireshark); without it the variable is ignored, so a stray one never writes keys.

        Exit codes: 0 success (for audit: everyone compliant or excepted); 1 (audit) someone needs \
        action; 2 the tool could not run (bad arguments or configuration, unreadable input, a \
        directory or resolver that could not be read).
        """,
        version: ToolVersion.current,
        subcommands: [AuditCommand.self, HistoryCommand.self, ReportCommand.self, DiffCommand.self, ConfigCommand.self, AssessCommand.self, ChecklistCommand.self, ExceptionsCommand.self,
                      RegisterCommand.self, MembersCommand.self, CheckDomainCommand.self, SPFCheckCommand.self, UsersCommand.self, ServeCommand.self])
}
