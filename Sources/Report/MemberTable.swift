import Directory
import Foundation
import Policy

/// A Member with the class the policy gives their address.
public struct MemberRow: Encodable, Sendable {
    public var member: Member
    public var accountClass: AccountClass

    public init(member: Member, accountClass: AccountClass) {
        self.member = member
        self.accountClass = accountClass
    }

    enum CodingKeys: String, CodingKey {
        case id, dn, kind, displayName, role, organisation, email, externalAddress, accountClass, account, groups
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(member.id, forKey: .id)
        try container.encode(member.dn, forKey: .dn)
        try container.encode(member.kind, forKey: .kind)
        try container.encode(member.displayName, forKey: .displayName)
        try container.encode(member.role, forKey: .role)
        try container.encode(member.organisation, forKey: .organisation)
        try container.encode(member.email, forKey: .email)
        try container.encode(member.externalAddress, forKey: .externalAddress)
        try container.encode(accountClass, forKey: .accountClass)
        try container.encode(member.account, forKey: .account)
        try container.encode(member.groups, forKey: .groups)
    }
}

/// `mailaudit members --format json`.
public struct MemberListing: Encodable, Sendable {
    public var schema = "mailaudit.members/1"
    public var source: String
    public var profile: String
    public var warnings: [String]
    public var members: [MemberRow]

    public init(source: String, profile: String, warnings: [String], members: [MemberRow]) {
        self.source = source; self.profile = profile; self.warnings = warnings; self.members = members
    }
}

/// The Members as a plain-text table; every value from the directory is sanitised.
public enum MemberTable {
    public static func render(_ rows: [MemberRow], source: String, profile: String) -> String {
        let header = ["Name", "Role", "Organisation", "Address", "Class", "State"]
        let cells = rows.map { row -> [String] in
            let member = row.member
            return [member.displayName ?? member.dn, member.role ?? "", member.organisation ?? "",
                    member.effectiveAddress ?? "", row.accountClass.rawValue, state(member)]
                .map { clip(TerminalText.sanitize($0), to: 40) }
        }
        var widths = header.map(\.count)
        for row in cells { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ values: [String]) -> String {
            values.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var out = [line(header), line(widths.map { String(repeating: "-", count: $0) })] + cells.map(line)
        out.append("")
        out.append("\(rows.count) Members from \(TerminalText.sanitize(source)) (\(profile) profile)")
        return out.joined(separator: "\n") + "\n"
    }

    /// "contact", or the account state with what needs attention.
    static func state(_ member: Member) -> String {
        guard let account = member.account else { return "contact" }
        var parts = [account.state]
        if account.mustChangePassword { parts.append("must change password") }
        if account.passwordNeverExpires == true { parts.append("password never expires") }
        if account.passwordNotRequired == true { parts.append("password not required") }
        return parts.joined(separator: ", ")
    }

    private static func clip(_ text: String, to width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }
}
