import Foundation
import Policy

/// `--redact`, for papers that are published: the names and addresses of Members without one of
/// the authority's own accounts (councillors and business members, whose personal details the
/// authority does not publish) become initials and organisation, in every output. The
/// authority's own accounts are its own to name.
///
/// The replacement is made on every string of the model (reasons, findings, exceptions, changes,
/// the trend's ids), so no output written from it can carry the original.
public enum Redaction {
    /// Titles kept in front of the initials: they say the role, not the person.
    static let titles: Set<String> = ["cllr", "councillor", "dr", "mr", "mrs", "ms", "mx", "miss", "prof", "professor", "sir", "dame", "rev", "lord", "lady"]

    public static func redact(_ result: AuditResult) throws -> AuditResult {
        let replacements = ReplacementIndex(self.replacements(result))
        let rewriter = Rewriter(replacements: replacements)
        // The Members and the domains a piece at a time, so that only one Member's or domain's
        // JSON exists at once (the whole result's was 60 MB for 10,000 Members, held three times
        // over); a piece in which nothing is replaced is kept as it was, not copied.
        var rest = result
        rest.members = []
        rest.domains = []
        // Everything else in one piece, so that a field added to the result is redacted too.
        var redacted = try rewriter.rewrite(rest)
        // A finding is written without its control's text (that is in audit.json's catalogue),
        // so it comes back without it: the text is put back, redacted once per control.
        var texts: [String: ControlText] = [:]
        redacted.members = try result.members.map { member in
            var rewritten = try rewriter.rewrite(member)
            for index in member.findings.indices {
                let finding = member.findings[index]
                let text = try texts[finding.control] ?? rewriter.rewrite(finding.text)
                texts[finding.control] = text
                rewritten.findings[index].text = text
            }
            return rewritten
        }
        redacted.domains = try result.domains.map(rewriter.rewrite)
        // Kept exactly: the real run time (ISO 8601 in JSON drops its fraction of a second).
        redacted.generatedAt = result.generatedAt
        redacted.asOf = result.asOf
        redacted.redacted = true
        return redacted
    }

    /// A value through its JSON with the replacements made in every string.
    struct Rewriter {
        let replacements: ReplacementIndex
        let encoder: JSONEncoder
        let decoder: JSONDecoder

        init(replacements: ReplacementIndex) {
            self.replacements = replacements
            encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.withoutEscapingSlashes]
            decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
        }

