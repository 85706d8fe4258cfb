/// Makes text from DNS, HTTP or LDAP safe to print on a terminal: control characters (which
/// could move the cursor, recolour or retitle the terminal) and bidirectional overrides (which
/// could reorder what is shown) are written as visible escapes.
public enum TerminalText {
    public static func sanitize(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F:
                out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
            case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFFFD:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
