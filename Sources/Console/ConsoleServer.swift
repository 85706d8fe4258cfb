import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdAuth
import HummingbirdBcrypt
import HummingbirdTLS
import NIOSSL
import Policy
import Register
import Report
import Site

/// `mailaudit serve`: the register and the reports on the web, and the Monitoring Officer's
/// decisions made there. Every rule is the command line's: GrantCheck for grants, the register
/// for everything kept, the report's sections for what is shown.
public struct ConsoleServer: Sendable {
    let site: SiteContext
    let host: String
    let port: Int
    let results = ResultCache()
    let assessments = AssessmentSessions()

    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// Refuses an address off the loopback unless TLS is configured or a reverse proxy is named.
    public init(site: SiteContext, host: String, port: Int) throws {
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        if !loopback && !site.site.console.hasTLS && !site.site.console.behindProxy {
            throw Refusal(description: "serve: \(host) is not a loopback address: configure console.tls (certificate and key) in \(site.site.file), "
                          + "or console.behindProxy: true with the reverse proxy's proxyAddress, so that passwords never cross the network in clear")
        }
        self.site = site
        self.host = host
        self.port = port
    }

    public func run(onRunning: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let settings = site.site.console
        var server: HTTPServerBuilder = .http1()
        var scheme = "http"
        if let certificate = settings.certificateFile, let key = settings.keyFile {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            server = try .tls(.http1(), tlsConfiguration: configuration)
            scheme = "https"
        }
        let url = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        let app = Application(router: router(), server: server, configuration: .init(address: .hostname(host, port: port), serverName: nil),
                              onServerRunning: { _ in onRunning(url) })
        try await app.runService()
    }

    // MARK: Routes

