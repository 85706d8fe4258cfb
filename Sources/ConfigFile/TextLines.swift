/// The lines of a text file the tool reads (LDIF, domain lists), whichever line end it was saved
/// with. Splitting on the Character "\n" alone is wrong: "\r\n" is one grapheme that is not "\n",
/// so a file saved on Windows would read as a single line.
public enum TextLines {
    public static func split(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    }
}
