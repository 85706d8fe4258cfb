import ConfigFile
import Foundation

/// Reads the content records of an LDIF file (RFC 2849): folded lines, `::` base64 values,
/// comments and blank-line separators. Change records and `:<` URL values are refused: a member
/// list is data, and the tool does not fetch files named inside it.
public enum LDIFReader {
    public static func read(file: String) throws -> [DirectoryEntry] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw DirectoryError.ldif(file: file, line: 0, why: "cannot read the file")
        }
        return try parse(data, file: file)
    }

    public static func parse(_ data: Data, file: String) throws -> [DirectoryEntry] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DirectoryError.ldif(file: file, line: 0, why: "the file is not UTF-8 text")
        }
        // Unfold: a line starting with one space continues the previous line.
        var logical: [(line: Int, text: String)] = []
        for (index, raw) in TextLines.split(text).enumerated() {
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }   // a lone CR at the end of the file
            // Decided before appending, without holding a copy of the last line: a copy alive
            // during the append would make every continuation copy the whole value.
            let continues = line.hasPrefix(" ") && logical.last.map { !$0.text.isEmpty && !$0.text.hasPrefix("#") } == true
            if continues {
                line.removeFirst()
                logical[logical.count - 1].text += line
            } else {
                logical.append((index + 1, line))
            }
        }
        var entries: [DirectoryEntry] = []
        var current: DirectoryEntry?
        func finish() {
            if let entry = current { entries.append(entry) }
            current = nil
        }
        for (number, line) in logical {
            if line.isEmpty { finish(); continue }
            if line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw DirectoryError.ldif(file: file, line: number, why: "expected \"attribute: value\"")
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            var rest = line[line.index(after: colon)...]
            let value: [UInt8]
            if rest.hasPrefix(":") {
                rest = rest.dropFirst()
                let encoded = rest.trimmingCharacters(in: .whitespaces)
                guard let decoded = Data(base64Encoded: encoded) else {
                    throw DirectoryError.ldif(file: file, line: number, why: "\(name): the base64 value is malformed")
                }
                value = Array(decoded)
            } else if rest.hasPrefix("<") {
                throw DirectoryError.ldif(file: file, line: number, why: "\(name): values read from URLs (:<) are not accepted")
            } else {
                value = Array(String(rest.drop(while: { $0 == " " })).utf8)
            }
            let lower = name.lowercased()
            if lower == "version" && current == nil && entries.isEmpty { continue }
            if lower == "dn" {
                guard current == nil else {
                    throw DirectoryError.ldif(file: file, line: number, why: "dn: inside an entry (a blank line must separate entries)")
                }
                guard let dn = String(bytes: value, encoding: .utf8), !dn.isEmpty else {
                    throw DirectoryError.ldif(file: file, line: number, why: "empty or non-UTF-8 dn")
                }
                current = DirectoryEntry(dn: dn)
                continue
            }
            guard current != nil else {
                throw DirectoryError.ldif(file: file, line: number, why: "\(name): an attribute before any dn:")
            }
            if lower == "changetype" {
                throw DirectoryError.ldif(file: file, line: number, why: "change records are not accepted; give plain entries")
            }
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ";" || $0 == ".") }) else {
                throw DirectoryError.ldif(file: file, line: number, why: "\"\(name)\" is not an attribute name")
            }
            current?.attributes[lower, default: []].append(value)
        }
        finish()
        return entries
    }
}
