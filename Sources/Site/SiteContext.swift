import ConfigFile
import Foundation
import Policy
import Register

/// A site opened: its configuration, its policy (validated against it) and its register. The
/// command line and the console both start here, so a site is read one way.
public struct SiteContext: Sendable {
    public var site: SiteConfiguration
    public var policy: MemberEmailPolicy
    public var register: AuditRegister

    /// One clear error (file, line, key; or the register's) when anything is wrong.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func open(_ config: String, validate: Bool = false) throws -> SiteContext {
        do {
            let site = try SiteConfiguration.load(config)
            let policy = try MemberEmailPolicy.load(file: site.policyFile)
            if validate { try site.validate(against: policy) }
            return SiteContext(site: site, policy: policy, register: try openRegister(site))
        } catch let error as ConfigError {
            throw Failure(description: error.description)
        } catch let error as RegisterError {
            throw Failure(description: error.description)
        }
    }

    public static func openRegister(_ site: SiteConfiguration) throws -> AuditRegister {
        try AuditRegister(path: site.registerFile, busyTimeout: site.registerBusyTimeout)
    }
}
