import Foundation
import XCTest

/// The web console as its users meet it: `mailaudit serve` over the demo authority, driven in
/// headless Chromium by selenium (Tests/Browser/console_check.py), with axe-core on every page.
final class ConsoleTests: XCTestCase {
    static let hostileName = "Cllr <img src=x onerror=\"window.__pwned=true\"><script>window.__pwned=true</script> Shaw"

    /// Adds a console user, the password on standard input; returns the TOTP secret (base32).
    private func addUser(_ site: DemoSite, _ name: String, role: String, password: String) throws -> String {
        let process = Process()
        process.executableURL = Fixtures.executable
        process.arguments = ["users", "add", name, "--role", role, "--config", site.site.path]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data((password + "\n").utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, stderr)
        XCTAssertFalse(text.contains(password), "the password is never printed")
        let uri = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("otpauth://totp/") }, text)
        let query = try XCTUnwrap(URLComponents(string: String(uri))?.queryItems)
        return try XCTUnwrap(query.first { $0.name == "secret" }?.value)
    }

    /// Starts `mailaudit serve` on a free loopback port and returns it once it listens.
    private func serve(_ site: DemoSite, host: String = "127.0.0.1", scheme: String = "http") throws -> (Process, String) {
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...45_000)
            let process = Process()
            process.executableURL = Fixtures.executable
            process.arguments = ["serve", "--config", site.site.path, "--listen", "\(host):\(port)"]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(20)
            var seen = ""
            while Date() < deadline && process.isRunning {
                let chunk = errors.fileHandleForReading.availableData
                seen += String(decoding: chunk, as: UTF8.self)
                if seen.contains("mailaudit console listening on \(scheme)://\(host):\(port)") { return (process, "\(scheme)://\(host):\(port)") }
                if chunk.isEmpty { Thread.sleep(forTimeInterval: 0.05) }
            }
            process.terminate()
            process.waitUntilExit()
        }
        throw XCTSkip("no free port for the console")
    }

    /// `users`: add (password from standard input, never printed), list, disable, enable, reset;
    /// a short password, a duplicate or an unknown user is refused with exit 2.
    func testUsersOnTheCommandLine() throws {
        let site = try DemoSite.make(self, name: "console-users")
        let first = try addUser(site, "jane.doe", role: "monitoring-officer", password: "a long enough passphrase")
        func users(_ words: [String], stdin: String? = nil) throws -> CommandRun {
            guard let stdin else { return try site.run(["users"] + words) }
            let file = site.folder.appendingPathComponent("stdin-\(UUID().uuidString)")
            try stdin.write(to: file, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "exec \"$0\" \"$@\" < \"\(file.path)\"", Fixtures.executable.path, "users"] + words + ["--config", site.site.path]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return CommandRun(status: process.terminationStatus, stdout: stdout, stderr: stderr)
        }
        XCTAssertTrue(try users(["list"]).stdoutText.contains("jane.doe                 monitoring-officer  active"))
        let short = try users(["add", "bob", "--role", "viewer"], stdin: "short\n")
        XCTAssertEqual(short.status, 2); XCTAssertTrue(short.stderr.contains("at least 12 characters"), short.stderr)
        let again = try users(["add", "jane.doe", "--role", "viewer"], stdin: "another long passphrase\n")
        XCTAssertEqual(again.status, 2); XCTAssertTrue(again.stderr.contains("exists already"), again.stderr)
        let odd = try users(["add", "jane doe<script>", "--role", "viewer"], stdin: "another long passphrase\n")
        XCTAssertEqual(odd.status, 2)
        XCTAssertEqual(try users(["disable", "jane.doe"]).status, 0)
        XCTAssertTrue(try users(["list"]).stdoutText.contains("disabled"))
        XCTAssertEqual(try users(["enable", "jane.doe"]).status, 0)
        let reset = try users(["reset", "jane.doe"], stdin: "a new long passphrase\n")
        XCTAssertEqual(reset.status, 0, reset.stderr)
        let secret = try XCTUnwrap(reset.stdoutText.range(of: "secret=").map { String(reset.stdoutText[$0.upperBound...].prefix { $0 != "&" }) })
        XCTAssertNotEqual(secret, first, "a reset gives a new one-time-code secret")
        XCTAssertEqual(try users(["disable", "nobody"]).status, 2)
        let badRole = try users(["add", "x.y", "--role", "admin"], stdin: "another long passphrase\n")
        XCTAssertEqual(badRole.status, 2)
    }

    /// Off the loopback only with TLS (or behind a named proxy); with TLS it serves HTTPS.
    func testServeRefusesTheNetworkWithoutTLSAndServesTLS() throws {
        let fixtures = try Fixtures.load()
        let site = try DemoSite.make(self, name: "console-tls")
        let open = try site.run(["serve"], ["--listen", "0.0.0.0:18080"])
        XCTAssertEqual(open.status, 2)
        XCTAssertTrue(open.stderr.contains("0.0.0.0 is not a loopback address") && open.stderr.contains("console.tls"), open.stderr)
        let original = try String(contentsOf: site.site, encoding: .utf8)
        try (original + "\nconsole: {behindProxy: true}\n").write(to: site.site, atomically: true, encoding: .utf8)
        let proxy = try site.run(["serve"], ["--listen", "0.0.0.0:18080"])
        XCTAssertEqual(proxy.status, 2)
        XCTAssertTrue(proxy.stderr.contains("proxyAddress"), proxy.stderr)
        // The fixture's certificate names the fixture's own address.
        let ip = try XCTUnwrap(URL(string: fixtures.resolverURL)?.host)
        let ca = URL(fileURLWithPath: fixtures.caFile).deletingLastPathComponent()
        try (original + "\nconsole: {tls: {certificate: \(ca.appendingPathComponent("doh.pem").path), key: \(ca.appendingPathComponent("doh.key").path)}}\n")
            .write(to: site.site, atomically: true, encoding: .utf8)
        let (server, base) = try serve(site, host: ip, scheme: "https")
        defer { server.terminate(); server.waitUntilExit() }
        let answer = try CommandRun.run(URL(fileURLWithPath: "/usr/bin/curl"),
                                        ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", fixtures.caFile, "\(base)/sign-in"])
        XCTAssertEqual(answer.stdoutText, "200", answer.stderr)
        let plain = try CommandRun.run(URL(fileURLWithPath: "/usr/bin/curl"),
                                       ["-s", "-o", "/dev/null", "-w", "%{http_code}", base.replacingOccurrences(of: "https:", with: "http:") + "/sign-in"])
        XCTAssertNotEqual(plain.stdoutText, "200", "no plain HTTP beside the TLS")
    }

    func testTheConsoleInABrowser() throws {
        guard let python = ProcessInfo.processInfo.environment["MAILAUDIT_TEST_BROWSER_PYTHON"],
              let axe = ProcessInfo.processInfo.environment["MAILAUDIT_TEST_AXE"] else {
            if ProcessInfo.processInfo.environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil {
                XCTFail("MAILAUDIT_TEST_BROWSER_PYTHON/MAILAUDIT_TEST_AXE are not set: run ./scripts/test")
            }
            throw XCTSkip("the browser tools are not installed (scripts/install-browser-tools)")
        }
        let site = try DemoSite.make(self, name: "console")
        // A Member whose display name is an attack on the page.
        let ldif = try String(contentsOf: DemoSite.root.appendingPathComponent("examples/members.ldif"), encoding: .utf8)
        let copy = site.folder.appendingPathComponent("members.ldif")
        try ldif.replacingOccurrences(of: "displayName: Cllr Linda Shaw", with: "displayName: \(Self.hostileName)")
            .write(to: copy, atomically: true, encoding: .utf8)
        try String(contentsOf: site.site, encoding: .utf8)
            .replacingOccurrences(of: DemoSite.root.appendingPathComponent("examples/members.ldif").path, with: copy.path)
            .write(to: site.site, atomically: true, encoding: .utf8)
        let first = try site.audit()
        XCTAssertEqual(first.run.status, 1, first.run.stderr)
        let ben = try XCTUnwrap(first.members["Ben Whitlock"]?["id"] as? String)
        let hostile = try XCTUnwrap(first.members[Self.hostileName]?["id"] as? String, "\(first.members.keys)")

        var users: [String: [String: String]] = [:]
        let weber = try XCTUnwrap(first.members["Cllr Jürgen Weber"]?["id"] as? String)
        for (name, role) in [("mo.jane", "monitoring-officer"), ("viewer.vic", "viewer"), ("locked.lee", "viewer"), ("ict.ian", "ict-provider"),
                             ("mo.max", "monitoring-officer")] {
            let password = "a long passphrase for \(name)"
            users[name] = ["password": password, "secret": try addUser(site, name, role: role, password: password)]
        }
        let setup = site.folder.appendingPathComponent("console-setup.json")
        try JSONSerialization.data(withJSONObject: [
            "register": site.register.path, "users": users, "grantMember": ben, "grantControl": "account.mfa",
            "hostileMember": hostile, "until": DemoSite.day(40), "assessMember": weber,
            "concurrent": [[try XCTUnwrap(first.members["Owen Davies"]?["id"] as? String), "account.locked"],
                           [try XCTUnwrap(first.members["Priya Natarajan"]?["id"] as? String), "account.enabled"]],
        ]).write(to: setup)

        let (server, base) = try serve(site)
        defer { server.terminate(); server.waitUntilExit() }
        let artefacts = ProcessInfo.processInfo.environment["MAILAUDIT_TEST_ARTEFACTS"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-artefacts")
        let check = try CommandRun.run(URL(fileURLWithPath: python), [DemoSite.root.appendingPathComponent("Tests/Browser/console_check.py").path,
                                                                      base, setup.path, axe, artefacts.path])
        XCTAssertEqual(check.status, 0, check.stderr)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: check.stdout) as? [String: Any], check.stdoutText + check.stderr)
        try? check.stdout.write(to: artefacts.appendingPathComponent("console-check.json"))

        // Not signed in: sent to sign in; a POST is refused.
        XCTAssertEqual(result["unsignedRedirect"] as? String, "\(base)/sign-in")
        XCTAssertEqual(result["unsignedPost"] as? Int, 403)
        let fields = (result["signInFields"] as? [[String]]) ?? []
        XCTAssertEqual(fields, [["username", "username"], ["password", "current-password"], ["code", "one-time-code"]])
        let headers = result["headers"] as? [String: String] ?? [:]
        XCTAssertTrue(headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true, "\(headers)")
        XCTAssertFalse(headers["content-security-policy"]?.contains("unsafe-inline") ?? true)
        XCTAssertEqual(headers["x-content-type-options"], "nosniff")
        XCTAssertNotNil(headers["referrer-policy"])

        // Password and one-time code: the dashboard, with an HttpOnly, Secure, SameSite=Strict cookie.
        XCTAssertEqual(result["moSignedIn"] as? String, "\(base)/")
        let cookie = try XCTUnwrap((result["cookie"] as? [[String: Any]])?.first)
        XCTAssertEqual(cookie["httpOnly"] as? Bool, true)
        XCTAssertEqual(cookie["secure"] as? Bool, true)
        XCTAssertEqual(cookie["sameSite"] as? String, "Strict")
        XCTAssertTrue((result["dashboardText"] as? String ?? "").contains("For the Monitoring Officer"))

        // A hostile display name stays text.
        let shownHostile = try XCTUnwrap(result["hostile"] as? [String: Any])
        XCTAssertEqual(shownHostile["h1"] as? String, Self.hostileName)
        XCTAssertEqual(shownHostile["injected"] as? Int, 0)
        XCTAssertEqual(shownHostile["flag"] as? Bool, false)

        // The Monitoring Officer's decision, recorded under their own name.
        XCTAssertTrue((result["grantControls"] as? [String])?.contains("account.mfa") == true, "\(result["grantControls"] ?? "")")
        XCTAssertTrue((result["grantNotice"] as? String ?? "").hasPrefix("Exception #1 recorded"), "\(result["grantNotice"] ?? "")")
        XCTAssertEqual((result["moWithoutToken"] as? [String: Any])?["status"] as? Int, 403, "\(result["moWithoutToken"] ?? "")")
        XCTAssertEqual(result["moWithoutTokenRecorded"] as? Int, 0)
        // A viewer: no decision form, and a forged POST with their own token is 403, nothing recorded.
        XCTAssertEqual(result["viewerSignedIn"] as? String, "\(base)/")
        XCTAssertEqual(result["viewerForms"] as? Int, 0)
        XCTAssertEqual((result["viewerForged"] as? [String: Any])?["status"] as? Int, 403, "\(result["viewerForged"] ?? "")")
        XCTAssertEqual(result["viewerForgedRecorded"] as? Int, 0)
        XCTAssertEqual(result["viewerLogStatus"] as? String, "Not allowed")
        XCTAssertEqual(result["expiredRedirect"] as? String, "\(base)/sign-in", "an idle session is sent to sign in")
        XCTAssertEqual(result["afterSignOut"] as? String, "\(base)/sign-in")
        XCTAssertTrue((result["codeReused"] as? String ?? "").contains("used already"), "\(result["codeReused"] ?? "")")
        let lockout = result["lockout"] as? [String] ?? []
        XCTAssertEqual(lockout.count, 6)
        XCTAssertTrue(lockout.prefix(4).allSatisfy { $0.contains("wrong") }, "\(lockout)")
        XCTAssertTrue(lockout[4].contains("locked") && lockout[5].contains("locked"), "\(lockout)")
        XCTAssertEqual((result["storedReport"] as? [Any])?.last as? String, "22 shown", "the stored report's own script runs under its own policy")
        XCTAssertTrue((result["diff"] as? String ?? "").hasPrefix("Compare runs"))
        let narrow = result["narrow"] as? [Int] ?? []
        XCTAssertEqual(narrow.first, narrow.last, "no horizontal scroll at 400 px")

        // The ICT provider's assessment: each answer kept when the browser closed, then recorded.
        XCTAssertTrue((result["assessmentTitle"] as? String ?? "").hasPrefix("Assessment of Bücher Town Council"), "\(result["assessmentTitle"] ?? "")")
        XCTAssertEqual(result["answeredBeforeClosing"] as? Int, 3)
        XCTAssertTrue((result["draftListed"] as? String ?? "").contains("3 answers saved"), "\(result["draftListed"] ?? "")")
        XCTAssertEqual(result["savedAfterResume"] as? Int, 3)
        XCTAssertGreaterThan(result["answeredInAll"] as? Int ?? 0, 3)
        XCTAssertTrue((result["assessmentResult"] as? String ?? "").contains("passed"), "\(result["assessmentResult"] ?? "")")

        // Two decisions at the same moment from two browsers: both recorded.
        XCTAssertEqual(result["concurrentRecorded"] as? Int, 2, "\(result["concurrentNotices"] ?? "")")
        XCTAssertTrue((result["concurrentNotices"] as? [String] ?? []).allSatisfy { $0.hasPrefix("Exception #") }, "\(result["concurrentNotices"] ?? "")")

        XCTAssertTrue((result["revokeNotice"] as? String ?? "").contains("revoked"), "\(result["revokeNotice"] ?? "")")
        XCTAssertEqual(result["revocations"] as? Int, 1)

        // axe-core on every page: no serious or critical violation.
        let pages = try XCTUnwrap(result["axe"] as? [String: [String: Any]])
        XCTAssertEqual(Set(pages.keys), ["sign-in", "dashboard", "member", "organisations", "runs", "log", "stored-report", "diff",
                                         "assessments", "assessment"])
        for (page, run) in pages {
            XCTAssertNil(run["error"], "axe on \(page): \(run["error"] ?? "")")
            let bad = (run["violations"] as? [[String: Any]] ?? []).filter { ["serious", "critical"].contains($0["impact"] as? String ?? "") }
            XCTAssertTrue(bad.isEmpty, "axe on \(page): \(bad)")
        }

        // The next audit applies the decision; the log holds the sign-ins, failures and the decision.
        let next = try site.audit()
        XCTAssertEqual(next.members["Ben Whitlock"]?["verdict"] as? String, "exception", "\(next.members["Ben Whitlock"] ?? [:])")
        XCTAssertEqual(next.members["Cllr Jürgen Weber"]?["verdict"] as? String, "compliant", "the console's assessment covers the council")
        let assessment = next.members["Cllr Jürgen Weber"]?["assessment"] as? [String: Any]
        XCTAssertEqual(assessment?["assessor"] as? String, "ict.ian (ICT provider)")
        XCTAssertEqual(assessment?["itContact"] as? String, "R Patel, IT manager")
        let exceptions = try site.run(["exceptions", "list"], ["--format", "json"])
        let grant = try XCTUnwrap((try JSONSerialization.jsonObject(with: exceptions.stdout) as? [[String: Any]])?.first)
        XCTAssertEqual(grant["decidedBy"] as? String, "mo.jane (Monitoring Officer)")
    }
}
