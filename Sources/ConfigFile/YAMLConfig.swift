import Foundation
import Yams

/// A problem in a configuration or policy file, located to the file, line and key.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String?
    public var message: String

    public init(file: String, line: Int?, key: String?, message: String) {
        self.file = file; self.line = line; self.key = key; self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let key { location += ": \(key)" }
        return "\(location): \(message)"
    }
}

/// A YAML mapping read with positions, so that every error names file, line and key, and keys
/// nobody reads are reported rather than ignored.
public struct YAMLMapping {
    public let file: String
    /// Dotted path of this mapping from the document root ("directory.members").
    public let path: String
    let node: Node
    let pairs: [(key: String, value: Node, line: Int)]

    /// Loads a file whose top level is a mapping.
    public static func load(file: String) throws -> YAMLMapping {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(file: file, line: nil, key: nil, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: file, line: nil, key: nil, message: "the file is not UTF-8 text")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws -> YAMLMapping {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(file: file, line: Self.line(of: error), key: nil, message: "YAML syntax error: \(Self.reason(of: error))")
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, message: "YAML syntax error: \(error)")
        }
        guard let node else { throw ConfigError(file: file, line: 1, key: nil, message: "the file is empty") }
        return try YAMLMapping(node: node, file: file, path: "")
    }

    init(node: Node, file: String, path: String) throws {
        guard let mapping = node.mapping else {
            throw ConfigError(file: file, line: node.mark.map { $0.line }, key: path.isEmpty ? nil : path,
                              message: "expected a mapping of key: value lines")
        }
        self.node = node
        self.file = file
        self.path = path
        var pairs: [(String, Node, Int)] = []
        var seen: Set<String> = []
        for (key, value) in mapping {
            guard let name = key.string else {
                throw ConfigError(file: file, line: key.mark?.line, key: path, message: "a key must be text")
            }
            if !seen.insert(name).inserted {
                throw ConfigError(file: file, line: key.mark?.line, key: qualified(name, in: path), message: "the key appears twice")
            }
            pairs.append((name, value, key.mark?.line ?? value.mark?.line ?? 0))
        }
        self.pairs = pairs
    }

    public var line: Int? { node.mark?.line }

    public func error(_ key: String?, _ message: String) -> ConfigError {
        let pair = key.flatMap { name in pairs.first { $0.key == name } }
        return ConfigError(file: file, line: pair?.line ?? line, key: key.map { qualified($0, in: path) } ?? (path.isEmpty ? nil : path),
                           message: message)
    }

    /// Fails on any key outside `known`, naming the ones allowed.
    public func allowOnly(_ known: [String]) throws {
        if let unknown = pairs.first(where: { !known.contains($0.key) }) {
            throw error(unknown.key, "unknown key; allowed here: \(known.joined(separator: ", "))")
        }
    }

    public var keys: [String] { pairs.map(\.key) }

    private func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }

    public func has(_ key: String) -> Bool { value(key) != nil }

    public func string(_ key: String) throws -> String? {
        guard let node = value(key) else { return nil }
        guard let scalar = node.scalar else { throw error(key, "expected a single value") }
        if scalar.style == .plain && ["~", "null", ""].contains(scalar.string) { return nil }
        return scalar.string
    }

    public func requiredString(_ key: String) throws -> String {
        guard let text = try string(key), !text.isEmpty else { throw error(key, "is required") }
        return text
    }

    public func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try string(key) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw error(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(text)\"")
        }
        return number
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw error(key, "must be true or false, got \"\(text)\"")
        }
    }

    /// A list of strings; a single value is read as a list of one.
    public func strings(_ key: String) throws -> [String]? {
        guard let node = value(key) else { return nil }
        if let scalar = node.scalar { return [scalar.string] }
        guard let sequence = node.sequence else { throw error(key, "expected a list") }
        return try sequence.map { item in
            guard let scalar = item.scalar else { throw error(key, "every item must be a single value") }
            return scalar.string
        }
    }

    /// A list of mappings (e.g. the checklist's questions), each read with positions.
    public func sequence(_ key: String) throws -> [YAMLMapping]? {
        guard let node = value(key) else { return nil }
        guard let sequence = node.sequence else { throw error(key, "expected a list") }
        return try sequence.enumerated().map { index, item in
            try YAMLMapping(node: item, file: file, path: qualified("\(key)[\(index)]", in: path))
        }
    }

    public func mapping(_ key: String) throws -> YAMLMapping? {
        guard let node = value(key) else { return nil }
        return try YAMLMapping(node: node, file: file, path: qualified(key, in: path))
    }

    /// A path in the file, resolved against the file's own folder.
    public func path(_ key: String) throws -> String? {
        guard let text = try string(key) else { return nil }
        if text.hasPrefix("/") { return text }
        return URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(text).path
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func reason(of error: YamlError) -> String {
        switch error {
        case let .scanner(_, problem, _, _), let .parser(_, problem, _, _), let .composer(_, problem, _, _):
            return problem
        default:
            return "\(error)"
        }
    }
}

private func qualified(_ key: String, in path: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