        /// The value itself when nothing in it is replaced.
        func rewrite<Value: Codable>(_ value: Value) throws -> Value {
            let json = try encoder.encode(value)
            guard let rewritten = try Redaction.rewriteStrings(json, replacements) else { return value }
            do {
                return try decoder.decode(Value.self, from: rewritten)
            } catch {
                throw Failure(description: "the redacted \(Value.self) could not be read back: \(error)")
            }
        }
    }

    /// Every string value of compact JSON with the replacements made; keys, numbers and the
    /// rest as they were; nil when no string changed. Done on the text, not on a
    /// JSONSerialization tree of it, which for 1,000 Members took 450 MB.
    static func rewriteStrings(_ json: Data, _ replacements: ReplacementIndex) throws -> Data? {
        var changed = false
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), colon = UInt8(ascii: ":")
        let literalEncoder = JSONEncoder()
        literalEncoder.outputFormatting = [.withoutEscapingSlashes]
        let literalDecoder = JSONDecoder()
        var out = [UInt8]()
        out.reserveCapacity(json.count + json.count / 8)
        try json.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var index = 0
            while index < bytes.count {
                guard bytes[index] == quote else {
                    out.append(bytes[index])
                    index += 1
                    continue
                }
                var end = index + 1
                var escaped = false
                while end < bytes.count && bytes[end] != quote {
                    if bytes[end] == backslash { escaped = true; end += 1 }
                    end += 1
                }
                guard end < bytes.count else { throw Failure(description: "an unterminated string at byte \(index)") }
                let literal = UnsafeRawBufferPointer(rebasing: bytes[index...end])
                // Compact JSON puts a key's colon right after it; keys are the schema's names.
                if end + 1 < bytes.count && bytes[end + 1] == colon {
                    out.append(contentsOf: literal)
                } else {
                    let text = escaped ? try literalDecoder.decode(String.self, from: Data(literal))
                                       : String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<end]), as: UTF8.self)
                    let replaced = apply(replacements, to: text)
                    if replaced == text {
                        out.append(contentsOf: literal)
                    } else {
                        out.append(contentsOf: try literalEncoder.encode(replaced))
                        changed = true
                    }
                }
                index = end + 1
            }
        }
        return changed ? Data(out) : nil
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One replacement: `text` (an address, a name, a part of a name) and what stands for it.
    struct Replacement {
        var text: String
        var with: String
        /// Name parts are replaced as whole words with their case; whole names and addresses
        /// in any case.
        var wholeWord: Bool

        /// The text with this replacement made.
        func apply(to text: String) -> String {
            wholeWord ? Self.replacingWholeWords(self.text, with: with, in: text)
                      : text.replacingOccurrences(of: self.text, with: with, options: .caseInsensitive)
        }

        /// Each occurrence of `word` that has no letter or digit on either side. Scanned rather
        /// than matched with a regular expression: one compiled expression for each of 20,000
        /// name parts took 250 MB, and almost none is ever used.
        static func replacingWholeWords(_ word: String, with replacement: String, in text: String) -> String {
            guard !word.isEmpty else { return text }
            let scalars = text.unicodeScalars
            var out = ""
            var copied = text.startIndex, from = text.startIndex
            while let found = text.range(of: word, options: .literal, range: from..<text.endIndex) {
                let before = found.lowerBound > scalars.startIndex ? scalars[scalars.index(before: found.lowerBound)] : nil
                let after = found.upperBound < scalars.endIndex ? scalars[found.upperBound] : nil
                if before.map(isWordScalar) == true || after.map(isWordScalar) == true {
                    from = scalars.index(after: found.lowerBound)
                    continue
                }
                out += text[copied..<found.lowerBound]
                out += replacement
                copied = found.upperBound
                from = found.upperBound
            }
            guard copied > text.startIndex else { return text }
            out += text[copied...]
            return out
        }

        /// A letter or a number (Unicode's L and N categories).
        static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .decimalNumber, .letterNumber, .otherNumber: return true
            default: return false
            }
        }
    }

    static func replacements(_ result: AuditResult) -> [Replacement] {
        let kept = result.members.filter { $0.accountClass == .organisation }
        // Words of the names shown, and of organisations (kept by the rule), are never replaced.
        let keptWords = Set(kept.flatMap { words($0.name) } + result.members.flatMap { words($0.organisation ?? "") })
        var list: [Replacement] = []
        for member in result.members where member.accountClass != .organisation {
            let words = self.words(member.name)
            let title = words.first.flatMap { titles.contains($0.lowercased().trimmingCharacters(in: .punctuationCharacters)) ? $0 + " " : nil } ?? ""
            let personal = words.filter { !titles.contains($0.lowercased().trimmingCharacters(in: .punctuationCharacters)) }
            let initials = personal.compactMap { $0.first.map { "\($0.uppercased())." } }.joined()
            let organisation = member.organisation.flatMap { $0.isEmpty ? nil : $0 } ?? "no organisation given"
            let standIn = "\(title)\(initials.isEmpty ? "?" : initials) (\(organisation))"
            if let address = member.address, !address.isEmpty {
                let domain = address.lastIndex(of: "@").map { String(address[address.index(after: $0)...]) } ?? ""
                list.append(Replacement(text: address, with: domain.isEmpty ? "(address withheld)" : "(withheld)@\(domain)", wholeWord: false))
            }
            list.append(Replacement(text: member.name, with: standIn, wholeWord: false))
            // A surname or given name alone ("Cllr Brooks" in an exception's reason), unless a
            // Member who is shown has the same word in their name.
            for word in personal where word.count >= 3 && !keptWords.contains(word) {
                list.append(Replacement(text: word, with: "\(word.first!.uppercased()).", wholeWord: true))
            }
        }
        // A word many Members share ("David") is one replacement, not one a Member.
        var seen: Set<String> = []
        list = list.filter { seen.insert("\($0.wholeWord)\u{0}\($0.text)\u{0}\($0.with)").inserted }
        // Longest first, so that a whole name goes before its parts.
        return list.sorted { $0.text.count > $1.text.count }
    }

    private static func words(_ name: String) -> [String] {
        name.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    }

    /// Each replacement, longest first, that occurs in the text as it stands by then.
    static func apply(_ index: ReplacementIndex, to text: String) -> String {
        var out = text
        var candidates = index.candidates(in: out, after: -1)
        var next = 0
        while next < candidates.count {
            let position = candidates[next]
            next += 1
            let replacement = index.replacements[position]
            guard out.range(of: replacement.text, options: replacement.wholeWord ? [] : .caseInsensitive) != nil else { continue }
            out = replacement.apply(to: out)
            // The text changed: the later replacements are looked for in what it is now.
            candidates = index.candidates(in: out, after: position)
            next = 0
        }
        return out
    }

    /// The replacements a text holds, found without trying each: every string of a report is
    /// looked at, and trying all of 10,000 Members' names on each of them took hours
    /// (200 Members: 31 s against 2.4 s unredacted). Texts and replacements that are ASCII are
    /// compared case-blind on their bytes: a replacement is filed under its first three bytes
    /// and its length, so at each place in a text only those that start there are looked up.
    struct ReplacementIndex {
        let replacements: [Replacement]
        private struct Bucket {
            /// The lengths of the replacements filed here, each once.
            var lengths: [Int] = []
            /// Positions in `replacements`, by their lowercased text.
            var byText: [ArraySlice<UInt8>: [Int]] = [:]
        }
        private var buckets: [UInt32: Bucket] = [:]
        /// Tried on every text: shorter than three bytes, or not ASCII, where case-blind
        /// matching (ß and SS, the Kelvin sign and k) is beyond a byte comparison.
        private var always: [Int] = []

        init(_ replacements: [Replacement]) {
            self.replacements = replacements
            for (position, replacement) in replacements.enumerated() {
                let bytes = Self.lowercased(Array(replacement.text.utf8))
                guard bytes.count >= 3, bytes.allSatisfy({ $0 < 0x80 }) else {
                    always.append(position)
                    continue
                }
                let key = Self.key(bytes, at: 0)
                var bucket = buckets[key] ?? Bucket()
                if !bucket.lengths.contains(bytes.count) { bucket.lengths.append(bytes.count) }
                bucket.byText[bytes[...], default: []].append(position)
                buckets[key] = bucket
            }
        }

        /// Positions after `after`, in order, of the replacements that occur in `text` (for a
        /// text that is not ASCII: all of them, each then tried).
        func candidates(in text: String, after: Int) -> [Int] {
            let original = Array(text.utf8)
            guard original.allSatisfy({ $0 < 0x80 }) else { return Array(replacements.indices.dropFirst(after + 1)) }
            let bytes = Self.lowercased(original)
            var found = Set(always.filter { $0 > after })
            if bytes.count >= 3 {
                for start in 0...(bytes.count - 3) {
                    guard let bucket = buckets[Self.key(bytes, at: start)] else { continue }
                    for length in bucket.lengths where start + length <= bytes.count {
                        for position in bucket.byText[bytes[start..<(start + length)]] ?? [] where position > after { found.insert(position) }
                    }
                }
            }
            return found.sorted()
        }

        private static func lowercased(_ bytes: [UInt8]) -> [UInt8] {
            bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        }

        private static func key(_ bytes: [UInt8], at start: Int) -> UInt32 {
            UInt32(bytes[start]) << 16 | UInt32(bytes[start + 1]) << 8 | UInt32(bytes[start + 2])
        }
    }
}
