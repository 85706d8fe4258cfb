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
            func path(_ name: String) -> String { URL(fileURLWithPath: folder).appendingPathComponent(name).path }
            // The large files are streamed: a report of 10,000 Members is tens of megabytes.
            let page = try StreamedFile(path: path("index.html"))
            HTMLReport.write(result) { page.write($0) }
            try page.commit()
            let json = try StreamedFile(path: path("audit.json"))
            try AuditJSON.write(result) { json.write($0) }
            try json.commit()
            let plan = try StreamedFile(path: path("action-plan.csv"))
            plan.write(CSVActionPlan.byteOrderMark)
            CSVActionPlan.write(result) { plan.write($0) }
            try plan.commit()
            try Data(MarkdownReport.render(result).utf8).write(to: URL(fileURLWithPath: path("summary.md")), options: .atomic)
        } catch {
            throw Failure(description: "cannot write the report into \(folder): \(Self.reason(error))")
        }
    }

    /// What went wrong in words: an encoding error's own account rather than Foundation's
    /// "the data isn't in the correct format".
    static func reason(_ error: Error) -> String {
        switch error {
        case let failure as StreamedFile.Failure: return failure.description
        case EncodingError.invalidValue(_, let context): return context.debugDescription
        default: return error.localizedDescription
        }
    }
}
