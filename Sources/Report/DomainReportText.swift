import MailDomain

/// The human-readable form of `check-domain`: a block per domain, a line per check, the fix
/// under anything that needs one. Everything that came from the network is sanitised.
public struct DomainReportText {
    public var colour: Bool
    public var verbose: Bool

    public init(colour: Bool, verbose: Bool) {
        self.colour = colour
        self.verbose = verbose
    }

    public func render(_ reports: [DomainReport]) -> String {
        reports.map(render).joined(separator: "\n")
    }

    public func render(_ report: DomainReport) -> String {
        var lines: [String] = []
        var title = TerminalText.sanitize(report.domain)
        if report.asciiDomain != report.domain { title += " (\(TerminalText.sanitize(report.asciiDomain)))" }
        lines.append(bold(title))
        // Ids in one column, as wide as the longest (smtp-starttls is longer than the rest).
        let width = max(9, report.checks.map(\.id.count).max() ?? 0)
        for check in report.checks {
            let label = check.id.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("  \(badge(check.status)) \(label) \(TerminalText.sanitize(check.summary))")
            if let advice = check.advice, check.status != .pass {
                lines.append("                    \(dim("Fix:")) \(TerminalText.sanitize(advice))")
            }
            if verbose {
                if let record = check.details["record"]?.stringValue {
                    lines.append("                    \(dim("Record:")) \(TerminalText.sanitize(record))")
                }
                let outline = SPFTreeOutline.lines(check.details)
                if !outline.isEmpty { lines.append("                    \(dim("Tree:"))") }
                for line in outline {
                    let indent = String(repeating: "  ", count: line.depth + 1)
                    let text = TerminalText.sanitize(line.text)
                    lines.append("                    \(indent)\(line.isRemark ? dim("! " + text) : text)")
                }
                for evidence in check.evidence {
                    lines.append("                    \(dim("·")) \(TerminalText.sanitize(evidence.query)) → \(TerminalText.sanitize(evidence.result))")
                    for datum in evidence.data.prefix(8) {
                        let shown = datum.count > 300 ? String(datum.prefix(300)) + "… (\(datum.count) characters)" : datum
                        // Each line of a body on a line of its own, indented; CRLF is a line end.
                        for bodyLine in TerminalText.unifyingLineEnds(shown).split(separator: "\n", omittingEmptySubsequences: false) {
                            lines.append("                        \(TerminalText.sanitize(String(bodyLine)))")
                        }
                    }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func badge(_ status: CheckStatus) -> String {
        let text: String, code: String
        switch status {
        case .pass: (text, code) = ("PASS", "32")
        case .fail: (text, code) = ("FAIL", "31")
        case .warn: (text, code) = ("WARN", "33")
        case .notPresent: (text, code) = ("NOT-PRESENT", "31")
        case .error: (text, code) = ("ERROR", "35")
        case .notApplicable: (text, code) = ("N/A", "2")
        }
        // As wide as the widest, "not-present": the words the JSON uses, in capitals.
        let padded = text.padding(toLength: 11, withPad: " ", startingAt: 0)
        return colour ? "\u{1B}[\(code)m\(padded)\u{1B}[0m" : padded
    }

    private func bold(_ text: String) -> String { colour ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    private func dim(_ text: String) -> String { colour ? "\u{1B}[2m\(text)\u{1B}[0m" : text }
}
