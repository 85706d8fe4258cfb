import ConfigFile
import Foundation

/// How the rule sees an address: the organisation's own account, an outside (council or
/// business) account, personal webmail, or none at all.
public enum AccountClass: String, Codable, Sendable, CaseIterable {
    case organisation, external, personal
    case noAddress = "no-address"
}

/// Classes addresses by their domain, as the policy says.
public struct AccountClassifier: Sendable {
    public var organisationDomains: [String]
    public var personalDomains: Set<String>

    public init(organisationDomains: [String], personalDomains: Set<String>) {
        self.organisationDomains = organisationDomains.map { $0.lowercased() }
        self.personalDomains = Set(personalDomains.map { $0.lowercased() })
    }

    public func classify(_ address: String?) -> AccountClass {
        guard let domain = Self.domain(of: address) else { return .noAddress }
        if organisationDomains.contains(where: { domain == $0 || domain.hasSuffix("." + $0) }) { return .organisation }
        if personalDomains.contains(domain) { return .personal }
        return .external
    }

    /// The lower-cased domain of an address, without a trailing dot; nil when there is none.
    public static func domain(of address: String?) -> String? {
        guard let address, let at = address.lastIndex(of: "@") else { return nil }
        var domain = address[address.index(after: at)...].trimmingCharacters(in: .whitespaces).lowercased()
        if domain.hasSuffix(".") { domain.removeLast() }
        return domain.isEmpty ? nil : domain
    }

    /// Reads a domain list: one a line, '#' comments; a malformed line is an error with its number.
    public static func readDomainList(file: String) throws -> Set<String> {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: file, line: nil, key: nil, message: "cannot read the domain list")
        }
        var domains: Set<String> = []
        for (index, raw) in TextLines.split(text).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            if line.isEmpty { continue }
            guard line.contains("."), line.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
                throw ConfigError(file: file, line: index + 1, key: nil, message: "\"\(line)\" is not a domain name")
            }
            domains.insert(line)
        }
        return domains
    }
}
