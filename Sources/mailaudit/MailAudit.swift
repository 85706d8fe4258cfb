import ArgumentParser
import Foundation

@main
struct MailAudit: AsyncParsableCommand {
    /// Runs the command, with one change to ArgumentParser's exit codes: a usage error exits 2
    /// (as documented for cron and scripts), not 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("mailaudit: \(failure)\n".utf8))
            Foundation.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure || code.rawValue == 64 {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "mailaudit",
        abstract: "Audits the security of Members' email accounts and their mail domains.",
        discussion: """
        members: reads the Members from the directory (LDIF, Active Directory or OpenLDAP) and \
        shows what the audit will see. check-domain: checks each mail domain's published security \
        (MX, SPF, DMARC, MTA-STS, TLS-RPT, DKIM and the mail provider) through a DNS-over-HTTPS \
        resolver, with the evidence behind every result.

        Exit codes: 0 every domain was checked; 2 the tool could not run (bad arguments, unreadable \
        input, or a resolver that answered nothing).
        """,
        subcommands: [MembersCommand.self, CheckDomainCommand.self])
}
