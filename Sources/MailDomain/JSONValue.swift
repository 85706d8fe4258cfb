import Foundation

/// A JSON value whose objects keep their keys in the order written, so that `details` read the
/// same way in every report.
public indirect enum JSONValue: Sendable, Equatable, Encodable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)): return a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case let .object(pairs) = self else { return nil }
        return pairs.first(where: { $0.0 == key })?.1
    }

    public var stringValue: String? { if case let .string(value) = self { return value } else { return nil } }
    public var intValue: Int? { if case let .int(value) = self { return value } else { return nil } }
    public var boolValue: Bool? { if case let .bool(value) = self { return value } else { return nil } }
    public var arrayValue: [JSONValue]? { if case let .array(value) = self { return value } else { return nil } }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case let .string(value): var c = encoder.singleValueContainer(); try c.encode(value)
        case let .int(value): var c = encoder.singleValueContainer(); try c.encode(value)
        case let .double(value): var c = encoder.singleValueContainer(); try c.encode(value)
        case let .bool(value): var c = encoder.singleValueContainer(); try c.encode(value)
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case let .array(values):
            var c = encoder.unkeyedContainer()
            for value in values { try c.encode(value) }
        case let .object(pairs):
            var c = encoder.container(keyedBy: Key.self)
            for (key, value) in pairs { try c.encode(value, forKey: Key(key)) }
        }
    }
}

extension JSONValue: Decodable {
    public init(from decoder: Decoder) throws {
        if let container = try? decoder.container(keyedBy: Key.self) {
            var pairs: [(String, JSONValue)] = []
            for key in container.allKeys { pairs.append((key.stringValue, try container.decode(JSONValue.self, forKey: key))) }
            self = .object(pairs.sorted { $0.0 < $1.0 })
        } else if var container = try? decoder.unkeyedContainer() {
            var values: [JSONValue] = []
            while !container.isAtEnd { values.append(try container.decode(JSONValue.self)) }
            self = .array(values)
        } else {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Int.self) { self = .int(value) }
            else if let value = try? container.decode(Double.self) { self = .double(value) }
            else { self = .string(try container.decode(String.self)) }
        }
    }
}

extension JSONValue {
    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
    static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    static func optional(_ value: Int?) -> JSONValue { value.map { .int($0) } ?? .null }
    static func optional(_ value: Bool?) -> JSONValue { value.map { .bool($0) } ?? .null }
}
