import CIDN2
import CPSL
import DoH
import Foundation

/// Turning what a user typed into the name that DNS is asked about.
public enum DomainNames {
    public enum InvalidDomain: Error, CustomStringConvertible {
        case empty
        case notConvertible(String, String)
        case invalid(String, String)

        public var description: String {
            switch self {
            case .empty: return "empty domain name"
            case let .notConvertible(name, why): return "\(name): not a valid internationalised domain name (\(why))"
            case let .invalid(name, why): return "\(name): not a valid domain name (\(why))"
            }
        }
    }

    /// Lower-case ASCII with A-labels (IDNA 2008, non-transitional, via libidn2); no trailing dot.
    public static func asciiName(_ input: String) throws -> String {
        var name = input.trimmingCharacters(in: .whitespaces)
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty else { throw InvalidDomain.empty }
        if !name.allSatisfy(\.isASCII) {
            var output: UnsafeMutablePointer<CChar>?
            let rc = idn2_to_ascii_8z(name, &output, mailaudit_idn2_flags())
            defer { free(output) }
            guard rc == Int32(IDN2_OK.rawValue), let output else {
                throw InvalidDomain.notConvertible(input, String(cString: idn2_strerror(rc)))
            }
            name = String(cString: output)
        }
        name = name.lowercased()
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw InvalidDomain.invalid(input, "it needs at least two labels") }
        for label in labels {
            guard !label.isEmpty, label.count <= 63 else { throw InvalidDomain.invalid(input, "empty or over-long label") }
            guard label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
                  label.first != "-", label.last != "-" else {
                throw InvalidDomain.invalid(input, "label \"\(label)\" has characters a host name cannot have")
            }
        }
        guard name.utf8.count <= 253 else { throw InvalidDomain.invalid(input, "longer than 253 octets") }
        return name
    }
}

/// The organisational domain (RFC 7489 3.2) from the Public Suffix List, through libpsl. The
/// list is the system's newest (Debian's `publicsuffix` package), else libpsl's built-in one.
///
/// At the C boundary: the libpsl context is loaded once and only read after that (libpsl's
/// look-ups do not change it), so threads may share it without a lock.
public final class OrganizationalDomain: @unchecked Sendable {
    public static let shared = OrganizationalDomain()
    private let context: OpaquePointer?

    private init() {
        context = psl_latest(nil) ?? psl_builtin()
    }

    /// The registrable domain of `name`, or `name` itself when it is a public suffix or unknown.
    public func of(_ name: String) -> String {
        let normalized = DNSName.normalize(name)
        guard let context else { return normalized }
        // libpsl returns a pointer into its argument: the C string must live until it is copied.
        return normalized.withCString { argument in
            guard let registrable = psl_registrable_domain(context, argument) else { return normalized }
            return String(cString: registrable)
        }
    }
}
