import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdAuth
import NIOCore
import Register

/// Who is signed in, from the session in the register.
public struct ConsoleIdentity: Sendable {
    public var username: String
    public var role: ConsoleRole
    public var csrfToken: String
    public var tokenHash: String
}

/// Each request's context: the identity found by `SessionAuthenticator`, and the client's address.
public struct ConsoleContext: AuthRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: ConsoleIdentity?
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's address as logged ("127.0.0.1").
    var address: String { remoteAddress?.ipAddress ?? "unknown" }
}

enum ConsoleCookie {
    static let session = "mailaudit_session"
    /// Before sign-in: ties the sign-in form to this browser (a forged sign-in form has no such cookie).
    static let signIn = "mailaudit_signin"

    static func make(_ name: String, value: String, maxAge: Int? = nil) -> Cookie {
        // HttpOnly: no script reads it; Secure: never sent over plain HTTP except to loopback,
        // which browsers treat as secure; SameSite=Strict: no other site's page sends it.
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: true, httpOnly: true, sameSite: .strict)
    }
}

/// Headers on every response: a Content-Security-Policy with no inline script or style (the
/// console's style and script are files of its own), no framing, no sniffing, no referrer, no caching.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext
    static let policy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        // A stored HTML report brings its own policy (hashes of its own style and script).
        if response.headers[.contentSecurityPolicy] == nil { response.headers[.contentSecurityPolicy] = Self.policy }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}

/// Behind a reverse proxy, only the proxy may connect: anything else is refused before routing.
struct ProxyOnlyMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext
    let proxyAddress: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.address == proxyAddress else {
            return ConsolePages.plain(.forbidden, "This console is reached through its reverse proxy only.")
        }
        return try await next(request, context)
    }
}

/// Finds the session named by the cookie in the register, within its idle and absolute limits.
struct SessionAuthenticator: AuthenticatorMiddleware {
    typealias Context = ConsoleContext
    typealias Identity = ConsoleIdentity
    let register: AuditRegister
    let idle: TimeInterval
    let absolute: TimeInterval

    func authenticate(request: Request, context: Context) async throws -> ConsoleIdentity? {
        guard let token = request.cookies[ConsoleCookie.session]?.value, !token.isEmpty else { return nil }
        let hash = ConsoleAccounts.tokenHash(token)
        guard let session = try register.session(tokenHash: hash, now: Date(), idle: idle, absolute: absolute),
              let role = ConsoleRole(rawValue: session.role) else { return nil }
        return ConsoleIdentity(username: session.username, role: role, csrfToken: session.csrfToken, tokenHash: hash)
    }
}

/// Every state-changing request is a POST carrying the session's CSRF token; a GET never changes anything.
enum CSRF {
    static func matches(_ given: String?, _ expected: String) -> Bool {
        guard let given, given.utf8.count == expected.utf8.count else { return false }
        // Compared in constant time: the token is a secret.
        return zip(given.utf8, expected.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
