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
        do { return try SiteContext.day(text, option: option, at: secondsIntoDay) } catch let failure as SiteContext.Failure {
            throw ValidationError(failure.description)
        }
    }

    /// The site, its policy and its register, or one clear error.
    static func open(_ config: String) throws -> (SiteConfiguration, MemberEmailPolicy, AuditRegister) {
        let context = try context(config)
        return (context.site, context.policy, context.register)
    }

    static func openRegister(_ site: SiteConfiguration) throws -> AuditRegister { try SiteContext.openRegister(site) }

    /// The site opened as every front end opens it.
    static func context(_ config: String) throws -> SiteContext {
        do { return try SiteContext.open(config) } catch let failure as SiteContext.Failure { throw CommandFailure(failure.description) }
    }

    /// The one Member whose id or address is `wanted`.
    static func member(_ wanted: String, in read: DirectoryRead) throws -> Member { try SiteContext.member(wanted, in: read) }

    static func readDirectory(_ site: SiteConfiguration) async throws -> DirectoryRead {
        try await SiteContext.readDirectory(site)
    }

    static func checkerKit(_ site: SiteConfiguration, policy: MemberEmailPolicy) throws -> DomainCheckerKit {
        try SiteContext.checkerKit(site, policy: policy)
    }
}
