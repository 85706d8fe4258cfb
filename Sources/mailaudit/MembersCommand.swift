import ArgumentParser
import ConfigFile
import Directory
import Foundation
import Site
import Policy
import Report

struct MembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "List the Members exactly as the audit will see them.",
        discussion: """
        Reads the directory named in site.yaml (an LDIF file, or Active Directory / OpenLDAP over \
        LDAPS or StartTLS) and shows each Member: name, role, organisation, address of record, \
        account class (organisation, external, personal, no-address) and account state.

        The directory password comes from an environment variable or a file named in site.yaml, \
        never from the command line. Any failure (server unreachable, bad credentials, TLS, a size \
        or time limit, an undecodable attribute) stops with exit code 2: a partial list is never shown.

        Examples:
          mailaudit members --config site.yaml
          mailaudit members --config site.yaml --format json
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .long, help: ArgumentHelp("The site configuration (see examples/site.yaml).", valueName: "path"))
    var config: String

    @Option(name: .long, help: "Output format: text (a table) or json.")
    var format: Format = .text

    func run() async throws {
        let site: SiteConfiguration
        let policy: MemberEmailPolicy
        do {
            site = try SiteConfiguration.load(config)
            policy = try MemberEmailPolicy.load(file: site.policyFile)
        } catch let error as ConfigError {
            throw CommandFailure(error.description)
        } catch let error as DirectoryError {
            throw CommandFailure("\(config): \(error)")
        }
        for warning in site.directory.warnings {
            FileHandle.standardError.write(Data("mailaudit: warning: \(warning)\n".utf8))
        }
        let read: DirectoryRead
        do {
            read = try await DirectoryReader.read(site.directory)
        } catch let error as DirectoryError {
            throw CommandFailure(error.description)
        }
        let rows = read.members.map { MemberRow(member: $0, accountClass: policy.classifier.classify($0.effectiveAddress)) }
        switch format {
        case .json:
            let listing = MemberListing(source: read.source, profile: read.profile.rawValue, warnings: read.warnings, members: rows)
            FileHandle.standardOutput.write(try JSONOutput.encode(listing))
            FileHandle.standardOutput.write(Data("\n".utf8))
        case .text:
            FileHandle.standardOutput.write(Data(MemberTable.render(rows, source: read.source, profile: read.profile.rawValue).utf8))
        }
    }
}
