import Foundation
import Policy

/// audit.json written a Member and a domain at a time: the same bytes as `JSONOutput.encode`
/// of the whole result, without JSONEncoder's tree of the whole audit in memory (for 10,000
/// Members that tree was several times the file's size).
public enum AuditJSON {
    public static func write(_ result: AuditResult, to write: @escaping (Data) -> Void) throws {
        try StreamedJSON(encoder: JSONOutput.encoder, write: write).object(try result.fields())
    }
}
