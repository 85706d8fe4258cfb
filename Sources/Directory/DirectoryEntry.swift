import Foundation

/// One entry as read from LDAP or LDIF: its DN and its values, kept as bytes (binary attributes
/// such as objectGUID stay binary). Attribute names are lower-cased.
public struct DirectoryEntry: Sendable, Equatable {
    public var dn: String
    public var attributes: [String: [[UInt8]]]

    public init(dn: String, attributes: [String: [[UInt8]]] = [:]) {
        self.dn = dn
        self.attributes = attributes
    }

    public func values(_ name: String) -> [[UInt8]] { attributes[name.lowercased()] ?? [] }

    /// Text values; a value that is not UTF-8 is an error, not a silent replacement.
    public func strings(_ name: String) throws -> [String] {
        try values(name).map { bytes in
            guard let text = String(bytes: bytes, encoding: .utf8) else {
                throw DirectoryError.undecodable(dn: dn, attribute: name, why: "the value is not UTF-8 text")
            }
            return text
        }
    }

    public func string(_ name: String) throws -> String? { try strings(name).first }

    public func has(_ name: String) -> Bool { !values(name).isEmpty }

    /// objectClass values, lower-cased.
    public var objectClasses: Set<String> {
        Set(values("objectclass").compactMap { String(bytes: $0, encoding: .utf8)?.lowercased() })
    }
}
