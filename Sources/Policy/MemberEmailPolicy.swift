import ConfigFile
import Foundation

/// The rule file (`policies/cpca-member-email.yaml`): what it implements, the organisation and
/// its domains, and the personal webmail list. Nothing is evaluated against a half-read policy:
/// any error stops the read with the file, line and key.
public struct MemberEmailPolicy: Sendable {
    public var file: String
    public var implements: String
    public var organisationName: String
    public var classifier: AccountClassifier

    public static func load(file: String) throws -> MemberEmailPolicy {
        let root = try YAMLMapping.load(file: file)
        try root.allowOnly(["implements", "organisation", "personalWebmail"])
        guard let organisation = try root.mapping("organisation") else {
            throw root.error("organisation", "is required: the organisation's name and mail domains")
        }
        try organisation.allowOnly(["name", "domains"])
        let domains = try organisation.strings("domains") ?? []
        guard !domains.isEmpty else { throw organisation.error("domains", "list at least one mail domain") }
        for domain in domains where !domain.contains(".") || domain.contains("@") || domain.contains(" ") {
            throw organisation.error("domains", "\"\(domain)\" is not a domain name")
        }
        guard let listFile = try root.path("personalWebmail") else {
            throw root.error("personalWebmail", "is required: the file listing consumer mail domains")
        }
        let personal = try AccountClassifier.readDomainList(file: listFile)
        return MemberEmailPolicy(file: file, implements: try root.requiredString("implements"),
                                 organisationName: try organisation.requiredString("name"),
                                 classifier: AccountClassifier(organisationDomains: domains, personalDomains: personal))
    }
}
