/// Escaping for each output format. Everything that came from the directory, DNS or HTTP goes
/// through one of these before it is written.
public enum Escape {
    /// Text and attribute values in HTML.
    public static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n", "\t":
                out.unicodeScalars.append(scalar)
            default:
                // Control characters and bidirectional controls (which could show "evil.exe" as
                // "exe.live") are shown as escapes, as on a terminal, never passed on.
                if let visible = TerminalText.visibleEscape(scalar) {
                    out += visible
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// One CSV field (RFC 4180). A value a spreadsheet would run as a formula (starting with
    /// = + - @, tab or carriage return) is prefixed with an apostrophe, as OWASP advises.
    public static func csv(_ text: String) -> String {
        // Control bytes (ESC, NUL) and bidirectional controls never reach a spreadsheet; a line
        // break stays a line break inside the quoted cell.
        var value = TerminalText.sanitize(text, keeping: ["\n"])
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }

    /// Text inside a Markdown table cell or paragraph: Markdown punctuation escaped, HTML
    /// special characters as entities (Markdown passes raw HTML through), one line.
    public static func markdown(_ text: String) -> String {
        var out = ""
        for character in TerminalText.sanitize(text) {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "#", "|", "!", "{", "}": out += "\\" + String(character)
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default: out.append(character)
            }
        }
        return out
    }
}
