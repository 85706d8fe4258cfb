import Foundation
import MailDomain
import Policy

/// What a printed checklist shows.
public struct ChecklistSheet: Sendable {
    public var memberName: String
    public var organisation: String?
    public var address: String
    public var domain: String
    public var checklist: Checklist
    public var evidence: DomainReport
    public var answers: [AssessmentAnswer]
    public var preparedAt: Date

    public init(memberName: String, organisation: String?, address: String, domain: String, checklist: Checklist,
                evidence: DomainReport, answers: [AssessmentAnswer], preparedAt: Date) {
        self.memberName = memberName; self.organisation = organisation; self.address = address; self.domain = domain
        self.checklist = checklist; self.evidence = evidence; self.answers = answers; self.preparedAt = preparedAt
    }
}

/// The printable, pre-filled checklist for the 10-minute assessment (self-contained HTML).
public enum ChecklistHTML {
    public static func render(_ sheet: ChecklistSheet) -> String {
        let h = Escape.html
        let day = String(ISO8601DateFormatter().string(from: sheet.preparedAt).prefix(10))
        let rows = sheet.checklist.questions.enumerated().map { index, question -> String in
            let answer = sheet.answers.first { $0.question == question.id }
            let response: String
            if let answer {
                response = "<div class=\"auto\">Answered from the evidence: <strong>\(answer.value.rawValue)</strong> (\(h(answer.note ?? "")))</div>"
            } else {
                let boxes = (question.allowsNotApplicable ? ["Yes", "No", "N/A"] : ["Yes", "No"]).map { "<span class=\"box\">☐ \($0)</span>" }.joined()
                response = "<div class=\"boxes\">\(boxes)</div><div class=\"note\">Note:</div>"
            }
            return """
            <tr><td class="n">\(index + 1)</td><td><strong>\(h(question.question))</strong>\(question.required ? "" : " <em>(advisory)</em>")
            <div class="why">Why: \(h(question.why))</div><div class="pass">Pass: \(h(question.pass))</div>\(response)</td></tr>
            """
        }
        let evidence = sheet.evidence.checks.map { "<li><strong>\(h($0.id))</strong> \(h($0.status.rawValue)): \(h($0.summary))</li>" }
        return """
        <!DOCTYPE html>
        <html lang="en-GB"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
        <title>10-minute assessment: \(h(sheet.memberName))</title>
        <style>
        body{font-family:"DejaVu Sans",Arial,sans-serif;margin:1.5rem auto;max-width:900px;color:#1b1b1b;font-size:11pt}
        h1{font-size:1.4rem;margin:0}table{border-collapse:collapse;width:100%}td{border:1px solid #bbb;padding:.4rem;vertical-align:top}
        .n{width:2rem;text-align:center}.why,.pass{color:#444;font-size:.9rem}.auto{background:#e8f5e9;padding:.2rem;margin-top:.3rem}
        .boxes{margin-top:.4rem}.box{margin-right:1.5rem}.note{border-bottom:1px solid #999;height:1.6rem;margin-top:.3rem;color:#666}
        .meta td{border:none;padding:.1rem .4rem}.sign td{height:2rem}
        @media print{body{margin:0}tr{page-break-inside:avoid}}
        </style></head><body>
        <h1>\(h(sheet.checklist.name))</h1>
        <table class="meta"><tr><td>Member</td><td><strong>\(h(sheet.memberName))</strong></td></tr>
        <tr><td>Organisation</td><td>\(h(sheet.organisation ?? ""))</td></tr><tr><td>Address</td><td>\(h(sheet.address)) (domain \(h(sheet.domain)))</td></tr>
        <tr><td>Prepared</td><td>\(day), from a check of the domain made then</td></tr>
        <tr><td>Started / finished</td><td>____:____ / ____:____ (the aim is ten minutes)</td></tr></table>
        <h2>Questions</h2>
        <table>\(rows.joined(separator: "\n"))</table>
        <h2>What the domain check found</h2><ul>\(evidence.joined())</ul>
        <table class="sign"><tr><td>Assessor</td><td></td><td>IT contact</td><td></td></tr><tr><td>Result</td><td>☐ Pass ☐ Fail</td><td>Date</td><td></td></tr></table>
        </body></html>
        """
    }

    public static func text(_ sheet: ChecklistSheet) -> String {
        var lines = ["\(sheet.checklist.name)", "Member: \(TerminalText.sanitize(sheet.memberName)); address \(TerminalText.sanitize(sheet.address))", ""]
        for (index, question) in sheet.checklist.questions.enumerated() {
            lines.append("\(index + 1). \(question.question)\(question.required ? "" : " (advisory)")")
            if let answer = sheet.answers.first(where: { $0.question == question.id }) {
                lines.append("   Answered from the evidence: \(answer.value.rawValue) (\(answer.note ?? ""))")
            } else {
                lines.append("   [ ] yes  [ ] no\(question.allowsNotApplicable ? "  [ ] n/a" : "")   Pass: \(question.pass)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
