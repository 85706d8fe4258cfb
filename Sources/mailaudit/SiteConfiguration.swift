import ConfigFile
import Directory
import Foundation
import Policy

/// site.yaml: the ICT provider's settings. The rule itself lives in the policy file it names.
struct SiteConfiguration {
    var file: String
    var directory: DirectoryConfiguration
    var policyFile: String

    static func load(_ file: String) throws -> SiteConfiguration {
        let root = try YAMLMapping.load(file: file)
        try root.allowOnly(["directory", "policy"])
        guard let directory = try root.mapping("directory") else {
            throw root.error("directory", "is required: where the Members are read from (ldif: or url:)")
        }
        guard let policy = try root.path("policy") else {
            throw root.error("policy", "is required: the rule file, e.g. policies/cpca-member-email.yaml")
        }
        return SiteConfiguration(file: file, directory: try DirectoryConfiguration.read(directory), policyFile: policy)
    }
}
