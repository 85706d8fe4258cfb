import ConfigFile
import Foundation

/// site.yaml `console:`: how `mailaudit serve` may be reached. On a loopback address it serves
/// plain HTTP; anywhere else it needs its own TLS certificate, or `behindProxy: true` with the
/// reverse proxy's address (which then terminates TLS and is the only client let in).
public struct ConsoleSettings: Sendable, Equatable {
    /// `tls: {certificate: PEM, key: PEM}`.
    public var certificateFile: String?
    public var keyFile: String?
    public var behindProxy = false
    /// The reverse proxy's address: with behindProxy, requests from any other address are refused.
    public var proxyAddress: String?
    /// Minutes without a request after which a session ends (at most 30), and its absolute limit in hours (at most 12).
    public var idleMinutes = 30
    public var absoluteHours = 12

    public init() {}

    public var hasTLS: Bool { certificateFile != nil && keyFile != nil }

    static func read(_ console: YAMLMapping) throws -> ConsoleSettings {
        try console.allowOnly(["tls", "behindProxy", "proxyAddress", "idleMinutes", "absoluteHours"])
        var settings = ConsoleSettings()
        if let tls = try console.mapping("tls") {
            try tls.allowOnly(["certificate", "key"])
            guard let certificate = try tls.path("certificate"), let key = try tls.path("key") else {
                throw tls.error("certificate", "tls needs both certificate: and key: (PEM files)")
            }
            settings.certificateFile = certificate
            settings.keyFile = key
        }
        settings.behindProxy = try console.bool("behindProxy") ?? false
        settings.proxyAddress = try console.string("proxyAddress")
        if settings.behindProxy && settings.proxyAddress == nil {
            throw console.error("proxyAddress", "behindProxy: true needs the reverse proxy's address, the only client then let in")
        }
        settings.idleMinutes = try console.int("idleMinutes", in: 1...30) ?? 30
        settings.absoluteHours = try console.int("absoluteHours", in: 1...12) ?? 12
        return settings
    }
}
