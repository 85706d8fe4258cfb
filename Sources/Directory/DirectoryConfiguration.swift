import ConfigFile
import Foundation

/// The `directory:` section of site.yaml: where the Members come from.
public struct DirectoryConfiguration: Sendable {
    public enum Source: Sendable {
        case ldif(path: String)
        case ldap(LDAPSource)
    }

    public struct LDAPSource: Sendable {
        public var server: LDAPServer
        public var bindDN: String?
        public var password: SecretSource?
        public var baseDN: String
        public var group: String?
        public var searchBase: String?
        public var filter: String?
        public var pageSize = 500
    }

    /// Where the bind password is read from (shared with the mail server's password).
    public typealias SecretSource = ConfigFile.SecretSource

    public var source: Source
    public var profile: DirectoryProfileKind?
    public var attributes: AttributeOverrides

    /// Attribute renames from site.yaml, applied over the profile's defaults.
    public struct AttributeOverrides: Sendable {
        public var values: [String: [String]] = [:]

        public func apply(to names: AttributeNames) -> AttributeNames {
            var result = names
            if let id = values["id"]?.first { result.id = id }
            if let name = values["displayName"]?.first { result.displayName = name }
            if let role = values["role"]?.first { result.role = role }
            if let organisation = values["organisation"] { result.organisation = organisation }
            if let email = values["email"]?.first { result.email = email }
            if let external = values["externalAddress"] { result.externalAddress = external }
            if let memberOf = values["memberOf"]?.first { result.memberOf = memberOf }
            return result
        }
    }

    public var isInsecure: Bool {
        if case let .ldap(source) = source { return source.server.allowInsecure }
        return false
    }

    /// What every run must say before it reads anything.
    public var warnings: [String] {
        guard case let .ldap(source) = source, source.server.allowInsecure else { return [] }
        return ["the directory \(source.server.url) is read over plain LDAP without TLS (allowInsecure: true): credentials and data cross the network in clear"]
    }

    /// Reads and checks the section; errors name the file, line and key.
    public static func read(_ section: YAMLMapping) throws -> DirectoryConfiguration {
        try section.allowOnly(["ldif", "url", "bindDN", "password", "caFile", "baseDN", "profile", "members",
                               "attributes", "pageSize", "networkTimeout", "searchTimeout", "allowInsecure"])
        var profile: DirectoryProfileKind?
        if let name = try section.string("profile") {
            guard let kind = DirectoryProfileKind(rawValue: name) else {
                throw section.error("profile", "must be activeDirectory or openldap, got \"\(name)\"")
            }
            profile = kind
        }
        var overrides = AttributeOverrides()
        if let attributes = try section.mapping("attributes") {
            let known = ["id", "displayName", "role", "organisation", "email", "externalAddress", "memberOf"]
            try attributes.allowOnly(known)
            for key in attributes.keys {
                let names = try attributes.strings(key) ?? []
                guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } }) else {
                    throw attributes.error(key, "must be attribute names (letters, digits, '-')")
                }
                overrides.values[key] = names
            }
        }
        if let ldif = try section.path("ldif") {
            for key in ["url", "bindDN", "password", "members"] where section.has(key) {
                throw section.error(key, "does not go with ldif: (an LDIF file is read whole)")
            }
            return DirectoryConfiguration(source: .ldif(path: ldif), profile: profile, attributes: overrides)
        }
        let url = try section.requiredString("url")
        let lower = url.lowercased()
        guard lower.hasPrefix("ldaps://") || lower.hasPrefix("ldap://") else {
            throw section.error("url", "must start with ldaps:// or ldap://")
        }
        var server = LDAPServer(url: url, caFile: try section.path("caFile"))
        server.allowInsecure = try section.bool("allowInsecure") ?? false
        if server.allowInsecure && lower.hasPrefix("ldaps://") {
            throw section.error("allowInsecure", "makes no sense with ldaps://")
        }
        server.networkTimeoutSeconds = try section.int("networkTimeout", in: 1...300) ?? 10
        server.operationTimeoutSeconds = try section.int("searchTimeout", in: 1...3600) ?? 60
        var source = LDAPSource(server: server, baseDN: try section.requiredString("baseDN"))
        source.bindDN = try section.string("bindDN")
        if let password = try section.mapping("password") {
            try password.allowOnly(["env", "file"])
            if let name = try password.string("env") {
                source.password = .environment(name)
            } else if let path = try password.path("file") {
                source.password = .file(path)
            } else {
                throw password.error(nil, "give env: VARIABLE or file: PATH")
            }
        } else if section.has("password") {
            throw section.error("password", "a password is never written in the configuration: give env: VARIABLE or file: PATH")
        }
        if source.bindDN != nil && source.password == nil {
            throw section.error("bindDN", "a bind DN needs password: {env: ...} or {file: ...}")
        }
        source.pageSize = try section.int("pageSize", in: 1...10_000) ?? 500
        guard let members = try section.mapping("members") else {
            throw section.error("members", "is required: a group (nested groups included) and/or a filter")
        }
        try members.allowOnly(["group", "base", "filter"])
        source.group = try members.string("group")
        source.searchBase = try members.string("base")
        source.filter = try members.string("filter")
        if let filter = source.filter, !(filter.hasPrefix("(") && filter.hasSuffix(")")) {
            throw members.error("filter", "an LDAP filter is written in parentheses, e.g. (objectClass=contact)")
        }
        guard source.group != nil || source.filter != nil else {
            throw members.error(nil, "give a group and/or a filter")
        }
        return DirectoryConfiguration(source: .ldap(source), profile: profile, attributes: overrides)
    }
}
