import Foundation

/// JSON written a piece at a time, the same bytes as JSONEncoder's encoding of the whole value,
/// so that a long list (10,000 Members, 2,000 domains' evidence) is never one tree in memory.
/// It follows the encoder's own style: pretty-printed (each piece indented to its depth) or
/// compact.
public struct StreamedJSON {
    private let encoder: JSONEncoder
    private let write: (Data) -> Void
    private let pretty: Bool

    /// One field of an object: a value, or a long list written an element at a time.
    public enum Field {
        case value(any Encodable)
        case list([any Encodable])
    }

    public init(encoder: JSONEncoder, write: @escaping (Data) -> Void) {
        self.encoder = encoder
        self.write = write
        pretty = encoder.outputFormatting.contains(.prettyPrinted)
    }

    /// An object of `fields` (in the order given: sort them as the encoder would): each value
    /// encoded on its own, each list an element at a time.
    public func object(_ fields: [(key: String, value: Field)]) throws {
        write(Data("{".utf8))
        for (index, (key, field)) in fields.enumerated() {
            var out = Array((index == 0 ? "" : ",").utf8)
            if pretty { out.append(contentsOf: Array("\n  ".utf8)) }
            out.append(contentsOf: Array("\"\(key)\"\(pretty ? " : " : ":")".utf8))
            switch field {
            case .value(let value):
                Self.append(try encoder.encode(value), indentedBy: pretty ? 2 : 0, fromSecondLine: true, to: &out)
                write(Data(out))
            case .list(let elements):
                out.append(UInt8(ascii: "["))
                write(Data(out))
                try list(elements, depth: 2)
                write(Data((pretty ? "\n  ]" : "]").utf8))
            }
        }
        write(Data((pretty ? "\n}" : "}").utf8))
    }

    /// A top-level array, as `encode` of the whole array writes it.
    public func array(_ elements: [any Encodable]) throws {
        write(Data("[".utf8))
        try list(elements, depth: 0)
        write(Data((pretty ? "\n]" : "]").utf8))
    }

    /// The elements of a list whose "[" is written, one piece each. A pretty empty list is a
    /// blank line ("[\n\n]"), as the encoder writes it.
    private func list(_ elements: [any Encodable], depth: Int) throws {
        if pretty && elements.isEmpty { write(Data("\n".utf8)) }
        for (position, element) in elements.enumerated() {
            var item = Array((position == 0 ? "" : ",").utf8)
            if pretty { item.append(UInt8(ascii: "\n")) }
            Self.append(try encoder.encode(element), indentedBy: pretty ? depth + 2 : 0, to: &item)
            write(Data(item))
        }
    }

    /// Appends JSON indented by `spaces`, so that it nests exactly as the encoder would nest it:
    /// pretty-printed JSON never holds a raw line break inside a string, so every line moves
    /// right; a line that is only its line break (an empty array's) stays blank. With
    /// `fromSecondLine` the first line stays where it is (it follows a key).
    /// Done on the bytes: split into Characters, this took a sixth of check-domain's CPU.
    public static func append(_ encoded: Data, indentedBy spaces: Int, fromSecondLine: Bool = false, to out: inout [UInt8]) {
        guard spaces > 0 else { return out.append(contentsOf: encoded) }
        out.reserveCapacity(out.count + encoded.count + encoded.count / 4 + 2)
        let indent = [UInt8](repeating: 0x20, count: spaces)
        encoded.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var start = bytes.startIndex
            var first = true
            while start < bytes.endIndex {
                let end = bytes[start...].firstIndex(of: newline).map { $0 + 1 } ?? bytes.endIndex
                if bytes[start] != newline && !(first && fromSecondLine) { out.append(contentsOf: indent) }
                out.append(contentsOf: bytes[start..<end])
                start = end
                first = false
            }
        }
    }

    private static let newline = UInt8(ascii: "\n")
}
