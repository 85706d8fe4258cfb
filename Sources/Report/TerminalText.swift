/// Makes text from DNS, HTTP or LDAP safe to print on a terminal: control characters (which
/// could move the cursor, recolour or retitle the terminal) and bidirectional overrides (which
/// could reorder what is shown) are written as visible escapes.
public enum TerminalText {
    public static func sanitize(_ text: String) -> String { sanitize(text, keeping: []) }

    /// The same, passing on the control characters in `keeping` (a line break in a CSV cell).
    /// Every output format shows these characters the same way, so "evil\u{202e}exe.txt"
    /// reads the same on a terminal, in the HTML report and in a spreadsheet.
    public static func sanitize(_ text: String, keeping: Set<Unicode.Scalar>) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let visible = visibleEscape(scalar), !keeping.contains(scalar) {
                out += visible
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// CRLF and a lone CR as LF: in an HTTP body or an SMTP reply they are line ends, to be
    /// shown as line breaks rather than as escapes.
    public static func unifyingLineEnds(_ text: String) -> String {
        guard text.unicodeScalars.contains("\r") else { return text }
        return text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    }

    /// How a control character or a bidirectional control is written, or nil for any other.
    static func visibleEscape(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F:
            return "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFFFD:
            return "\\u{" + String(scalar.value, radix: 16) + "}"
        default:
            return nil
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
