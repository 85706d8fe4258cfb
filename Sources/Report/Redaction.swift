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
        let replacements = self.replacements(result)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let tree = try JSONSerialization.jsonObject(with: try encoder.encode(result))
        let rewritten = rewrite(tree, replacements)
        var redacted = try decoder.decode(AuditResult.self, from: try JSONSerialization.data(withJSONObject: rewritten))
        // Kept exactly: the real run time (ISO 8601 in JSON drops its fraction of a second).
        redacted.generatedAt = result.generatedAt
        redacted.asOf = result.asOf
        redacted.redacted = true
        return redacted
    }

    /// One replacement: `text` (an address, a name, a part of a name) and what stands for it.
    struct Replacement {
        var text: String
        var with: String
        /// Name parts are replaced as whole words with their case (this expression, made once);
        /// whole names and addresses in any case.
        var wholeWord: NSRegularExpression?

        init(text: String, with: String, wholeWord: Bool) {
            self.text = text
            self.with = with
            self.wholeWord = wholeWord
                ? try? NSRegularExpression(pattern: "(?<![\\p{L}\\p{N}])" + NSRegularExpression.escapedPattern(for: text) + "(?![\\p{L}\\p{N}])")
                : nil
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
        // Longest first, so that a whole name goes before its parts.
        return list.sorted { $0.text.count > $1.text.count }
    }

    private static func words(_ name: String) -> [String] {
        name.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    }

    private static func rewrite(_ value: Any, _ replacements: [Replacement]) -> Any {
        switch value {
        case let text as String: return apply(replacements, to: text)
        case let array as [Any]: return array.map { rewrite($0, replacements) }
        case let object as [String: Any]: return object.mapValues { rewrite($0, replacements) }
        default: return value
        }
    }

    static func apply(_ replacements: [Replacement], to text: String) -> String {
        var out = text
        for replacement in replacements where out.range(of: replacement.text, options: replacement.wholeWord == nil ? .caseInsensitive : []) != nil {
            if let expression = replacement.wholeWord {
                out = expression.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out),
                                                          withTemplate: NSRegularExpression.escapedTemplate(for: replacement.with))
            } else {
                out = out.replacingOccurrences(of: replacement.text, with: replacement.with, options: .caseInsensitive)
            }
        }
        return out
    }
}
