import MailDomain

/// The `spf` control's record tree as indented lines, for the terminal and the HTML report: which
/// record each include or redirect reached, the look-ups each branch spends, and what is wrong
/// where. This is what a Member's IT contact needs to see to fix a record over the limit.
public enum SPFTreeOutline {
    public struct Line: Equatable {
        public var depth: Int
        public var text: String
        /// A problem or remark on the record above it, not a record.
        public var isRemark: Bool
    }

    /// The lines for a check's details; empty when the check has no tree (no record, or not SPF).
    public static func lines(_ details: JSONValue) -> [Line] {
        guard let tree = details["tree"], tree["domain"] != nil else { return [] }
        var lines: [Line] = []
        func walk(_ node: JSONValue, depth: Int) {
            let domain = node["domain"]?.stringValue ?? "?"
            let via = node["via"]?.stringValue ?? "record"
            let own = node["lookups"]?.intValue ?? 0, total = node["totalLookups"]?.intValue ?? own
            let void = node["voidLookups"]?.intValue ?? 0
            var cost = own == total ? lookups(own) : "\(lookups(own)) here, \(total) with what it includes"
            if void > 0 { cost += ", \(void) void" }
            let name = via == "record" ? domain : via
            lines.append(Line(depth: depth, text: "\(name) (\(cost)): \(node["record"]?.stringValue ?? "")", isRemark: false))
            for problem in node["problems"]?.arrayValue ?? [] {
                lines.append(Line(depth: depth + 1, text: problem.stringValue ?? "", isRemark: true))
            }
            for child in node["children"]?.arrayValue ?? [] { walk(child, depth: depth + 1) }
        }
        walk(tree, depth: 0)
        return lines
    }

    private static func lookups(_ count: Int) -> String { count == 1 ? "1 look-up" : "\(count) look-ups" }
}
