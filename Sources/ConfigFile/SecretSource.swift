import Foundation

/// Where a secret is read from: an environment variable or a file, never the configuration
/// itself, never the command line. Shared by the directory's bind password and the mail
/// server's password.
public enum SecretSource: Sendable, Equatable {
    case environment(String)
    case file(String)

    /// Why a secret could not be had, in words that say how to fix it.
    public struct Unavailable: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// `what` names the secret in messages ("the directory password").
    public func read(_ what: String = "the password") throws -> String {
        switch self {
        case let .environment(name):
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw Unavailable(description: "\(what) is to come from the environment variable \(name), which is not set")
            }
            return value
        case let .file(path):
            // As ssh does with keys: a secret others can read is no longer a secret.
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
                throw Unavailable(description: "\(what) file \(path) can be read or changed by others (mode "
                                  + String(info.st_mode & 0o777, radix: 8) + "): chmod 600 it, owned by the user that runs mailaudit")
            }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw Unavailable(description: "cannot read \(what) file \(path)")
            }
            let secret = text.trimmingCharacters(in: .newlines)
            guard !secret.isEmpty else { throw Unavailable(description: "\(what) file \(path) is empty") }
            return secret
        }
    }
}
