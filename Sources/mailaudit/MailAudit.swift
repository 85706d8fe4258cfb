import ArgumentParser

@main
struct MailAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailaudit",
        abstract: "Audits the security of Members' email accounts and their mail domains.",
        discussion: """
        Checks each mail domain's published security (MX, SPF, DMARC, MTA-STS, TLS-RPT, DKIM and \
        the mail provider) through a DNS-over-HTTPS resolver, with the evidence behind every result.

        Exit codes: 0 every domain was checked; 2 the tool could not run (bad arguments, unreadable \
        input, or a resolver that answered nothing).
        """,
        subcommands: [CheckDomainCommand.self])
}