    func router() -> Router<ConsoleContext> {
        let router = Router(context: ConsoleContext.self)
        if site.site.console.behindProxy, let proxy = site.site.console.proxyAddress { router.add(middleware: ProxyOnlyMiddleware(proxyAddress: proxy)) }
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: SessionAuthenticator(register: site.register, idle: Double(site.site.console.idleMinutes) * 60,
                                                    absolute: Double(site.site.console.absoluteHours) * 3600))
        router.get("/static/console.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: ConsolePages.stylesheet)))
        }
        router.get("/sign-in") { request, context in self.signInPage(context: context) }
        router.post("/sign-in") { request, context in try await self.signIn(request, context: context) }
        router.post("/sign-out") { request, context in try await self.signOut(request, context: context) }
        router.get("/") { request, context in try await self.signedIn(context) { identity in try await self.dashboard(identity) } }
        router.get("/organisations") { _, context in try await self.signedIn(context) { identity in try await self.organisations(identity) } }
        router.get("/members/:id") { _, context in
            try await self.signedIn(context) { identity in try await self.memberPage(context.parameter("id"), identity: identity) }
        }
        router.post("/members/:id/exceptions") { request, context in
            try await self.changing(request, context, role: .monitoringOfficer) { form, identity in
                try await self.grant(memberId: context.parameter("id"), form: form, identity: identity, address: context.address)
            }
        }
        router.post("/exceptions/:id/revoke") { request, context in
            try await self.changing(request, context, role: .monitoringOfficer) { form, identity in
                try await self.revoke(Int64(context.parameter("id")) ?? -1, form: form, identity: identity, address: context.address)
            }
        }
        router.get("/assessments") { _, context in try await self.signedIn(context) { identity in try await self.assessmentsPage(identity) } }
        router.post("/assessments/start") { request, context in
            try await self.changing(request, context, role: .ictProvider) { form, identity in
                try await self.startAssessment(form: form, identity: identity, address: context.address)
            }
        }
        router.get("/assessments/:key") { _, context in
            try await self.signedIn(context) { identity in try await self.assessmentPage(context.parameter("key"), identity: identity) }
        }
        router.post("/assessments/:key/:step") { request, context in
            try await self.changing(request, context, role: .ictProvider) { form, identity in
                let key = context.parameter("key")
                switch context.parameter("step") {
                case "answer": return try await self.saveAnswer(key, form: form, identity: identity, address: context.address)
                case "contact": return try await self.saveContact(key, form: form, identity: identity)
                case "finish": return try await self.finishAssessment(key, identity: identity, address: context.address)
                case "discard": return try await self.discardAssessment(key, identity: identity, address: context.address)
                default: return ConsolePages.plain(.notFound, "No such step.")
                }
            }
        }
        router.get("/runs") { _, context in try await self.signedIn(context) { identity in try self.runs(identity) } }
        router.get("/runs/diff") { request, context in
            try await self.signedIn(context) { identity in
                try await self.diff(from: request.uri.queryParameters.get("from"), to: request.uri.queryParameters.get("to"), identity: identity)
            }
        }
        router.get("/runs/:id") { _, context in try await self.signedIn(context) { _ in try await self.storedReport(Int64(context.parameter("id")) ?? -1) } }
        router.get("/log") { _, context in
            try await self.signedIn(context) { identity in
                guard identity.role != .viewer else { return self.forbidden(identity, "The log is for the Monitoring Officer and the ICT provider.") }
                return try self.logPage(identity)
            }
        }
        return router
    }

    /// A page for a signed-in user; anyone else is sent to sign in.
    func signedIn(_ context: ConsoleContext, _ body: (ConsoleIdentity) async throws -> Response) async throws -> Response {
        guard let identity = context.identity else { return ConsolePages.redirect("/sign-in") }
        return try await body(identity)
    }

    /// A state-changing request: signed in, the session's CSRF token in the form, the role that
    /// may do it. Anything else is 403 and changes nothing.
    func changing(_ request: Request, _ context: ConsoleContext, role: ConsoleRole,
                  _ body: ([String: [String]], ConsoleIdentity) async throws -> Response) async throws -> Response {
        guard let identity = context.identity else { return ConsolePages.plain(.forbidden, "Sign in first: this request changes nothing.") }
        let form = try await Self.form(request)
        guard CSRF.matches(form["csrf"]?.first, identity.csrfToken) else {
            try? site.register.log("refused", username: identity.username, address: context.address, detail: "\(request.uri.path): missing or wrong CSRF token", at: Date())
            return forbidden(identity, "This form is out of date or did not come from the console (its security token is missing or wrong). Nothing was changed.")
        }
        guard identity.role == role else {
            try? site.register.log("refused", username: identity.username, address: context.address, detail: "\(request.uri.path): needs \(role.rawValue)", at: Date())
            return forbidden(identity, "Only the \(role.label) can do this. Nothing was changed.")
        }
        return try await body(form, identity)
    }

    func forbidden(_ identity: ConsoleIdentity?, _ message: String) -> Response {
        ConsolePages.page(.init(title: "Not allowed", organisation: site.policy.organisationName, identity: identity, problem: message, body: ""), status: .forbidden)
    }

    /// An application/x-www-form-urlencoded body (at most 64 KiB), each name with its values.
    static func form(_ request: Request) async throws -> [String: [String]] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        var fields: [String: [String]] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first.map(decode) else { continue }
            fields[name, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return fields
    }

    // MARK: Signing in and out

    func signInPage(context: ConsoleContext, username: String = "", problem: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        if context.identity != nil && problem == nil { return ConsolePages.redirect("/") }
        let token = ConsoleAccounts.randomToken()
        var response = ConsolePages.page(.init(title: "Sign in", organisation: site.policy.organisationName, identity: nil, problem: problem,
                                               body: ConsolePages.render("sign-in", ["token": token, "username": username])), status: status)
        response.setCookie(ConsoleCookie.make(ConsoleCookie.signIn, value: token, maxAge: 1800))
        return response
    }

    func signIn(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await Self.form(request)
        let now = Date()
        let username = form["username"]?.first?.trimmingCharacters(in: .whitespaces) ?? ""
        guard let token = request.cookies[ConsoleCookie.signIn]?.value, CSRF.matches(form["token"]?.first, token) else {
            return signInPage(context: context, username: username, problem: "The sign-in form had expired or did not come from this console: please sign in again.", status: .forbidden)
        }
        let address = context.address
        // An address that keeps failing is slowed down, a second more for each failure past five.
        let failures = (try? site.register.addressFailures(address, now: now)) ?? 0
        if failures >= 5 { try await Task.sleep(for: .seconds(min(failures - 4, 10))) }
        let wrong = "The username, password or one-time code is wrong."
        guard let user = try site.register.consoleUser(username), !user.disabled else {
            _ = ConsoleAccounts.passwordMatches(form["password"]?.first ?? "", user: Self.decoy)   // the same time either way
            try site.register.log("sign-in-failed", username: username, address: address, detail: "no such user, or disabled", at: now)
            return signInPage(context: context, username: username, problem: wrong, status: .unauthorized)
        }
        if let until = user.lockedUntil, until > now {
            try site.register.log("sign-in-refused", username: username, address: address, detail: "locked until \(ISO8601DateFormatter().string(from: until))", at: now)
            return signInPage(context: context, username: username, problem: Self.lockedMessage(until), status: .unauthorized)
        }
        let passwordOK = ConsoleAccounts.passwordMatches(form["password"]?.first ?? "", user: user)
        let step = ConsoleAccounts.totpStep(of: form["code"]?.first ?? "", secret: user.totpSecret, now: now)
        guard passwordOK, let step else {
            let lockedUntil = try site.register.failedSignIn(username, address: address, now: now)
            try site.register.log("sign-in-failed", username: username, address: address, detail: passwordOK ? "wrong one-time code" : "wrong password", at: now)
            return signInPage(context: context, username: username, problem: lockedUntil.map(Self.lockedMessage) ?? wrong, status: .unauthorized)
        }
        let session = ConsoleAccounts.randomToken(), csrf = ConsoleAccounts.randomToken()
        guard try site.register.signedIn(username, totpStep: step, address: address, tokenHash: ConsoleAccounts.tokenHash(session), csrfToken: csrf, now: now) else {
            try site.register.log("sign-in-failed", username: username, address: address, detail: "one-time code used before", at: now)
            return signInPage(context: context, username: username, problem: "That one-time code has been used already: wait for the next one.", status: .unauthorized)
        }
        try site.register.log("sign-in", username: username, address: address, detail: user.role, at: now)
        var response = ConsolePages.redirect("/")
        // A new cookie at every sign-in: a session id planted before sign-in is never promoted.
        response.setCookie(ConsoleCookie.make(ConsoleCookie.session, value: session))
        response.setCookie(ConsoleCookie.make(ConsoleCookie.signIn, value: "", maxAge: 0))
        return response
    }

    /// For an unknown username the password is checked against this, so that the answer takes
    /// as long as for a real one.
    static let decoy = AuditRegister.ConsoleUser(username: "", role: "", passwordHash: Bcrypt.hash(ConsoleAccounts.randomToken(), cost: ConsoleAccounts.bcryptCost),
                                                 totpSecret: "", disabled: true, failedSignIns: 0, lockedUntil: nil, lastTOTPStep: 0, createdAt: Date())

    static func lockedMessage(_ until: Date) -> String {
        let time = ISO8601DateFormatter().string(from: until)
        return "After five failed sign-ins this account is locked until \(time.dropLast().replacingOccurrences(of: "T", with: " ")) UTC."
    }

    func signOut(_ request: Request, context: ConsoleContext) async throws -> Response {
        guard let identity = context.identity else { return ConsolePages.redirect("/sign-in") }
        let form = try await Self.form(request)
        guard CSRF.matches(form["csrf"]?.first, identity.csrfToken) else { return forbidden(identity, "This form did not come from the console.") }
        try site.register.endSession(tokenHash: identity.tokenHash)
        try site.register.log("sign-out", username: identity.username, address: context.address, detail: "", at: Date())
        var response = ConsolePages.redirect("/sign-in")
        response.setCookie(ConsoleCookie.make(ConsoleCookie.session, value: "", maxAge: 0))
        return response
    }
}

