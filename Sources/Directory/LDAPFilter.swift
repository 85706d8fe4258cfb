/// Building LDAP search filters safely.
public enum LDAPFilter {
    /// Escapes a value for use inside a filter (RFC 4515 3): `*`, `(`, `)`, `\`, NUL, and every
    /// byte outside printable ASCII become `\XX`, so a value can never change the filter's shape.
    public static func escape(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "*"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"), 0, 0x80...0xFF, 0x01...0x1F, 0x7F:
                out += "\\" + String(byte, radix: 16).leftPadded(to: 2)
            default:
                out.unicodeScalars.append(UnicodeScalar(byte))
            }
        }
        return out
    }

    /// `(attribute=value)` with the value escaped.
    public static func equals(_ attribute: String, _ value: String) -> String {
        "(\(attribute)=\(escape(value)))"
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
