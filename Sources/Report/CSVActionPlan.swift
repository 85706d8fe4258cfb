import Foundation
import MailDomain
import Policy

/// The action plan: one row per failing (or not checkable) control per Member, with empty
/// columns for the owner's response and a target date, for a spreadsheet.
public enum CSVActionPlan {
    public static let header = ["Member", "Role", "Organisation", "Address", "Verdict", "Control", "Status", "Severity",
                                "Finding", "Fix", "Reference", "Exception", "Owner", "Owner's response", "Target date"]

    /// The file begins with a UTF-8 byte order mark, so that spreadsheets read it as UTF-8
    /// ("Jürgen", not "JÃ¼rgen").
    public static let byteOrderMark = Data([0xEF, 0xBB, 0xBF])

    /// The file's bytes: the mark, then the rows.
    public static func file(_ result: AuditResult) -> Data {
        var data = byteOrderMark
        write(result) { data.append(contentsOf: $0.utf8) }
        return data
    }

    public static func render(_ result: AuditResult) -> String {
        var text = ""
        write(result) { text += $0 }
        return text
    }

    /// The rows one at a time, each with its CRLF, the header first: a plan of 10,000 Members
    /// is written to its file as it is made, never held whole.
    public static func write(_ result: AuditResult, to emit: (String) -> Void) {
        emit(line(header))
        for member in result.members where member.verdict != .compliant {
            for item in ActionItem.of(member) {
                let finding = item.finding
                // A row whose control an exception in force accepts says so, with its end.
                let exception = item.acceptedBy.map { "accepted by #\($0.id) until \(DateFormatter.day.string(from: $0.expires))" } ?? ""
                emit(line([member.name, member.role ?? "", member.organisation ?? "", member.address ?? "", member.verdict.rawValue,
                           finding.control, finding.status.rawValue, finding.severity, finding.summary, finding.advice ?? item.nextStep,
                           finding.reference, exception, item.owner, "", ""]))
            }
        }
    }

    private static func line(_ cells: [String]) -> String {
        cells.map(Escape.csv).joined(separator: ",") + "\r\n"
    }
}
