import ConfigFile
import Foundation

/// What was read from the directory, and how.
public struct DirectoryRead: Codable, Sendable {
    public var members: [Member]
    public var profile: DirectoryProfileKind
    /// The server URL or the LDIF file.
    public var source: String
    public var warnings: [String]

    /// Every verdict is kept by Member id: two entries with one id would leave one of them
    /// unjudged (and a phantom change in every later run), so the read fails naming both.
    public func refuseDuplicateIDs() throws {
        var seen: [String: [String]] = [:]
        for member in members { seen[member.id, default: []].append(member.dn) }
        if let (id, dns) = seen.filter({ $0.value.count > 1 }).min(by: { $0.key < $1.key }) {
            throw DirectoryError.duplicateID(source: source, id: id, dns: dns)
        }
    }
}

/// Reads the Members, whichever the source. Blocking libldap calls run on a thread of their
/// own, never on Swift's cooperative pool.
public enum DirectoryReader {
    private static let queue = DispatchQueue(label: "mailaudit.directory")

    public static func read(_ configuration: DirectoryConfiguration) async throws -> DirectoryRead {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try readBlocking(configuration) })
            }
        }
    }

    public static func readBlocking(_ configuration: DirectoryConfiguration) throws -> DirectoryRead {
        let read: DirectoryRead
        switch configuration.source {
        case let .ldif(path):
            read = try LDIFMemberSource(path: path, configuration: configuration).read()
        case let .ldap(source):
            read = try LDAPMemberSource(source: source, configuration: configuration).read()
        }
        try read.refuseDuplicateIDs()
        // An audit of nobody finds nobody to act on: a read that yields no Member is refused,
        // never reported as a clean run.
        guard !read.members.isEmpty else {
            throw DirectoryError.configuration("no Members were read from \(read.source): an audit of nobody would look like a clean one. "
                + "Check the members group and filter in site.yaml, or that the LDIF file holds person, inetOrgPerson, user or contact entries")
        }
        return read
    }
}

/// The profile to use: the configured one, else detected.
private func profile(_ configuration: DirectoryConfiguration, detected: DirectoryProfileKind) -> DirectoryProfile {
    let kind = configuration.profile ?? detected
    return DirectoryProfile(kind: kind, names: configuration.attributes.apply(to: .defaults(for: kind)))
}

/// DNs compared as directories compare them for our purposes: case and spaces after commas ignored.
public func normalizedDN(_ dn: String) -> String {
    dn.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ",")
}

private let groupClasses: Set<String> = ["group", "groupofnames", "groupofuniquenames"]

struct LDIFMemberSource {
    let path: String
    let configuration: DirectoryConfiguration

    func read() throws -> DirectoryRead {
        let entries = try LDIFReader.read(file: path)
        let looksLikeAD = entries.contains { $0.has("objectGUID") || $0.has("userAccountControl") }
        let profile = profile(configuration, detected: looksLikeAD ? .activeDirectory : .openldap)
        // An LDIF source holds the Members themselves: every person or contact in it is one.
        let people = entries.filter { entry in
            let classes = entry.objectClasses
            return classes.isDisjoint(with: groupClasses)
                && !classes.isDisjoint(with: ["contact", "inetorgperson", "person", "user"])
        }
        let members = try people.map { try profile.member(from: $0) }
        return DirectoryRead(members: members.sorted(by: memberOrder), profile: profile.kind, source: path, warnings: [])
    }
}

struct LDAPMemberSource {
    let source: DirectoryConfiguration.LDAPSource
    let configuration: DirectoryConfiguration

