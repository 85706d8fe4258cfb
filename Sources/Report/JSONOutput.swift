import Foundation

public enum JSONOutput {
    /// Pretty-printed JSON with RFC 3339 dates and sorted keys, so that two runs diff cleanly.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        try encoder.encode(value)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// A JSON array written element by element, the same bytes as `encode` of the whole array,
    /// so that a long list is never held whole in memory.
    public struct ArrayWriter {
        private let write: (Data) -> Void
        private let encoder = JSONOutput.encoder
        private var count = 0

        public init(_ write: @escaping (Data) -> Void) { self.write = write }

        public mutating func append<T: Encodable>(_ element: T) throws {
            // Pretty-printed JSON never holds a raw line break inside a string, so indenting
            // each line by two spaces nests the element exactly as the whole array would
            // (the blank line of an empty array stays blank, as the encoder writes it).
            let text = String(decoding: try encoder.encode(element), as: UTF8.self)
            let indented = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
            write(Data(((count == 0 ? "[\n" : ",\n") + indented).utf8))
            count += 1
        }

        /// Closes the array (an empty one is "[]", as the encoder writes it).
        public func finish() {
            write(Data((count == 0 ? "[\n\n]" : "\n]").utf8))
        }
    }
}
