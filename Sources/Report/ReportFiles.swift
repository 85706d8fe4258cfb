import Foundation
import Policy

/// The four report files of a run, written the same way by `audit --out` and `report --run`.
public enum ReportFiles {
    public static let names = ["index.html", "audit.json", "action-plan.csv", "summary.md"]

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes DIR/index.html, audit.json, action-plan.csv and summary.md; each file is written
    /// whole (to a temporary name, then renamed) or not at all.
    public static func write(_ result: AuditResult, to folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let files: [(String, Data)] = [
                ("index.html", Data(HTMLReport.render(result).utf8)),
                ("audit.json", try JSONOutput.encode(result)),
                ("action-plan.csv", CSVActionPlan.file(result)),
                ("summary.md", Data(MarkdownReport.render(result).utf8)),
            ]
            for (name, data) in files {
                try data.write(to: URL(fileURLWithPath: folder).appendingPathComponent(name), options: .atomic)
            }
        } catch {
            throw Failure(description: "cannot write the report into \(folder): \(error.localizedDescription)")
        }
    }
}
