/// Why the directory could not be read. Every case names the server (or file) and the cause;
/// none leaves a partial member list behind.
public enum DirectoryError: Error, Sendable, Equatable, CustomStringConvertible {
    case connect(server: String, why: String)
    case tls(server: String, why: String)
    case bind(server: String, why: String)
    case search(server: String, base: String, why: String)
    case limit(server: String, base: String, why: String)
    case undecodable(dn: String, attribute: String, why: String)
    case ldif(file: String, line: Int, why: String)
    case configuration(String)
    /// Two entries give the same Member id: one of them would lose its verdict.
    case duplicateID(source: String, id: String, dns: [String])

    public var description: String {
        switch self {
        case let .connect(server, why): return "\(server): cannot connect: \(why)"
        case let .tls(server, why): return "\(server): TLS failed: \(why)"
        case let .bind(server, why): return "\(server): bind refused: \(why)"
        case let .search(server, base, why): return "\(server): search under \(base) failed: \(why)"
        case let .limit(server, base, why): return "\(server): search under \(base) hit a server limit (\(why)); the member list would be incomplete, so nothing is reported"
        case let .undecodable(dn, attribute, why): return "\(dn): attribute \(attribute) cannot be read: \(why)"
        case let .ldif(file, line, why): return "\(file):\(line): \(why)"
        case let .configuration(message): return message
        case let .duplicateID(source, id, dns):
            return "\(source): \(dns.count) entries have the same Member id \(id) (\(dns.joined(separator: "; "))); "
                + "each Member needs an id of their own, so nothing is reported until the directory is corrected"
        }
    }
}
