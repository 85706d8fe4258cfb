import Curl
import DoH
import Foundation
import XCTest

/// Hangs and silent deaths: whatever a server or the machine does, the tool ends with a message
/// and exit 0, 1 or 2, within its time-outs.
final class FaultToleranceTests: XCTestCase {
    /// A TCP server on loopback that misbehaves: `silent` accepts and never speaks; `reset`
    /// reads the first request and resets the connection; `midread` answers the bind as an LDAP
    /// server would, then dies (resets) once the search is asked.
    private func misbehavingServer(_ mode: String) throws -> (process: Process, port: Int) {
        let script = """
        import socket, struct, sys
        server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0)); server.listen(16)
        print(server.getsockname()[1], flush=True)
        held = []
        while True:
            connection, _ = server.accept()
            if sys.argv[1] == "silent":
                held.append(connection)
                continue
            request = connection.recv(4096)
            if sys.argv[1] == "midread" and len(request) > 4:
                # BindResponse, success, for the request's message id.
                connection.sendall(bytes([0x30, 0x0C, 0x02, 0x01, request[4], 0x61, 0x07, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]))
                connection.recv(4096)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, mode]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        addTeardownBlock { process.terminate(); process.waitUntilExit() }
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
        return (process, try XCTUnwrap(Int(String(decoding: line, as: UTF8.self))))
    }

    private func directorySite(_ url: String, extra: String = "") throws -> URL {
        let fixtures = try Fixtures.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let site = folder.appendingPathComponent("site.yaml")
        try """
        directory:
          url: \(url)
          caFile: \(fixtures.caFile)
          bindDN: cn=mailaudit,dc=cpca,dc=test
          password: {env: MAILAUDIT_FAULT_PASSWORD}
          baseDN: dc=cpca,dc=test
          members: {group: "cn=Members,dc=cpca,dc=test"}
          networkTimeout: 1
          searchTimeout: 2
        \(extra)
        policy: \(DemoSite.root.appendingPathComponent("examples/demo-policy.yaml").path)
        """.write(to: site, atomically: true, encoding: .utf8)
        return site
    }

    func testAnLDAPSServerThatNeverCompletesTheHandshakeEndsWithinItsTimeOut() throws {
        let (_, port) = try misbehavingServer("silent")
        let site = try directorySite("ldaps://127.0.0.1:\(port)")
        let started = Date()
        let run = try CommandRun.mailaudit(["members", "--config", site.path], environment: ["MAILAUDIT_FAULT_PASSWORD": "x"])
        let took = Date().timeIntervalSince(started)
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(run.stderr.contains("did not complete the TLS handshake"), run.stderr)
        XCTAssertLessThan(took, 10, "bounded by twice the network time-out, not for ever")
    }

    func testADirectoryThatDropsTheConnectionIsAnErrorNotASignal() throws {
        let (_, port) = try misbehavingServer("reset")
        let (_, midread) = try misbehavingServer("midread")
        for (url, extra) in [("ldap://127.0.0.1:\(port)", ""), ("ldaps://127.0.0.1:\(port)", ""),
                             ("ldap://127.0.0.1:\(midread)", "  allowInsecure: true")] {
            let site = try directorySite(url, extra: extra)
            let run = try CommandRun.mailaudit(["members", "--config", site.path], environment: ["MAILAUDIT_FAULT_PASSWORD": "x"])
            XCTAssertEqual(run.status, 2, "\(url): exit 2 with a message, never SIGPIPE (141): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(url), run.stderr)
        }
    }

    /// `ulimit -n 48`: a run of many domains either finishes without a false failure or stops
    /// with a clear error about descriptors.
    func testALowDescriptorLimitGivesNoFalseFailure() throws {
        let fixtures = try Fixtures.load()
        let domains = (0..<max(1, min(fixtures.bulkDomains, 40))).map { String(format: "bulk%03d.test", $0) } + ["good.test"]
        func checkDomains(limit: Int?) throws -> CommandRun {
            let command = [Fixtures.executable.path, "check-domain", "--format", "json", "--concurrency", "16", "--resolver", fixtures.resolverURL,
                           "--ca-file", fixtures.caFile, "--microsoft-login-url", fixtures.microsoftLogin, "--dns-timeout", "2"] + domains
            let quoted = command.map { "'\($0)'" }.joined(separator: " ")
            return try CommandRun.run(URL(fileURLWithPath: "/bin/bash"), ["-c", (limit.map { "ulimit -n \($0); " } ?? "") + "exec " + quoted])
        }
        func statuses(_ run: CommandRun) -> [String: String] {
            let reports = (try? JSONSerialization.jsonObject(with: run.stdout) as? [[String: Any]]) ?? []
            var out: [String: String] = [:]
            for report in reports {
                for check in (report["checks"] as? [[String: Any]]) ?? [] {
                    out["\(report["asciiDomain"] as? String ?? "") \(check["id"] as? String ?? "")"] = check["status"] as? String
                }
            }
            return out
        }
        let baseline = statuses(try checkDomains(limit: nil))
        XCTAssertFalse(baseline.isEmpty)
        for limit in [48, 24] {
            let run = try checkDomains(limit: limit)
            XCTAssertTrue([0, 2].contains(run.status), "ulimit -n \(limit): exit \(run.status), never a crash: \(run.stderr)")
            if run.status == 2 {
                XCTAssertTrue(run.stderr.contains("file descriptors") || run.stderr.contains("ran out of resources"), run.stderr)
            }
            for (key, status) in statuses(run) where status != baseline[key] {
                XCTAssertEqual(status, "error", "ulimit -n \(limit): \(key) was \(baseline[key] ?? "?"), now \(status): a false result")
            }
        }
    }

    /// checks.runDeadline: what is not checked by then is `error`, the report is written, exit 1.
    func testTheRunDeadlineEndsAFrozenRun() throws {
        let fixtures = try Fixtures.load()
        guard !fixtures.faultyResolverURL.isEmpty else { throw XCTSkip("faulty-doh is not running") }
        try "*good.test timeout\n".write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8)
        defer { try? "".write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8) }
        let site = try DemoSite.make(self, name: "deadline")
        try String(contentsOf: site.site, encoding: .utf8)
            .replacingOccurrences(of: "resolver: \(fixtures.resolverURL)", with: "resolver: \(fixtures.faultyResolverURL)")
            .replacingOccurrences(of: "dnsTimeout: 1}", with: "dnsTimeout: 20, runDeadline: 3}")
            .write(to: site.site, atomically: true, encoding: .utf8)
        let out = site.folder.appendingPathComponent("report")
        let started = Date()
        let (run, json, members) = try site.audit(["--out", out.path])
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "the deadline, not 2 x 20 s a question, bounds the run")
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertEqual(members["Cllr Sarah Mills"]?["verdict"] as? String, "unknown")
        let warnings = (json["warnings"] as? [String]) ?? []
        XCTAssertTrue(warnings.contains { $0.contains("run deadline") }, "\(warnings)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("index.html").path))
    }

    func testDuplicateMemberIDsAreRefusedNamingBoth() throws {
        let site = try DemoSite.make(self, name: "duplicates")
        let ldif = try String(contentsOf: DemoSite.root.appendingPathComponent("examples/members.ldif"), encoding: .utf8)
        let copy = site.folder.appendingPathComponent("members.ldif")
        // Kate Ward's entry given Sarah Mills's objectGUID.
        let sarah = try XCTUnwrap(ldif.components(separatedBy: "\n").first { $0.hasPrefix("objectGUID:: AACaHAAAAECAAAAAAAAACA") })
        let kate = try XCTUnwrap(ldif.components(separatedBy: "\n").first { $0.hasPrefix("objectGUID:: AACaHAAAAECAAAAAAAAAFg") })
        try ldif.replacingOccurrences(of: kate, with: sarah).write(to: copy, atomically: true, encoding: .utf8)
        try String(contentsOf: site.site, encoding: .utf8)
            .replacingOccurrences(of: DemoSite.root.appendingPathComponent("examples/members.ldif").path, with: copy.path)
            .write(to: site.site, atomically: true, encoding: .utf8)
        let run = try site.audit().run
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.contains("CN=Cllr Sarah Mills") && run.stderr.contains("CN=Cllr Kate Ward"), run.stderr)
        let history = try site.run(["history"], ["--format", "json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: history.stdout) as? [Any])?.count, 0, "nothing recorded: \(history.stdoutText)")
    }
}

/// Secrets and limits of the process itself.
final class ProcessHardeningTests: XCTestCase {
    func testSSLKEYLOGFILEIsIgnoredUnlessAskedFor() throws {
        let fixtures = try Fixtures.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keylog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["check-domain", "good.test", "--resolver", fixtures.resolverURL, "--ca-file", fixtures.caFile, "--no-tenant-discovery"]
        let quiet = folder.appendingPathComponent("quiet.keys")
        XCTAssertEqual(try CommandRun.mailaudit(arguments, environment: ["SSLKEYLOGFILE": quiet.path]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: quiet.path), "a stray SSLKEYLOGFILE writes no session keys")
        let asked = folder.appendingPathComponent("asked.keys")
        let run = try CommandRun.mailaudit(["--debug-tls-keylog"] + arguments, environment: ["SSLKEYLOGFILE": asked.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("TLS session keys are written"), "said out loud: \(run.stderr)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: asked.path))
    }

    /// A resolver that answers nothing is given up on, and said so, instead of every remaining
    /// question waiting for its own time-out.
    func testAResolverThatAnswersNothingIsGivenUpOn() async throws {
        let fixtures = try Fixtures.load()
        guard !fixtures.faultyResolverURL.isEmpty else { throw XCTSkip("faulty-doh is not running") }
        try "*.test timeout\n".write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8)
        defer { try? "".write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8) }
        var configuration = DoHConfiguration(url: fixtures.faultyResolverURL, caFile: fixtures.caFile)
        configuration.timeout = .milliseconds(300)
        configuration.retries = 0
        configuration.giveUpAfter = 4
        configuration.giveUpSilence = .zero
        let client = CurlClient()
        defer { client.shutdown() }
        let resolver = DoHResolver(configuration: configuration, client: client)
        let started = ContinuousClock.now
        var answers: [DNSLookup] = []
        for index in 0..<20 { answers.append(await resolver.lookup("name\(index).test", .txt)) }
        XCTAssertTrue(answers.allSatisfy(\.isError), "never an answer invented")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4), "the last 16 questions were not each waited for")
        let statistics = await resolver.statistics
        XCTAssertNotNil(statistics.gaveUp)
        XCTAssertEqual(statistics.notAskedAfterGivingUp, 16)
        XCTAssertTrue(answers.last?.statusText.contains("not asked") == true, answers.last?.statusText ?? "")
    }
}
