import Foundation
import MailDomain
import Policy

/// A domain's report written straight as the bytes `JSONOutput.encode` gives it (pretty,
/// sorted keys, slashes as they are, ISO 8601 dates), without the encoder's intermediate tree:
/// for `check-domain` of a long list that tree was most of the time spent writing. The tests
/// hold it to the encoder's bytes, for the fixture's domains and for hostile text.
public enum DomainReportJSON {
    /// Appends `report` as the encoder writes it nested `depth` levels deep (its first line not
    /// indented: the caller has placed it).
    public static func append(_ report: DomainReport, depth: Int, to out: inout [UInt8]) throws {
        var writer = PrettyJSONWriter(out: out)
        out = []
        try writer.object(depth: depth) { object in
            object.field("asciiDomain") { $0.string(report.asciiDomain) }
            object.field("checkedAt") { $0.date(report.checkedAt) }
            try object.field("checks") { value in
                try value.array(report.checks, depth: depth + 1) { value, check in try append(check, to: &value, depth: depth + 2) }
            }
            object.field("domain") { $0.string(report.domain) }
        }
        out = writer.out
    }

    private static func append(_ check: CheckResult, to writer: inout PrettyJSONWriter, depth: Int) throws {
        try writer.object(depth: depth) { object in
            object.field("advice") { value in
                if let advice = check.advice { value.string(advice) } else { value.raw("null") }
            }
            try object.field("details") { try $0.json(check.details, depth: depth + 1) }
            try object.field("evidence") { value in
                try value.array(check.evidence, depth: depth + 1) { value, evidence in
                    try value.object(depth: depth + 2) { object in
                        try object.field("data") { value in
                            try value.array(evidence.data, depth: depth + 3) { value, line in value.string(line) }
                        }
                        object.field("kind") { $0.string(evidence.kind.rawValue) }
                        object.field("observedAt") { $0.date(evidence.observedAt) }
                        object.field("query") { $0.string(evidence.query) }
                        object.field("result") { $0.string(evidence.result) }
                    }
                }
            }
            object.field("id") { $0.string(check.id) }
            object.field("status") { $0.string(check.status.rawValue) }
            object.field("summary") { $0.string(check.summary) }
        }
    }
}

/// Pretty-printed JSON in JSONEncoder's layout: two spaces a level, "key" : value, an empty
/// array or object as its brackets around a blank line.
struct PrettyJSONWriter {
    var out: [UInt8]

    init(out: [UInt8]) { self.out = out }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    private mutating func indent(_ depth: Int) {
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
    }

    /// A string as the encoder escapes it: quote, backslash and the control characters (the
    /// usual five by letter, the rest as \u00XX); everything else, "/" included, as it is.
    mutating func string(_ text: String) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x08: raw("\\b")
            case 0x09: raw("\\t")
            case 0x0A: raw("\\n")
            case 0x0C: raw("\\f")
            case 0x0D: raw("\\r")
            case 0x00..<0x20:
                raw("\\u00")
                out.append(Self.hexDigits[Int(byte >> 4)])
                out.append(Self.hexDigits[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The last date written, by its whole second: a report's evidence is mostly of one second.
    private var lastDate: (second: Double, text: String)?

    /// A date as the encoder's `.iso8601` strategy writes it: to the second, the fraction dropped.
    mutating func date(_ date: Date) {
        let second = date.timeIntervalSinceReferenceDate.rounded(.down)
        if let lastDate, lastDate.second == second { return string(lastDate.text) }
        let text = date.formatted(.iso8601)
        lastDate = (second, text)
        string(text)
    }

    mutating func array<Element>(_ elements: [Element], depth: Int,
                                 _ element: (inout PrettyJSONWriter, Element) throws -> Void) throws {
        out.append(UInt8(ascii: "["))
        if elements.isEmpty { out.append(UInt8(ascii: "\n")) }
        for (index, item) in elements.enumerated() {
            raw(index == 0 ? "\n" : ",\n")
            indent(depth + 1)
            try element(&self, item)
        }
        out.append(UInt8(ascii: "\n"))
        indent(depth)
        out.append(UInt8(ascii: "]"))
    }

    /// An object whose fields `body` writes, in the order the encoder sorts them.
    mutating func object(depth: Int, _ body: (inout ObjectFields) throws -> Void) throws {
        out.append(UInt8(ascii: "{"))
        var fields = ObjectFields(writer: self, depth: depth)
        out = []
        try body(&fields)
        self = fields.writer
        if fields.count == 0 { out.append(UInt8(ascii: "\n")) }
        out.append(UInt8(ascii: "\n"))
        indent(depth)
        out.append(UInt8(ascii: "}"))
    }

    struct ObjectFields {
        var writer: PrettyJSONWriter
        let depth: Int
        var count = 0

        mutating func field(_ key: String, _ value: (inout PrettyJSONWriter) throws -> Void) rethrows {
            writer.raw(count == 0 ? "\n" : ",\n")
            writer.indent(depth + 1)
            writer.string(key)
            writer.raw(" : ")
            try value(&writer)
            count += 1
        }
    }

    /// A `details` value. Keys are sorted as the encoder sorts them (by their UTF-8 bytes, which
    /// for these ASCII keys is its order); a number with a fraction, or an object naming a key
    /// twice, is left to the encoder itself, whose rules for those are its own.
    mutating func json(_ value: JSONValue, depth: Int) throws {
        switch value {
        case let .string(text): string(text)
        case let .int(number): out.append(contentsOf: String(number).utf8)
        case let .bool(flag): flag ? raw("true") : raw("false")
        case .null: raw("null")
        case .double: try encoded(value, depth: depth)
        case let .array(values):
            try array(values, depth: depth) { writer, element in try writer.json(element, depth: depth + 1) }
        case let .object(pairs):
            let sorted = pairs.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            if zip(sorted, sorted.dropFirst()).contains(where: { $0.0 == $1.0 }) || sorted.contains(where: { !$0.0.utf8.allSatisfy { $0 < 0x80 } }) {
                return try encoded(value, depth: depth)
            }
            try object(depth: depth) { fields in
                for (key, element) in sorted {
                    try fields.field(key) { try $0.json(element, depth: depth + 1) }
                }
            }
        }
    }

    private mutating func encoded(_ value: JSONValue, depth: Int) throws {
        StreamedJSON.append(try JSONOutput.encoder.encode(value), indentedBy: 2 * depth, fromSecondLine: true, to: &out)
    }
}
