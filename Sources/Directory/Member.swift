import Foundation

/// A Member as the directory describes them: the person and, for directory accounts, the
/// account's state. Mail contacts (Members who use an outside account) have no account state.
public struct Member: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case account, contact }

    /// objectGUID (AD), entryUUID (OpenLDAP) or, failing those, the DN.
    public var id: String
    public var dn: String
    public var kind: Kind
    public var displayName: String?
    public var role: String?
    public var organisation: String?
    /// The address of record: `mail`, or AD's primary `SMTP:` proxy address.
    public var email: String?
    /// Where mail is sent on: targetAddress or otherMailbox (contacts, mail users).
    public var externalAddress: String?
    public var account: AccountState?
    /// DNs of the groups the entry is a member of, as the directory reports them.
    public var groups: [String]

    public init(id: String, dn: String, kind: Kind, displayName: String? = nil, role: String? = nil,
                organisation: String? = nil, email: String? = nil, externalAddress: String? = nil,
                account: AccountState? = nil, groups: [String] = []) {
        self.id = id; self.dn = dn; self.kind = kind; self.displayName = displayName; self.role = role
        self.organisation = organisation; self.email = email; self.externalAddress = externalAddress
        self.account = account; self.groups = groups
    }

    /// The address the rule is applied to: the address of record, else the external one.
    public var effectiveAddress: String? { email ?? externalAddress }
}

/// The state of a directory account. `nil` means the directory did not say.
public struct AccountState: Codable, Sendable, Equatable {
    public var enabled: Bool?
    public var locked: Bool?
    public var passwordNeverExpires: Bool?
    public var passwordNotRequired: Bool?
    /// AD pwdLastSet = 0, or OpenLDAP pwdReset: the password must be changed at next logon.
    public var mustChangePassword = false
    public var passwordLastSet: Date?
    public var lastLogon: Date?
    /// AD's lastLogonTimestamp is replicated lazily and may be up to 14 days behind (9–14 by
    /// default): staleness thresholds must allow for it.
    public var lastLogonMayLagDays: Int?
    public var accountExpires: Date?
    public var expired: Bool?
    public var created: Date?

    public init() {}

    public var state: String {
        if enabled == false { return "disabled" }
        if locked == true { return "locked" }
        if expired == true { return "expired" }
        return "enabled"
    }
}