    func read() throws -> DirectoryRead {
        let connection = try LDAPConnection.open(server: source.server)
        defer { connection.close() }
        if let bindDN = source.bindDN, let secret = source.password {
            let password: String
            do { password = try secret.read("the directory password") } catch let unavailable as SecretSource.Unavailable {
                throw DirectoryError.configuration(unavailable.description)
            }
            try connection.bind(dn: bindDN, password: password)
        }
        let detected = try detectProfile(connection)
        let profile = profile(configuration, detected: detected)
        var byDN: [String: DirectoryEntry] = [:]
        if let group = source.group {
            for entry in try groupMembers(group, profile: profile, connection: connection) { byDN[normalizedDN(entry.dn)] = entry }
        }
        if let filter = source.filter {
            let base = source.searchBase ?? source.baseDN
            let entries = try connection.search(base: base, scope: .subtree, filter: "(&\(profile.memberObjectFilter)\(filter))",
                                                attributes: profile.requestedAttributes, pageSize: source.pageSize)
            for entry in entries { byDN[normalizedDN(entry.dn)] = entry }
        }
        let members = try byDN.values.map { try profile.member(from: $0) }
        return DirectoryRead(members: members.sorted(by: memberOrder), profile: profile.kind, source: source.server.url,
                             warnings: configuration.warnings)
    }

    /// Active Directory says so in the rootDSE's supportedCapabilities (LDAP_CAP_ACTIVE_DIRECTORY_OID).
    private func detectProfile(_ connection: LDAPConnection) throws -> DirectoryProfileKind {
        let root = try connection.search(base: "", scope: .base, filter: "(objectClass=*)",
                                         attributes: ["supportedCapabilities"], pageSize: nil)
        let capabilities = root.first.map { (try? $0.strings("supportedCapabilities")) ?? [] } ?? []
        return capabilities.contains("1.2.840.113556.1.4.800") ? .activeDirectory : .openldap
    }

    /// Members of a group, nested groups included.
    private func groupMembers(_ group: String, profile: DirectoryProfile, connection: LDAPConnection) throws -> [DirectoryEntry] {
        // The group must exist: a misspelt DN must not read as "no Members".
        let found = try connection.search(base: group, scope: .base, filter: "(objectClass=*)", attributes: ["objectClass"], pageSize: nil)
        guard !found.isEmpty else { throw DirectoryError.configuration("the members group \(group) was not found on \(source.server.url)") }
        switch profile.kind {
        case .activeDirectory:
            // LDAP_MATCHING_RULE_IN_CHAIN: the server walks nested groups itself.
            let filter = "(&\(profile.memberObjectFilter)(memberOf:1.2.840.113556.1.4.1941:=\(LDAPFilter.escape(group))))"
            return try connection.search(base: source.baseDN, scope: .subtree, filter: filter,
                                         attributes: profile.requestedAttributes, pageSize: source.pageSize)
        case .openldap:
            // OpenLDAP answers the in-chain rule with nothing at all, so walk the groups here.
            let wanted = try expandGroup(group, profile: profile, connection: connection)
            let candidates = try connection.search(base: source.baseDN, scope: .subtree, filter: profile.memberObjectFilter,
                                                   attributes: profile.requestedAttributes, pageSize: source.pageSize)
            return candidates.filter { wanted.contains(normalizedDN($0.dn)) }
        }
    }

    /// Every non-group DN reachable from `group` through member / uniqueMember. All groups are
    /// read in one paged search and walked in memory, each once (cycles included).
    private func expandGroup(_ group: String, profile: DirectoryProfile, connection: LDAPConnection) throws -> Set<String> {
        let groups = try connection.search(base: source.baseDN, scope: .subtree,
                                           filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
                                           attributes: ["member", "uniqueMember"], pageSize: source.pageSize)
        var membersOf: [String: [String]] = [:]
        for entry in groups {
            membersOf[normalizedDN(entry.dn)] = try (entry.strings("member") + entry.strings("uniqueMember")).map(normalizedDN)
        }
        var pending = [normalizedDN(group)]
        var seenGroups: Set<String> = []
        var people: Set<String> = []
        while let next = pending.popLast() {
            guard seenGroups.insert(next).inserted else { continue }
            for dn in membersOf[next] ?? [] {
                if membersOf[dn] != nil { pending.append(dn) } else { people.insert(dn) }
            }
        }
        return people
    }
}

private func memberOrder(_ a: Member, _ b: Member) -> Bool {
    let left = (a.displayName ?? a.dn).lowercased(), right = (b.displayName ?? b.dn).lowercased()
    return left != right ? left < right : a.dn < b.dn
}
