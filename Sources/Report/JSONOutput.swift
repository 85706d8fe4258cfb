import Foundation
import MailDomain
import Policy

public enum JSONOutput {
    /// Pretty-printed JSON with RFC 3339 dates and sorted keys, so that two runs diff cleanly.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        try encoder.encode(value)
    }

    static var encoder: JSONEncoder {
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
        /// One element's bytes. Kept with its room from one element to the next: grown afresh
        /// for each domain it took a dozen allocations a domain.
        private var buffer: [UInt8] = []

        public init(_ write: @escaping (Data) -> Void) { self.write = write }

        public mutating func append<T: Encodable>(_ element: T) throws {
            buffer.removeAll(keepingCapacity: true)
            buffer += count == 0 ? Self.opening : Self.separator
            if let report = element as? DomainReport {
                buffer.append(contentsOf: "  ".utf8)
                try DomainReportJSON.append(report, depth: 1, to: &buffer)
            } else {
                StreamedJSON.append(try encoder.encode(element), indentedBy: 2, to: &buffer)
            }
            write(Data(buffer))
            count += 1
        }

        private static let opening = Array("[\n".utf8)
        private static let separator = Array(",\n".utf8)

        /// Closes the array (an empty one is "[]", as the encoder writes it).
        public func finish() {
            write(Data((count == 0 ? "[\n\n]" : "\n]").utf8))
        }
    }
}