/// The latest run's result, decoded once per run rather than per request, with its Members in
/// the order the pages list them. The domains' evidence is left out: the pages that show it (a
/// run's report) read the stored result themselves.
actor ResultCache {
    struct Latest: Sendable {
        var result: AuditResult
        var membersInOrder: [MemberResult]
        var byId: [String: Int]
        /// The dashboard's body: it is written from the stored run alone, so once per run.
        var dashboard: String?
    }
    private var cached: (runId: Int64, latest: Latest)?

    func latest(_ register: AuditRegister) throws -> Latest? {
        guard let id = try register.latestResultRunId() else { return nil }
        if let cached, cached.runId == id { return cached.latest }
        guard var result = try register.result(runId: id, domains: false) else { return nil }
        result.trend = (try? register.trend(endingWith: result)) ?? []
        let ordered = result.members.sorted(by: HTMLReport.attentionOrderForConsole)
        let latest = Latest(result: result, membersInOrder: ordered,
                            byId: Dictionary(result.members.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first }))
        cached = (id, latest)
        return latest
    }

    /// The dashboard's body for the latest run, written by `make` the first time.
    func dashboard(_ register: AuditRegister, make: (Latest) -> String) throws -> String? {
        guard let latest = try latest(register) else { return nil }
        if let body = latest.dashboard { return body }
        let body = make(latest)
        cached?.latest.dashboard = body
        return body
    }
}

extension ConsoleContext {
    /// A path parameter as the user named it (percent-decoded: a Member's id may be a DN).
    func parameter(_ name: String) -> String {
        let raw = parameters.get(name) ?? ""
        return raw.removingPercentEncoding ?? raw
    }
}
