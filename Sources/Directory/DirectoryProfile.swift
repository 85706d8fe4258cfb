import Foundation

/// Which kind of directory, and so how its attributes are read.
public enum DirectoryProfileKind: String, Codable, Sendable {
    case activeDirectory, openldap
}

/// Attribute names a site may rename (`attributes:` in site.yaml). Defaults follow each profile.
public struct AttributeNames: Sendable, Equatable {
    public var id: String
    public var displayName: String
    public var role: String
    public var organisation: [String]
    public var email: String
    public var externalAddress: [String]
    public var memberOf: String

    public static func defaults(for profile: DirectoryProfileKind) -> AttributeNames {
        switch profile {
        case .activeDirectory:
            return AttributeNames(id: "objectGUID", displayName: "displayName", role: "title",
                                  organisation: ["company", "department"], email: "mail",
                                  externalAddress: ["targetAddress", "otherMailbox"], memberOf: "memberOf")
        case .openldap:
            return AttributeNames(id: "entryUUID", displayName: "displayName", role: "title",
                                  organisation: ["o", "ou", "departmentNumber"], email: "mail",
                                  externalAddress: ["otherMailbox"], memberOf: "memberOf")
        }
    }
}

/// Turns directory entries into Members, by profile.
public struct DirectoryProfile: Sendable {
    public var kind: DirectoryProfileKind
    public var names: AttributeNames

    public init(kind: DirectoryProfileKind, names: AttributeNames? = nil) {
        self.kind = kind
        self.names = names ?? .defaults(for: kind)
    }

    /// Attributes to ask the server for.
    public var requestedAttributes: [String] {
        var list = ["objectClass", names.id, names.displayName, "cn", names.role, names.email, names.memberOf]
            + names.organisation + names.externalAddress
        switch kind {
        case .activeDirectory:
            list += ["proxyAddresses", "userAccountControl", "msDS-User-Account-Control-Computed", "pwdLastSet",
                     "lastLogonTimestamp", "accountExpires", "whenCreated", "lockoutTime"]
        case .openldap:
            list += ["uid", "pwdChangedTime", "pwdAccountLockedTime", "pwdLastSuccess", "pwdReset", "createTimestamp",
                     "entryUUID"]
        }
        return Array(Set(list.map { $0 })).sorted()
    }

    /// Filter that picks the entries that can be Members: people and mail contacts.
    public var memberObjectFilter: String {
        switch kind {
        case .activeDirectory: return "(|(&(objectCategory=person)(objectClass=user))(objectClass=contact))"
        case .openldap: return "(|(objectClass=inetOrgPerson)(objectClass=person))"
        }
    }

    public func member(from entry: DirectoryEntry, now: Date = Date()) throws -> Member {
        let id = try identifier(entry)
        let displayName = try entry.string(names.displayName) ?? entry.string("cn")
        var organisation: String?
        for name in names.organisation where organisation == nil { organisation = try entry.string(name) }
        var external: String?
        for name in names.externalAddress where external == nil {
            external = try entry.string(name).map(Self.stripSMTPPrefix)
        }
        var email = try entry.string(names.email)
        if kind == .activeDirectory, let primary = try entry.strings("proxyAddresses").first(where: { $0.hasPrefix("SMTP:") }) {
            email = email ?? String(primary.dropFirst(5))
        }
        let isContact: Bool
        switch kind {
        case .activeDirectory: isContact = entry.objectClasses.contains("contact")
        // OpenLDAP has no contact class: an entry with a login name (uid) is an account.
        case .openldap: isContact = !entry.has("uid")
        }
        return Member(id: id, dn: entry.dn, kind: isContact ? .contact : .account, displayName: displayName,
                      role: try entry.string(names.role), organisation: organisation, email: email,
                      externalAddress: external, account: isContact ? nil : try accountState(entry, now: now),
                      groups: try entry.strings(names.memberOf))
    }

    private static func stripSMTPPrefix(_ value: String) -> String {
        value.lowercased().hasPrefix("smtp:") ? String(value.dropFirst(5)) : value
    }

