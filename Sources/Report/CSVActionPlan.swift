import Foundation
import MailDomain
import Policy

/// The action plan: one row per failing (or not checkable) control per Member, with empty
/// columns for the owner's response and a target date, for a spreadsheet.
public enum CSVActionPlan {
    public static let header = ["Member", "Role", "Organisation", "Address", "Verdict", "Control", "Status", "Severity",
                                "Finding", "Fix", "Reference", "Owner", "Owner's response", "Target date"]

    public static func render(_ result: AuditResult) -> String {
        var lines = [header.map(Escape.csv).joined(separator: ",")]
        for member in result.members where member.verdict != .compliant {
            let rows = member.findings.filter { $0.isFailing || $0.couldNotCheck || ($0.control == "assessment.current" && $0.required && $0.status != .pass) }
            for finding in rows {
                let cells = [member.name, member.role ?? "", member.organisation ?? "", member.address ?? "", member.verdict.rawValue,
                             finding.control, finding.status.rawValue, finding.severity, finding.summary, finding.advice ?? "",
                             finding.reference, "", "", ""]
                lines.append(cells.map(Escape.csv).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
