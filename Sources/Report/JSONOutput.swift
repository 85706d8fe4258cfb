import Foundation

public enum JSONOutput {
    /// Pretty-printed JSON with RFC 3339 dates and sorted keys, so that two runs diff cleanly.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(value)
    }
}