    private func identifier(_ entry: DirectoryEntry) throws -> String {
        let raw = entry.values(names.id)
        guard let value = raw.first else { return entry.dn }
        if names.id.lowercased() == "objectguid" {
            guard value.count == 16 else {
                throw DirectoryError.undecodable(dn: entry.dn, attribute: names.id, why: "a GUID is 16 bytes, this one is \(value.count)")
            }
            return Self.guidString(value)
        }
        guard let text = String(bytes: value, encoding: .utf8) else {
            throw DirectoryError.undecodable(dn: entry.dn, attribute: names.id, why: "the value is not UTF-8 text")
        }
        return text
    }

    /// objectGUID bytes as the usual text: the first three fields are little-endian.
    static func guidString(_ bytes: [UInt8]) -> String {
        let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]
        let hex = order.map { String(format: "%02x", bytes[$0]) }
        return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-"
            + hex[8..<10].joined() + "-" + hex[10..<16].joined()
    }

    private func number(_ entry: DirectoryEntry, _ name: String) throws -> Int64? {
        guard let text = try entry.string(name) else { return nil }
        guard let value = Int64(text) else {
            throw DirectoryError.undecodable(dn: entry.dn, attribute: name, why: "\"\(text)\" is not a number")
        }
        return value
    }

    private func fileTime(_ entry: DirectoryEntry, _ name: String) throws -> DirectoryTime.FileTime? {
        guard let text = try entry.string(name) else { return nil }
        guard let value = DirectoryTime.fileTime(text) else {
            throw DirectoryError.undecodable(dn: entry.dn, attribute: name, why: "\"\(text)\" is not a FILETIME")
        }
        return value
    }

    private func generalized(_ entry: DirectoryEntry, _ name: String) throws -> Date? {
        guard let text = try entry.string(name) else { return nil }
        guard let value = DirectoryTime.generalizedTime(text) else {
            throw DirectoryError.undecodable(dn: entry.dn, attribute: name, why: "\"\(text)\" is not a GeneralizedTime")
        }
        return value
    }

    private func accountState(_ entry: DirectoryEntry, now: Date) throws -> AccountState {
        var state = AccountState()
        switch kind {
        case .activeDirectory:
            // userAccountControl: ACCOUNTDISABLE 0x2, PASSWD_NOTREQD 0x20, DONT_EXPIRE_PASSWORD 0x10000.
            if let control = try number(entry, "userAccountControl") {
                state.enabled = control & 0x2 == 0
                state.passwordNotRequired = control & 0x20 != 0
                state.passwordNeverExpires = control & 0x10000 != 0
            }
            // Lock-out is only reliable in the constructed attribute (UF_LOCKOUT 0x10): the
            // userAccountControl bit is not maintained by the server.
            if let computed = try number(entry, "msDS-User-Account-Control-Computed") {
                state.locked = computed & 0x10 != 0
            }
            switch try fileTime(entry, "pwdLastSet") {
            case .never?: state.mustChangePassword = true   // 0: must change at next logon, not "ancient"
            case let .at(date)?: state.passwordLastSet = date
            case nil: break
            }
            if case let .at(date)? = try fileTime(entry, "lastLogonTimestamp") {
                state.lastLogon = date
                state.lastLogonMayLagDays = 14
            }
            switch try fileTime(entry, "accountExpires") {
            case let .at(date)?:
                state.accountExpires = date
                state.expired = date <= now
            case .never?: state.expired = false
            case nil: break
            }
            state.created = try generalized(entry, "whenCreated")
        case .openldap:
            let lockedAt = try generalized(entry, "pwdAccountLockedTime")
            // "000001010000Z" locks the account until an administrator unlocks it: OpenLDAP's
            // way of disabling an account.
            state.enabled = lockedAt != .distantPast
            // A lock-out is a time; the administrative marker above is "disabled", not locked out.
            state.locked = lockedAt != nil && lockedAt != .distantPast
            state.passwordLastSet = try generalized(entry, "pwdChangedTime")
            state.lastLogon = try generalized(entry, "pwdLastSuccess")
            state.mustChangePassword = try entry.string("pwdReset")?.uppercased() == "TRUE"
            state.created = try generalized(entry, "createTimestamp")
        }
        return state
    }
}
