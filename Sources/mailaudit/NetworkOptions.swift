import ArgumentParser
import Foundation
import Site

/// How mailaudit reaches DNS and HTTPS; shared by every command that checks domains.
struct NetworkOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "DNS-over-HTTPS resolver URL (RFC 8484). Every name, including those HTTPS connects to, is resolved through it.",
        discussion: "Default: $MAILAUDIT_RESOLVER, else \(DomainCheckerKit.defaultResolver).", valueName: "url"))
    var resolver: String?

    @Option(name: .long, help: ArgumentHelp(
        "PEM file of CA certificates to trust, besides the system's, for the resolver and for HTTPS fetches. Verification is never turned off.",
        discussion: "Default: $MAILAUDIT_CA_FILE, else the system's CA bundle alone.", valueName: "path"))
    var caFile: String?

    @Option(name: .long, help: ArgumentHelp("DoH request method: post or get.", valueName: "method"))
    var dohMethod: String = "post"

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for one DNS answer before one retry.", valueName: "seconds"))
    var dnsTimeout: Double = 5

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for an HTTPS fetch (MTA-STS policy, tenant discovery).", valueName: "seconds"))
    var httpsTimeout: Double = 10

    @Option(name: .long, help: ArgumentHelp(
        "Stop asking after this many seconds: what is not checked by then is reported as error (could not check).",
        discussion: "Default 900 (15 minutes). A frozen resolver or web server then costs at most this long.", valueName: "seconds"))
    var runDeadline: Double = 900

    var resolverURL: String {
        resolver ?? ProcessInfo.processInfo.setting("MAILAUDIT_RESOLVER") ?? DomainCheckerKit.defaultResolver
    }

    var caFilePath: String? {
        caFile ?? ProcessInfo.processInfo.setting("MAILAUDIT_CA_FILE")
    }

    func validate() throws {
        let url = resolverURL.lowercased()
        guard url.hasPrefix("https://") else {
            throw ValidationError("--resolver must be an https:// URL, got \(resolverURL)")
        }
        guard ["post", "get"].contains(dohMethod.lowercased()) else {
            throw ValidationError("--doh-method must be post or get")
        }
        guard dnsTimeout > 0, dnsTimeout <= 120 else { throw ValidationError("--dns-timeout must be between 0 and 120 seconds") }
        guard httpsTimeout > 0, httpsTimeout <= 300 else { throw ValidationError("--https-timeout must be between 0 and 300 seconds") }
        guard runDeadline >= 1, runDeadline <= 86_400 else { throw ValidationError("--run-deadline must be between 1 and 86400 seconds") }
        if let path = caFilePath {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ValidationError("CA file \(path) does not exist or cannot be read")
            }
        }
    }
}
